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
    "DocumentTooComplex",
    "EmptyDocument",
    "EncryptedDocument",
    "ExtractionError",
    "MacroDocument",
    "SuspiciousArchive",
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
    default_reason = (
        "This type of file isn't supported. Upload a PDF, Word (DOCX), PowerPoint (PPTX), "
        "JSON, Markdown, HTML or plain-text file instead."
    )


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
    default_reason = (
        "This document is password-protected; remove the password and upload it again."
    )


class EmptyDocument(ExtractionError):
    """The file holds no text: empty, blank, or only images (e.g. a scan)."""

    category = "no_text"
    default_reason = (
        "This document contains no text we can read. Check that you picked the "
        "right file and upload it again."
    )


class SuspiciousArchive(ExtractionError):
    """A ZIP-based document (DOCX, PPTX) whose archive is built to exhaust the reader.

    A "zip bomb" (a small file that unpacks to gigabytes) or an archive with
    far more parts than any real document has.
    """

    category = "unsafe_archive"
    default_reason = (
        "This file unpacks to far more data than a real document would, so we refused "
        "it for safety. If it is a genuine document, save it again from its application "
        "and upload the new copy."
    )


class MacroDocument(ExtractionError):
    """An Office document that carries macros (VBA), which we never open."""

    category = "macros"
    default_reason = (
        "This Office document contains macros, which we don't accept for safety. Save "
        "it as a regular .docx or .pptx file (without macros) and upload that copy."
    )


class DocumentTooComplex(ExtractionError):
    """A document whose structure is too deep or too large to be read safely."""

    category = "too_complex"
    default_reason = (
        "This document is nested too deeply or holds too many items to be read. "
        "Split it into smaller files and upload them."
    )
