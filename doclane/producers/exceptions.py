"""Why an upload was refused."""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = ["NotRetryable", "UploadError", "UploadTooLarge"]


class UploadError(DoclaneError):
    category = "upload"


class UploadTooLarge(UploadError):
    category = "too_large"


class NotRetryable(DoclaneError):
    """Only a failed document can be retried."""

    category = "conflict"
