"""Decide a file's type from its content; the name only breaks ties between text formats.

The rules, in order:

1. ``%PDF-`` in the first 1024 bytes: PDF. A ``.pdf`` that isn't one is refused.
2. A ZIP (``PK\\x03\\x04``): an Office document when it has ``[Content_Types].xml``,
   DOCX with a ``word/`` folder, PPTX with a ``ppt/`` folder, whatever the name
   says (a PPTX named ``.docx`` is a PPTX). With the stored file at hand the
   archive is also checked for zip bombs and macros (see ``_office``). Any other
   ZIP is refused, and so is a ``.docx``/``.pptx`` whose content isn't one.
3. An OLE file (``D0CF11E0``): a password-protected Office document (refused as
   encrypted) or an old ``.doc``/``.ppt``/``.xls`` (refused as unsupported).
4. Text (see :func:`~doclane.extraction.text.decode_text`), then:
   - **JSON** when it starts with ``{`` or ``[`` and parses in full (tried for
     files up to 1 MiB), or, for bigger files, is named ``.json`` or starts like
     a JSON object or array of values (``{"``, ``[{``, ``[[``, ``["``). A
     ``.json`` that isn't valid JSON is refused, saying where it breaks.
   - **HTML** when it starts with ``<`` and has ``<!doctype html``, ``<html``,
     ``<head`` or ``<body``, or is named ``.html``/``.htm`` and has a tag.
   - **Markdown** when named ``.md``/``.markdown``, or with strong markers: an
     ATX heading (``# Title``) plus a fenced code block, a link
     (``[text](url)``), a list item or a table delimiter row.
   - otherwise plain text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePath

from doclane.extraction._office import OLE_MAGIC, check_office_file, kind_from_names, names_in_head, ole_error
from doclane.extraction.exceptions import CorruptDocument, EmptyDocument, UnsupportedFileType
from doclane.extraction.text import decode_text

__all__ = [
    "DOCX",
    "HTML",
    "JSON",
    "MARKDOWN",
    "PDF",
    "PPTX",
    "SNIFF_BYTES",
    "SUPPORTED_CONTENT_TYPES",
    "TEXT",
    "sniff_content_type",
]

PDF = "application/pdf"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
JSON = "application/json"
MARKDOWN = "text/markdown"
HTML = "text/html"
#: Content types :func:`sniff_content_type` returns and ``extract`` reads.
SUPPORTED_CONTENT_TYPES: frozenset[str] = frozenset({PDF, TEXT, DOCX, PPTX, JSON, MARKDOWN, HTML})
#: How much of the start of a file :func:`sniff_content_type` wants in ``head``.
SNIFF_BYTES = 8192

_PDF_MAGIC = b"%PDF-"
# PDF readers accept the header anywhere in the first 1024 bytes.
_PDF_MAGIC_WINDOW = 1024
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_ACCEPTED = (
    "Upload a Word (DOCX), PowerPoint (PPTX), HTML, Markdown or JSON document, a PDF "
    "or a plain-text file instead."
)
_OFFICE_SUFFIXES = {
    ".docx": "a Word document", ".docm": "a Word document", ".dotx": "a Word document",
    ".pptx": "a PowerPoint presentation", ".pptm": "a PowerPoint presentation",
    ".ppsx": "a PowerPoint presentation", ".potx": "a PowerPoint presentation",
}
_JSON_PARSE_MAX_BYTES = 1024 * 1024
_JSON_START = re.compile(r'\A\s*(?:\{\s*["}]|\[\s*[\[{"\]])')
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_HTML_MARKERS = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[a-zA-Z][a-zA-Z0-9]*[\s/>]")
_MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn"})
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_MARKDOWN_MARKERS = re.compile(
    r"^ {0,3}(?:```|~~~)"  # a fence
    r"|\[[^\]\n]+\]\([^)\s]+\)"  # an inline link
    r"|^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S"  # a list item
    r"|^ {0,3}\|?[ \t]*:?-{3,}:?[ \t]*\|",  # a table delimiter row
    re.MULTILINE,
)

# Only used to name what was uploaded when it has already been found not to be text.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
)


def sniff_content_type(head: bytes, filename: str, *, path: Path | None = None) -> str:
    """Return the content type of a file from its content, one of SUPPORTED_CONTENT_TYPES.

    ``head`` is the first :data:`SNIFF_BYTES` bytes of the file (or all of it
    when shorter). ``path``, when the file is already stored, lets the sniffer
    look further where the head isn't enough: a ZIP's directory (to tell DOCX
    from PPTX and refuse zip bombs and macros before anything is queued), an
    OLE file's streams (to recognise an encrypted Office file), and a small
    JSON file in full. The content decides, not the extension: a PDF named
    ``.txt`` is a PDF, and a ``.pdf`` or ``.docx`` that isn't one is refused.

    Raises EmptyDocument for an empty file, UnsupportedFileType for anything
    we don't read, and for Office files EncryptedDocument, MacroDocument,
    SuspiciousArchive or CorruptDocument.
    """
    if not head:
        raise EmptyDocument(
            "The file is empty. Check that you picked the right file and upload it again."
        )
    suffix = PurePath(filename).suffix.lower()
    if _PDF_MAGIC in head[:_PDF_MAGIC_WINDOW]:
        return PDF
    if suffix == ".pdf":
        raise UnsupportedFileType(
            "This file is named like a PDF, but its content isn't a PDF. It may be "
            "damaged or renamed from another format; export it as a PDF again and "
            "upload it."
        )
    if head.startswith(_ZIP_MAGICS):
        return _zip_type(head, suffix, path)
    if head.startswith(OLE_MAGIC):
        raise ole_error(path.read_bytes() if path is not None else head)
    if suffix in _OFFICE_SUFFIXES:
        raise UnsupportedFileType(
            f"This file is named like {_OFFICE_SUFFIXES[suffix]}, but its content isn't "
            "one. It may be damaged or renamed from another format; save it again from "
            "its application and upload it."
        )
    decoded = decode_text(head, final=False)
    if decoded is None:
        raise UnsupportedFileType(_binary_reason(head))
    return _text_type(decoded[0], head, suffix, path)


def _zip_type(head: bytes, suffix: str, path: Path | None) -> str:
    kind = check_office_file(path) if path is not None else kind_from_names(names_in_head(head))
    if kind == "docx":
        return DOCX
    if kind == "pptx":
        return PPTX
    if kind == "xlsx":
        raise UnsupportedFileType(
            "This file is an Excel spreadsheet (XLSX), which isn't supported yet. Export "
            f"it as a PDF and upload that, or {_ACCEPTED[0].lower()}{_ACCEPTED[1:]}"
        )
    if suffix in _OFFICE_SUFFIXES:
        raise UnsupportedFileType(
            f"This file is named like {_OFFICE_SUFFIXES[suffix]}, but it is a ZIP archive "
            "that isn't one. It may be damaged or renamed; save it again from its "
            "application and upload it."
        )
    raise UnsupportedFileType(
        "This file looks like a ZIP archive, which isn't supported. Unpack it and upload "
        f"the documents inside. {_ACCEPTED}"
    )


def _text_type(text: str, head: bytes, suffix: str, path: Path | None) -> str:
    start = text.lstrip("\ufeff \t\r\n")
    if start[:1] in ("{", "[") or suffix == ".json":
        verdict = _json_verdict(start, head, suffix, path)
        if verdict is not None:
            return verdict
    if start.startswith("<") and _HTML_MARKERS.search(text):
        return HTML
    if suffix in _HTML_SUFFIXES and _ANY_TAG.search(text):
        return HTML
    if suffix in _MARKDOWN_SUFFIXES:
        return MARKDOWN
    if _ATX_HEADING.search(text) and _MARKDOWN_MARKERS.search(text):
        return MARKDOWN
    return TEXT


def _json_verdict(start: str, head: bytes, suffix: str, path: Path | None) -> str | None:
    """JSON, None for "not JSON, go on", or raise for a ``.json`` that isn't valid."""
    whole = _whole_file(head, path)
    if whole is not None:
        decoded = decode_text(whole)
        try:
            json.loads(decoded[0].lstrip("\ufeff") if decoded else "")
        except RecursionError:
            return JSON  # nested brackets all the way down: the reader explains the limit
        except ValueError as exc:
            if suffix == ".json":
                where = (
                    f" ({exc.msg} at line {exc.lineno}, column {exc.colno})"
                    if isinstance(exc, json.JSONDecodeError)
                    else ""
                )
                raise CorruptDocument(
                    f"This file is named like JSON, but it isn't valid JSON{where}. Fix "
                    "it (a JSON validator shows where) and upload it again."
                ) from exc
            return None
        return JSON
    if suffix == ".json" or _JSON_START.match(start):
        return JSON  # too big to parse here; the reader says where it breaks, if it does
    return None


def _whole_file(head: bytes, path: Path | None) -> bytes | None:
    """The file's bytes if small enough to parse while sniffing, else None."""
    if path is None:
        return head if len(head) < SNIFF_BYTES else None
    size = path.stat().st_size
    if size <= len(head):
        return head
    return path.read_bytes() if size <= _JSON_PARSE_MAX_BYTES else None


def _binary_reason(head: bytes) -> str:
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return f"This file looks like {what}, which isn't supported. {_ACCEPTED}"
    return f"This file isn't a document we can read. {_ACCEPTED}"
