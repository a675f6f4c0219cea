"""Tables in PDFs: rows instead of loose cell words, found only where a table can be.

PyMuPDF's ``page.find_tables()`` costs tens to hundreds of milliseconds a page,
so it runs only on pages that look ruled like a table. The test is free: the
text extraction is asked to collect the page's vector graphics too
(:data:`VECTOR_FLAGS`), in the same pass, and a page is a candidate when it has
at least :data:`_MIN_HORIZONTAL` horizontal and :data:`_MIN_VERTICAL` vertical
rules (a rectangle counts as two of each). Text-only pages never pay for the
table search; tables drawn without any rules are not found (``find_tables``'
default strategy needs the rules too).

A found table (at least 2 rows and 2 columns) replaces the text blocks whose
centre lies inside it with one block of rows, cells separated by ``" | "``, at
the place of the first of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pymupdf

from doclane.extraction._sections import table_text

__all__ = ["VECTOR_BLOCK", "VECTOR_FLAGS", "PageTable", "might_hold_table", "page_tables", "replace_cells"]

logger = logging.getLogger(__name__)

#: Add to the text flags so vector graphics come back as blocks of type 3.
VECTOR_FLAGS = pymupdf.TEXT_COLLECT_VECTORS
VECTOR_BLOCK = 3

_Box = tuple[float, float, float, float]
_T = TypeVar("_T")

_RULE_MAX_THICKNESS = 3.0  # points: thicker is a filled area, not a rule
_MIN_RULE_LENGTH = 6.0
_MIN_HORIZONTAL = 3  # a header rule, a row separator and a bottom rule
_MIN_VERTICAL = 2
_MIN_ROWS = 2
_MIN_COLUMNS = 2
_TABLE_ERRORS = (RuntimeError, ValueError, IndexError, ZeroDivisionError, pymupdf.mupdf.FzErrorBase)

if hasattr(pymupdf, "no_recommend_layout"):
    pymupdf.no_recommend_layout()  # find_tables would print an advert to stdout once


@dataclass(frozen=True, slots=True)
class PageTable:
    """A table found on a page: where it is and its rows as text."""

    bbox: _Box
    text: str


def might_hold_table(vectors: Sequence[_Box]) -> bool:
    """Whether the vector graphics of a page (their bounding boxes) look like a ruled table."""
    horizontal = vertical = 0
    for x0, y0, x1, y1 in vectors:
        width, height = x1 - x0, y1 - y0
        if height <= _RULE_MAX_THICKNESS and width >= _MIN_RULE_LENGTH:
            horizontal += 1
        elif width <= _RULE_MAX_THICKNESS and height >= _MIN_RULE_LENGTH:
            vertical += 1
        elif width >= _MIN_RULE_LENGTH and height >= _MIN_RULE_LENGTH:
            horizontal += 2  # a rectangle: cell borders or shading
            vertical += 2
        if horizontal >= _MIN_HORIZONTAL and vertical >= _MIN_VERTICAL:
            return True
    return False


def page_tables(page: pymupdf.Page) -> list[PageTable]:
    """The tables PyMuPDF finds on ``page``, as text; none if the search fails."""
    try:
        found = page.find_tables()
        tables = []
        for table in found.tables:
            if table.row_count < _MIN_ROWS or table.col_count < _MIN_COLUMNS:
                continue
            rows = [[cell or "" for cell in row] for row in table.extract()]
            text = table_text(rows)
            if text:
                x0, y0, x1, y1 = table.bbox
                tables.append(PageTable((x0, y0, x1, y1), text))
        return tables
    except _TABLE_ERRORS:
        # A table search that trips over an odd page is no reason to lose the page's text.
        logger.warning("table search failed on page %d; keeping its plain text", page.number + 1)
        return []


def replace_cells(
    tables: Sequence[PageTable],
    items: Sequence[tuple[_Box, _T]],
    make: Callable[[PageTable, list[_T]], _T],
) -> list[_T]:
    """``items`` (text blocks with their boxes) with each table's cells replaced by the table.

    ``make(table, covered)`` builds the block that stands for ``table`` from the
    blocks it covers; it takes the place of the first of them.
    """
    if not tables:
        return [item for _, item in items]
    covered: dict[int, list[_T]] = {i: [] for i in range(len(tables))}
    first: dict[int, int] = {}
    owner: list[int | None] = []
    for position, (box, item) in enumerate(items):
        index = _table_at(tables, box)
        owner.append(index)
        if index is not None:
            covered[index].append(item)
            first.setdefault(index, position)
    out: list[_T] = []
    for position, (_, item) in enumerate(items):
        index = owner[position]
        if index is None:
            out.append(item)
        elif first[index] == position:
            out.append(make(tables[index], covered[index]))
    return out


def _table_at(tables: Sequence[PageTable], box: _Box) -> int | None:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for index, table in enumerate(tables):
        x0, y0, x1, y1 = table.bbox
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            return index
    return None

