"""PDF extraction with PyMuPDF: text per page, sections from the outline or font sizes.

Headings come from the PDF outline (bookmarks) when it has one: each entry is
looked up on its page so the section starts exactly at its heading line. Without
an outline, lines set clearly larger than the body text are headings, the larger
the higher (:mod:`doclane.extraction._pdf_headings`). Only then is the slower ``"dict"``
extraction (with font sizes) used.

A section that runs over several pages keeps its text together; its page breaks
are kept in ``Section.text`` as form feeds (``"\\f"``), so that
``page_end - page_start == text.count("\\f")`` and the chunker can tell which
page any part of the text is on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymupdf

from doclane.extraction._pdf_headings import (
    FLAGS,
    Event,
    Heading,
    SizedLine,
    Text,
    events_from_fonts,
    pdf_title,
    sized_blocks,
)
from doclane.extraction._pdf_tables import (
    VECTOR_BLOCK,
    VECTOR_FLAGS,
    might_hold_table,
    page_tables,
    replace_cells,
)
from doclane.extraction.exceptions import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    ExtractionError,
)
from doclane.schemas.extraction import ExtractedDocument, Section

__all__ = ["PAGE_BREAK", "extract_pdf"]

CONTENT_TYPE = "application/pdf"
#: Separates pages inside ``Section.text``.
PAGE_BREAK = "\f"

_PDF_ERRORS = (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase)

# A multi-line outline heading is matched over at most this many lines.
_HEADING_MAX_LINES = 3

_WORD = re.compile(r"\w+")
_Line = tuple[int, str]  # (block number on the page, text)

_CORRUPT = (
    "This PDF is damaged and can't be opened. Open it in a PDF viewer and save or "
    "export it again, then upload the new copy."
)


def extract_pdf(path: Path) -> ExtractedDocument:
    """Read the PDF at ``path`` into sections with heading paths and page ranges.

    Raises EncryptedDocument when a password is needed, CorruptDocument when the
    file can't be parsed, and EmptyDocument when it has no extractable text (for
    instance a scan). A missing file raises the built-in FileNotFoundError.
    """
    doc = _open(path)
    try:
        return _extract(doc)
    except ExtractionError:
        raise
    except _PDF_ERRORS as exc:
        raise CorruptDocument(_CORRUPT) from exc
    finally:
        doc.close()


def _open(path: Path) -> pymupdf.Document:
    pymupdf.TOOLS.mupdf_warnings(reset=True)  # _no_text reads what this file made MuPDF say
    try:
        # Force the PDF parser: PyMuPDF would otherwise trust the file's extension.
        doc = pymupdf.open(path, filetype="pdf")
    except pymupdf.FileNotFoundError as exc:
        raise FileNotFoundError(str(path)) from exc
    except pymupdf.EmptyFileError as exc:
        raise EmptyDocument(
            "The file is empty. Check that you picked the right file and upload it again."
        ) from exc
    except _PDF_ERRORS as exc:
        raise CorruptDocument(_CORRUPT) from exc
    if doc.needs_pass:
        doc.close()
        raise EncryptedDocument(
            "This PDF is password-protected; remove the password and upload it again."
        )
    if doc.page_count == 0:
        doc.close()  # every valid PDF has a page; this one was only partly repaired
        raise CorruptDocument(_CORRUPT)
    return doc


def _extract(doc: pymupdf.Document) -> ExtractedDocument:
    outline = _outline(doc)
    pages: list[list[list[SizedLine]]] | None = None
    if outline:
        events = list(_events_from_outline(doc, outline))
    else:
        pages = [sized_blocks(page) for page in doc]
        events = events_from_fonts(pages)
    if not any(isinstance(event, Text) for event in events):
        raise _no_text(doc)
    return ExtractedDocument(
        content_type=CONTENT_TYPE,
        page_count=doc.page_count,
        sections=_assemble(events),
        title=pdf_title(doc, events, pages),
    )


#: What MuPDF says when it gave up on objects nested past its limits (a damaged file, or
#: one made to exhaust a reader): then the missing text is no sign of a scan.
_TOO_DEEP = ("stack overflow", "too deeply nested", "nesting")


def _no_text(doc: pymupdf.Document) -> EmptyDocument | CorruptDocument:
    warnings = pymupdf.TOOLS.mupdf_warnings().lower()
    if any(sign in warnings for sign in _TOO_DEEP):
        return CorruptDocument(
            "This PDF's objects are nested too deeply to be read safely; the file is damaged or "
            "was made to overload PDF readers. Open it in a PDF viewer, save or print it as a new "
            "PDF, and upload that."
        )
    if any(page.get_images() for page in doc):
        what = "This PDF contains only images, such as a scanned document, and no text we can read."
    else:
        what = "This PDF contains no text we can read; it may be a scanned document."
    return EmptyDocument(
        f"{what} Reading text from images (OCR) isn't supported yet; upload a PDF with "
        "selectable text instead."
    )


# --- headings from the outline -------------------------------------------------


def _outline(doc: pymupdf.Document) -> list[tuple[tuple[str, ...], int]]:
    """Outline entries as (heading path, 1-based page), in page order."""
    try:
        toc = doc.get_toc(simple=True)
    except _PDF_ERRORS:
        return []  # a broken outline is no reason to fail; fall back to font sizes
    stack: list[str] = []
    entries: list[tuple[tuple[str, ...], int]] = []
    for level, raw_title, page, *_ in toc:
        title = " ".join(str(raw_title).split())
        if not title:
            continue
        del stack[max(level - 1, 0) :]
        stack.append(title)
        if 1 <= page <= doc.page_count:
            entries.append((tuple(stack), page))
    entries.sort(key=lambda entry: entry[1])  # stable: outline order within a page
    return entries


def _events_from_outline(
    doc: pymupdf.Document, outline: list[tuple[tuple[str, ...], int]]
) -> Iterator[Event]:
    by_page: dict[int, list[tuple[str, ...]]] = {}
    for path, page in outline:
        by_page.setdefault(page, []).append(path)
    for number, page in enumerate(doc, start=1):
        lines = [
            (block_no, line.strip())
            for block_no, block in enumerate(_text_blocks(page))
            for line in block[4].split("\n")
            if line.strip()
        ]
        cursor = 0
        norms: dict[int, str] = {}
        for path in by_page.get(number, []):
            start, end = _find_heading(lines, norms, path[-1], cursor)
            yield from _blocks(lines[cursor:start], number)
            yield Heading(path, number)
            cursor = end
        yield from _blocks(lines[cursor:], number)


def _text_blocks(page: pymupdf.Page) -> list[tuple[Any, ...]]:
    """A page's text blocks (``"blocks"`` tuples), a table's cells replaced by its rows."""
    raw = page.get_text("blocks", flags=FLAGS | VECTOR_FLAGS)
    text = [block for block in raw if block[6] == 0]
    if not might_hold_table([block[:4] for block in raw if block[6] == VECTOR_BLOCK]):
        return text
    return replace_cells(
        page_tables(page),
        [(block[:4], block) for block in text],
        lambda table, _: (*table.bbox, table.text, -1, 0),
    )


def _find_heading(
    lines: list[_Line], norms: dict[int, str], title: str, start: int
) -> tuple[int, int]:
    """The span of lines from ``start`` on that read as ``title``; empty if none do.

    ``norms`` caches normalised lines between the headings of one page.
    """
    target = _norm(title)
    # Numbering and punctuation aside, a heading line is about as long as its title.
    longest = len(title) + 16
    for i in range(start, len(lines) if target else start):
        if len(lines[i][1]) > longest:
            continue
        norm = norms.get(i)
        if norm is None:
            norm = norms[i] = _norm(lines[i][1])
        if norm == target:
            return i, i + 1
        if not norm or not target.startswith(norm):
            continue
        joined = lines[i][1]
        for j in range(i + 1, min(i + _HEADING_MAX_LINES, len(lines))):
            if lines[j][0] != lines[i][0]:
                break
            joined += " " + lines[j][1]
            if _norm(joined) == target:
                return i, j + 1
    # Not found (e.g. the heading is drawn as an image): the section starts here.
    return start, start


def _norm(text: str) -> str:
    """Words of ``text``, case-folded, without leading numbering ("1.2", "3.")."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    skip = 0
    while skip < len(words) - 1 and words[skip].isdigit():
        skip += 1
    return " ".join(words[skip:])


