"""Why an upload was refused."""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = [
    "InvalidUploadRequest", "NotRetryable", "OffsetMismatch", "OpenUploadsExceeded", "StorageFull",
    "UploadBusy", "UploadError", "UploadExpired", "UploadNotFound", "UploadTooLarge",
]


class UploadError(DoclaneError):
    category = "upload"


class UploadTooLarge(UploadError):
    category = "too_large"


class StorageFull(UploadError):
    """The data directory has no room for the file; nothing of it was kept."""

    category = "storage_full"
    retryable = True


class NotRetryable(DoclaneError):
    """Only a failed document can be retried."""

    category = "conflict"


# --- resumable uploads (tus) ---


class InvalidUploadRequest(UploadError):
    """A tus request with a missing or malformed header; the reason names it."""

    category = "invalid_request"


class UploadNotFound(UploadError):
    """No resumable upload of this user with this id (another user's answers the same)."""

    category = "not_found"


class UploadExpired(UploadError):
    """The resumable upload was left unfinished too long and was removed."""

    category = "expired"


class OffsetMismatch(UploadError):
    """A PATCH's ``Upload-Offset`` is not the number of bytes the server holds."""

    category = "conflict"


class UploadBusy(UploadError):
    """Another request is writing to the same upload."""

    category = "locked"
    retryable = True


class OpenUploadsExceeded(UploadError):
    """The user has as many unfinished resumable uploads open as allowed."""

    category = "throttled"
    retryable = True
