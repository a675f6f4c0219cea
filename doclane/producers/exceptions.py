"""Why an upload was refused."""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = ["UploadError", "UploadTooLarge"]


class UploadError(DoclaneError):
    category = "upload"


class UploadTooLarge(UploadError):
    category = "too_large"