def _blocks(lines: list[_Line], page: int) -> Iterator[Text]:
    current: list[str] = []
    block_no = -1
    for number, text in lines:
        if number != block_no and current:
            yield Text("\n".join(current), page)
            current = []
        block_no = number
        current.append(text)
    if current:
        yield Text("\n".join(current), page)


# --- sections ------------------------------------------------------------------


def _assemble(events: list[Event]) -> list[Section]:
    """Turn the event stream into sections, joining pages with PAGE_BREAK."""
    sections: list[Section] = []
    heading_only: list[Section] = []
    path: tuple[str, ...] = ()
    start = page = 1
    parts: list[str] = []

    def flush() -> None:
        text = "".join(parts)
        if text.strip():
            sections.append(
                Section(heading_path=list(path), page_start=start, page_end=page, text=text)
            )
        elif path:
            heading_only.append(
                Section(heading_path=list(path), page_start=start, page_end=start, text=path[-1])
            )

    for event in events:
        if isinstance(event, Heading):
            flush()
            path, start, page, parts = event.path, event.page, event.page, []
            continue
        if not parts and not path:
            start = page = event.page  # text before any heading starts where it is
        if event.page > page:
            parts.append(PAGE_BREAK * (event.page - page))
            page = event.page
        elif parts:
            parts.append("\n\n")
        parts.append(event.text)
    flush()
    # A document of nothing but headings: the headings are its text.
    return sections or heading_only
