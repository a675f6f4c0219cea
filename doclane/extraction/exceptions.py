"""Why a document could not be read.

Every error carries a ``reason`` written for the person who uploaded the file:
what is wrong with it and what to do next. None of them is ``retryable``: the
same bytes fail the same way every time.
"""

from __future__ import annotations

from typing import ClassVar

from doclane.exceptions import DoclaneError

__all__ = [
    "CorruptDocument",
    "EmptyDocument",
    "EncryptedDocument",
    "ExtractionError",
    "UnsupportedFileType",
]


class ExtractionError(DoclaneError):
    """A document's content could not be turned into text."""

    category = "extraction_failed"
    retryable = False
    #: Used when no more specific reason is given.
    default_reason: ClassVar[str] = (
        "We couldn't read this document. Check the file and upload it again."
    )

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or self.default_reason)


class UnsupportedFileType(ExtractionError):
    """The content is not one of the formats doclane reads."""

    category = "unsupported_type"
    default_reason = "This type of file isn't supported. Upload a PDF or a plain-text file instead."


class CorruptDocument(ExtractionError):
    """The file claims a supported format but is damaged or malformed."""

    category = "corrupt"
    default_reason = (
        "This file is damaged and can't be opened. Save or export it again, "
        "then upload the new copy."
    )


class EncryptedDocument(ExtractionError):
    """The file needs a password before it can be read."""

    category = "encrypted"
    default_reason = "This PDF is password-protected; remove the password and upload it again."


class EmptyDocument(ExtractionError):
    """The file holds no text: empty, blank, or only images (e.g. a scan)."""

    category = "no_text"
    default_reason = (
        "This document contains no text we can read. Check that you picked the "
        "right file and upload it again."
    )
