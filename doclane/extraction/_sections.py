"""Shared by the structured readers: headings and blocks in, sections out.

Readers walk their format in reading order and report what they meet: a
heading at some level, a block of text (a paragraph, a list item, a table
rendered by :func:`table_text`), or a new page. :class:`SectionBuilder` keeps
the heading stack and groups consecutive blocks into one :class:`Section` per
heading path and page, so DOCX, PPTX, JSON, Markdown and HTML all come out in
the same shape as PDF and plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from doclane.schemas.extraction import Section

__all__ = ["CELL_SEPARATOR", "SectionBuilder", "clean_inline", "table_text"]

#: Between the cells of a table row in section text.
CELL_SEPARATOR = " | "
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Headings this long are paragraphs set in a heading style (it happens in Word).
_HEADING_MAX_CHARS = 300


def clean_inline(text: str) -> str:
    """Collapse runs of spaces and tabs, trim each line, drop blank lines at the ends."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def table_text(rows: Iterable[Sequence[str]]) -> str:
    """A table as text: one line per row, cells separated by ``" | "``.

    Rows with no text are dropped; a cell's own line breaks become spaces so a
    row stays one line.
    """
    lines = []
    for row in rows:
        cells = [" ".join(cell.split()) for cell in row]
        if any(cells):
            lines.append(CELL_SEPARATOR.join(cells))
    return "\n".join(lines)


class SectionBuilder:
    """Collects headings and text blocks in reading order and builds the sections.

    A heading at level ``n`` closes every open heading at level ``n`` or deeper.
    Blocks under one heading path are joined with blank lines; a page change
    inside a section is kept as form feeds, as the PDF reader does, so the
    chunker can tell which page any part of the text is on.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []
        self._sections: list[Section] = []
        self._headings: list[tuple[list[str], int]] = []
        self._parts: list[str] = []
        self._path: list[str] = []
        self._start = self._page = self._current_page = 1

    @property
    def page(self) -> int:
        """The page that blocks added now are on."""
        return self._current_page

    def new_page(self, number: int) -> None:
        """Blocks added from now on are on page ``number`` (1-based, never going back)."""
        self._current_page = max(number, self._current_page)

    def heading(self, level: int, title: str) -> None:
        """Open a heading at ``level`` (1 is the outermost); blank titles are ignored."""
        title = " ".join(title.split())
        if not title:
            return
        if len(title) > _HEADING_MAX_CHARS:
            self.text(title)
            return
        self._flush()
        self._stack = [entry for entry in self._stack if entry[0] < level] + [(level, title)]
        self._path = [text for _, text in self._stack]
        self._headings.append((self._path, self._current_page))
        self._start = self._page = self._current_page

    def set_path(self, path: Sequence[str]) -> None:
        """Start a section under exactly ``path`` (for formats whose paths are given, e.g. JSON)."""
        self._flush()
        self._stack = [(level, title) for level, title in enumerate(path, start=1)]
        self._path = list(path)
        if self._path:
            self._headings.append((self._path, self._current_page))
        self._start = self._page = self._current_page

    def text(self, block: str) -> None:
        """Add a block of text (a paragraph, list item, table) under the current heading."""
        block = block.strip("\n")
        if not block.strip():
            return
        if not self._parts:
            self._start = self._page = self._current_page
        elif self._current_page > self._page:
            self._parts.append("\f" * (self._current_page - self._page))
            self._page = self._current_page
        else:
            self._parts.append("\n\n")
        self._parts.append(block)

    def build(self) -> list[Section]:
        """The sections so far; a document of nothing but headings has them as its text."""
        self._flush()
        if self._sections:
            return list(self._sections)
        return [
            Section(heading_path=path, page_start=page, page_end=page, text=path[-1])
            for path, page in self._headings
        ]

    @property
    def first_heading(self) -> str | None:
        """The first heading met, a fallback title."""
        return self._headings[0][0][-1] if self._headings else None

    def _flush(self) -> None:
        text = "".join(self._parts)
        if text.strip():
            self._sections.append(
                Section(
                    heading_path=list(self._path),
                    page_start=self._start,
                    page_end=self._page,
                    text=text,
                )
            )
        self._parts = []
