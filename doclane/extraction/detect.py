"""Decide a file's type from its first bytes; the name only sharpens the error message."""

from __future__ import annotations

from pathlib import PurePath

from doclane.extraction.exceptions import EmptyDocument, UnsupportedFileType
from doclane.extraction.text import decode_text

__all__ = ["PDF", "SUPPORTED_CONTENT_TYPES", "TEXT", "sniff_content_type"]

PDF = "application/pdf"
TEXT = "text/plain"
#: Content types :func:`sniff_content_type` returns and ``extract`` reads.
SUPPORTED_CONTENT_TYPES: frozenset[str] = frozenset({PDF, TEXT})

_PDF_MAGIC = b"%PDF-"
# PDF readers accept the header anywhere in the first 1024 bytes.
_PDF_MAGIC_WINDOW = 1024
_ACCEPTED = "Upload a PDF or a plain-text file instead."

# Only used to name what was uploaded when it has already been found not to be text.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive or an Office document (such as DOCX)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office document (such as DOC)"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
)


def sniff_content_type(head: bytes, filename: str) -> str:
    """Return ``"application/pdf"`` or ``"text/plain"`` for a file's first bytes.

    ``head`` is the first (up to 8 KiB) bytes of the file. The content decides,
    not the extension: a PDF named ``.txt`` is a PDF, and a ``.pdf`` that isn't
    one is rejected. Raises EmptyDocument for an empty file and
    UnsupportedFileType for anything else that isn't a PDF or readable text.
    """
    if not head:
        raise EmptyDocument(
            "The file is empty. Check that you picked the right file and upload it again."
        )
    if _PDF_MAGIC in head[:_PDF_MAGIC_WINDOW]:
        return PDF
    if PurePath(filename).suffix.lower() == ".pdf":
        raise UnsupportedFileType(
            "This file is named like a PDF, but its content isn't a PDF. It may be "
            "damaged or renamed from another format; export it as a PDF again and "
            "upload it."
        )
    if decode_text(head, final=False) is not None:
        return TEXT
    raise UnsupportedFileType(_binary_reason(head))


def _binary_reason(head: bytes) -> str:
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return f"This file looks like {what}, which isn't supported. {_ACCEPTED}"
    return f"This file isn't a PDF or plain text, so we can't read it. {_ACCEPTED}"
