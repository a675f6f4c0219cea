"""What extraction produces and what the chunker cuts it into."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Chunk", "ExtractedDocument", "Section"]


class Section(BaseModel):
    """A run of text under one heading path, on a contiguous page range.

    ``heading_path`` is the list of headings from the outermost to the innermost
    (empty for text before the first heading). Pages are 1-based and inclusive;
    formats without pages (plain text) report page 1.
    """

    heading_path: list[str] = Field(default_factory=list)
    page_start: int = 1
    page_end: int = 1
    text: str


class ExtractedDocument(BaseModel):
    """A document's text with its structure, independent of the source format."""

    content_type: str
    page_count: int
    sections: list[Section]
    title: str | None = None
    encoding: str | None = None  # detected encoding, for text formats

    @property
    def char_count(self) -> int:
        return sum(len(s.text) for s in self.sections)


class Chunk(BaseModel):
    """A piece of a document sized for analysis, carrying where it came from."""

    index: int
    text: str
    section_path: list[str] = Field(default_factory=list)
    page_start: int = 1
    page_end: int = 1
