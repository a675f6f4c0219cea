"""Word (DOCX) with python-docx: headings, paragraphs, lists and tables in document order.

A paragraph is a heading when its style is ``Title`` (level 0, as python-docx's
``add_heading(level=0)`` writes it) or ``Heading 1``..``Heading 9``, directly or
through the style it is based on, or when it (or its style) has an outline
level (``w:outlineLvl``, what Word's navigation pane uses). Body paragraphs and
tables are read in the order they appear, including those inside content
controls (``w:sdt``); headers, footers, footnotes and comments are left out.
A table becomes one line per row with cells separated by ``" | "``; a table
inside a cell (as forms have) stays in its cell, its rows separated by ``"; "``.

DOCX has no fixed pages (they depend on the printer and fonts), so pages are
counted from hard page breaks only: a section's page range says which
hard-broken pages it spans, and a document without any is one page.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from doclane.extraction._office import check_office_file
from doclane.extraction._sections import SectionBuilder, clean_inline, table_text
from doclane.extraction.exceptions import CorruptDocument, EmptyDocument, UnsupportedFileType
from doclane.schemas.extraction import ExtractedDocument

__all__ = ["CONTENT_TYPE", "extract_docx"]

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_HEADING_STYLE = re.compile(r"^heading ([1-9])$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"^list", re.IGNORECASE)
_BODY_LEVEL = 9  # outlineLvl 9 means "body text"
_MAX_STYLE_DEPTH = 10  # styles based on styles: a cycle must not hang us
_MAX_TABLE_DEPTH = 16  # tables in cells of tables: deeper ones are no real form
_P, _TBL, _SDT, _SDT_CONTENT = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
_T, _BR, _TYPE = qn("w:t"), qn("w:br"), qn("w:type")
_OUTLINE, _PPR, _VAL, _NUMPR = qn("w:outlineLvl"), qn("w:pPr"), qn("w:val"), qn("w:numPr")

_CORRUPT = (
    "This Word document is damaged and can't be opened. Open it in Word, save it "
    "again as .docx, then upload the new copy."
)
# lxml's XMLSyntaxError is a SyntaxError: malformed XML inside the package.
_PARSE_ERRORS = (KeyError, PackageNotFoundError, SyntaxError, zipfile.BadZipFile, IndexError)


def extract_docx(path: Path) -> ExtractedDocument:
    """Read the Word document at ``path`` into sections with heading paths.

    Raises SuspiciousArchive, MacroDocument or EncryptedDocument before parsing
    an unsafe or locked file, CorruptDocument for a damaged one, and
    EmptyDocument when it holds no text.
    """
    kind = check_office_file(path)
    if kind != "docx":
        raise UnsupportedFileType(
            "This file isn't a Word document, although it was sent to the Word reader. "
            "Upload it again so its type is detected from its content."
        )
    try:
        document = docx.Document(str(path))
    except ValueError as exc:  # a template or another package type with a word/ folder
        raise UnsupportedFileType(
            "This Word file isn't a regular document (it may be a template). Save it "
            "as a .docx document and upload that."
        ) from exc
    except _PARSE_ERRORS as exc:
        raise CorruptDocument(_CORRUPT) from exc
    try:
        return _read(document)
    except _PARSE_ERRORS as exc:
        raise CorruptDocument(_CORRUPT) from exc


def _read(document: Any) -> ExtractedDocument:
    builder = SectionBuilder()
    styled_title: str | None = None
    pending_list: list[str] = []
    parent = document._body  # the owner python-docx expects for body paragraphs and tables

    def flush_list() -> None:
        if pending_list:
            builder.text("\n".join(pending_list))
            pending_list.clear()

    for element in _blocks(document.element.body):
        if element.tag == _TBL:
            flush_list()
            builder.text(table_text(_rows(Table(element, parent))))
            continue
        paragraph = Paragraph(element, parent)
        before, after = _page_breaks(element)
        if before:
            flush_list()
            builder.new_page(builder.page + before)
        text = clean_inline(paragraph.text)
        level = _heading_level(paragraph)
        if text and level is not None:
            flush_list()
            if level == 0 and styled_title is None:
                styled_title = " ".join(text.split())
            builder.heading(level, text)
        elif text and _is_list_item(paragraph):
            pending_list.append(f"- {text}")
        elif text:
            flush_list()
            builder.text(text)
        if after:
            flush_list()
            builder.new_page(builder.page + after)
    flush_list()
    sections = builder.build()
    if not sections:
        raise EmptyDocument(
            "This Word document contains no text we can read (it may hold only images). "
            "Check that you picked the right file and upload it again."
        )
    core_title = " ".join((document.core_properties.title or "").split())
    return ExtractedDocument(
        content_type=CONTENT_TYPE,
        page_count=max(section.page_end for section in sections),
        sections=sections,
        title=core_title or styled_title or builder.first_heading,
    )


def _blocks(body: Any) -> Iterator[Any]:
    """Paragraph and table elements of the body in order, looking inside content controls."""
    stack = [iter(body)]
    while stack:
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
        elif element.tag in (_P, _TBL):
            yield element
        elif element.tag == _SDT:
            content = element.find(_SDT_CONTENT)
            if content is not None:
                stack.append(iter(content))


def _rows(table: Table, depth: int = 0) -> Iterator[list[str]]:
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell is reported once per grid column
                continue
            previous = cell._tc
            cells.append(_cell_text(cell._tc, table._parent, depth))
        yield cells


def _cell_text(cell: Any, parent: Any, depth: int) -> str:
    """A cell's paragraphs and the tables inside it (forms nest them), in order, on one line.

    python-docx's ``cell.text`` reads only the cell's own paragraphs. A nested table's
    rows are separated by ``"; "``, so the outer row stays one line.
    """
    parts = []
    for element in _blocks(cell):
        if element.tag == _P:
            parts.append(Paragraph(element, parent).text)
        elif depth < _MAX_TABLE_DEPTH:
            parts.append(table_text(_rows(Table(element, parent), depth + 1)).replace("\n", "; "))
    return " ".join(part for part in parts if part.strip())


def _page_breaks(element: Any) -> tuple[int, int]:
    """Hard page breaks in a paragraph: (before its first text, after it)."""
    before = after = 0
    seen_text = False
    for node in element.iter(_T, _BR):
        if node.tag == _T:
            seen_text = seen_text or bool((node.text or "").strip())
        elif node.get(_TYPE) == "page":
            if seen_text:
                after += 1
            else:
                before += 1
    return before, after


def _heading_level(paragraph: Paragraph) -> int | None:
    """0 for a title, 1-9 for headings, None for body text."""
    own = _outline_level(paragraph._p.find(_PPR))
    if own is not None:
        return own
    style: Any = paragraph.style
    for _ in range(_MAX_STYLE_DEPTH):
        if style is None:
            return None
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        level = _outline_level(style.element.find(_PPR))
        if level is not None:
            return level
        style = style.base_style
    return None


def _outline_level(ppr: Any) -> int | None:
    if ppr is None:
        return None
    outline = ppr.find(_OUTLINE)
    if outline is None:
        return None
    try:
        level = int(outline.get(_VAL, ""))
    except ValueError:
        return None
    return level + 1 if 0 <= level < _BODY_LEVEL else None


def _is_list_item(paragraph: Paragraph) -> bool:
    ppr = paragraph._p.find(_PPR)
    if ppr is not None and ppr.find(_NUMPR) is not None:
        return True
    style = paragraph.style
    return style is not None and bool(_LIST_STYLE.match(style.name or ""))
