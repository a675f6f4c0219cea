"""Why an upload was refused."""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = ["NotRetryable", "StorageFull", "UploadError", "UploadTooLarge"]


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
