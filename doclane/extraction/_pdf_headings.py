"""Headings and the title of a PDF without an outline, from font sizes.

Lines set clearly larger than the body text are headings, the larger the higher; large
lines repeated at the top or bottom of many pages are running headers, not headings. The
title is the metadata title, else the first page's largest line(s), else the first heading.
Used by :mod:`doclane.extraction.pdf`, which also shares the event types defined here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pymupdf

from doclane.extraction._pdf_tables import (
    VECTOR_BLOCK,
    VECTOR_FLAGS,
    PageTable,
    might_hold_table,
    page_tables,
    replace_cells,
)

__all__ = ["FLAGS", "Event", "Heading", "SizedLine", "Text", "events_from_fonts", "pdf_title", "sized_blocks"]

# Whitespace kept, text outside the page dropped, images and ligatures not kept
# ("ﬁ" comes out as "fi", which is what analysis and search want).
FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP

# A line is a heading when its size is at least this much above the body size...
_HEADING_MIN_RATIO = 1.15
_HEADING_MIN_POINTS = 1.0
# ...and it is short, like a heading rather than a pull quote.
_HEADING_MAX_CHARS = 150
_MAX_LEVELS = 6
# A large line that opens or closes this share of pages is a running header/footer.
_RUNNING_MIN_PAGES = 3
_RUNNING_MIN_SHARE = 0.3
_JUNK_TITLE = re.compile(
    r"^(untitled.*|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|odt|rtf|pptx?|txt))$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Heading:
    path: tuple[str, ...]
    page: int  # 1-based


@dataclass(frozen=True, slots=True)
class Text:
    text: str  # one block (paragraph), lines joined by newlines
    page: int  # 1-based


Event = Heading | Text
SizedLine = tuple[str, float]  # (text, dominant font size)


# --- headings from font sizes --------------------------------------------------


def sized_blocks(page: pymupdf.Page) -> list[list[SizedLine]]:
    """A page's text blocks as lines of (text, size of most of its characters)."""
    boxed: list[tuple[tuple[float, float, float, float], list[SizedLine]]] = []
    raw = page.get_text("dict", flags=FLAGS | VECTOR_FLAGS)["blocks"]
    for block in raw:
        lines: list[SizedLine] = []
        for line in block.get("lines", ()):
            spans = line["spans"]
            text = "".join(span["text"] for span in spans).strip()
            if not text:
                continue
            # A line's size is its longest span's: a bold word or a footnote mark
            # set in another size doesn't change what the line is.
            longest = spans[0] if len(spans) == 1 else max(spans, key=lambda s: len(s["text"]))
            lines.append((text, round(longest["size"] * 2) / 2))
        if lines:
            boxed.append((tuple(block["bbox"]), lines))
    if not might_hold_table([tuple(b["bbox"]) for b in raw if b["type"] == VECTOR_BLOCK]):
        return [lines for _, lines in boxed]
    return replace_cells(page_tables(page), boxed, _table_lines)


def _table_lines(table: PageTable, covered: list[list[SizedLine]]) -> list[SizedLine]:
    """A table's rows as lines, in the size of its cells' text (tables aren't headings)."""
    size = _body_size(line for block in covered for line in block)
    return [(row, size) for row in table.text.split("\n")]


def _body_size(lines: Iterable[SizedLine]) -> float:
    """The font size of most characters."""
    weights: Counter[float] = Counter()
    for text, size in lines:
        weights[size] += len(text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _heading_threshold(body: float) -> float:
    return max(body * _HEADING_MIN_RATIO, body + _HEADING_MIN_POINTS)


def events_from_fonts(pages: list[list[list[SizedLine]]]) -> list[Event]:
    """Events for pages of sized lines: lines clearly larger than the body are headings."""
    body = _body_size(line for blocks in pages for block in blocks for line in block)
    threshold = _heading_threshold(body)
    running = _running_lines(pages, threshold)

    def is_heading(line: SizedLine) -> bool:
        text, size = line
        return (
            size >= threshold
            and len(text) <= _HEADING_MAX_CHARS
            and line not in running
            and any(c.isalpha() for c in text)
        )

    # First pass: split blocks into body text and headings (with their size).
    items: list[tuple[int, str, float | None]] = []  # (page, text, size if heading)
    for number, blocks in enumerate(pages, start=1):
        for block in blocks:
            body_lines: list[str] = []
            i = 0
            while i < len(block):
                if not is_heading(block[i]):
                    body_lines.append(block[i][0])
                    i += 1
                    continue
                # Consecutive lines of one size in one block are one wrapped heading.
                j = i + 1
                while j < len(block) and block[j][1] == block[i][1] and is_heading(block[j]):
                    j += 1
                title = " ".join(text for text, _ in block[i:j])
                if len(title) > _HEADING_MAX_CHARS:
                    body_lines.extend(text for text, _ in block[i:j])
                else:
                    if body_lines:
                        items.append((number, "\n".join(body_lines), None))
                        body_lines = []
                    items.append((number, title, block[i][1]))
                i = j
            if body_lines:
                items.append((number, "\n".join(body_lines), None))

    # Second pass: the larger the size, the higher the level.
    sizes = sorted({size for _, _, size in items if size is not None}, reverse=True)
    level_of = {size: min(rank, _MAX_LEVELS) for rank, size in enumerate(sizes, start=1)}
    stack: list[tuple[int, str]] = []
    events: list[Event] = []
    for number, text, heading_size in items:
        if heading_size is None:
            events.append(Text(text, number))
            continue
        level = level_of[heading_size]
        stack = [entry for entry in stack if entry[0] < level] + [(level, text)]
        events.append(Heading(tuple(title for _, title in stack), number))
    return events


def _running_lines(pages: list[list[list[SizedLine]]], threshold: float) -> set[SizedLine]:
    """Large lines repeated at the top or bottom of many pages (running headers)."""
    counts: Counter[SizedLine] = Counter()
    for blocks in pages:
        if blocks:
            edges = {blocks[0][0], blocks[-1][-1]}
            counts.update(line for line in edges if line[1] >= threshold)
    minimum = max(_RUNNING_MIN_PAGES, _RUNNING_MIN_SHARE * len(pages))
    return {line for line, count in counts.items() if count >= minimum}


# --- title ---------------------------------------------------------------------


def pdf_title(
    doc: pymupdf.Document, events: list[Event], pages: list[list[list[SizedLine]]] | None
) -> str | None:
    """The metadata title, else the first page's largest line(s), else the first heading."""
    title = " ".join(str((doc.metadata or {}).get("title") or "").split())
    if title and not _JUNK_TITLE.match(title):
        return title
    if pages is None:  # outline path: font sizes are needed for the first pages only
        pages = [sized_blocks(page) for page in doc.pages(0, min(doc.page_count, 3))]
    first = next((blocks for blocks in pages if blocks), [])
    return _title_from_lines([line for block in first for line in block]) or next(
        (event.path[-1] for event in events if isinstance(event, Heading)), None
    )


def _title_from_lines(lines: list[SizedLine]) -> str | None:
    """The largest line(s) of a page, when clearly larger than its body text."""
    if not lines:
        return None
    largest = max(size for _, size in lines)
    if largest < _heading_threshold(_body_size(lines)):
        return None
    first = next(i for i, (_, size) in enumerate(lines) if size == largest)
    parts = []
    for text, size in lines[first:]:
        if size != largest:
            break
        parts.append(text)
    title = " ".join(parts)
    return title if len(title) <= _HEADING_MAX_CHARS else None
