"""PowerPoint (PPTX) with python-pptx: one section per slide, its page is its slide number.

A slide's heading path is its title (or ``"Slide N"`` when it has none). Its
text is the text of every shape in reading order (top to bottom, then left to
right), looking inside grouped shapes; a table becomes one line per row with
cells separated by ``" | "``; speaker notes come last, after ``"Notes: "``.
``page_count`` is the number of slides, so page ranges mean slides.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.exc import PackageNotFoundError

from doclane.extraction._office import check_office_file
from doclane.extraction._sections import SectionBuilder, clean_inline, table_text
from doclane.extraction.exceptions import CorruptDocument, EmptyDocument, UnsupportedFileType
from doclane.schemas.extraction import ExtractedDocument

__all__ = ["CONTENT_TYPE", "NOTES_PREFIX", "extract_pptx"]

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
#: Starts the speaker notes of a slide in its section text.
NOTES_PREFIX = "Notes: "
# Groups inside groups: deeper than this is no real slide.
_MAX_GROUP_DEPTH = 32

_CORRUPT = (
    "This PowerPoint file is damaged and can't be opened. Open it in PowerPoint, save "
    "it again as .pptx, then upload the new copy."
)
# lxml's XMLSyntaxError is a SyntaxError: malformed XML inside the package.
_PARSE_ERRORS = (
    KeyError, ValueError, IndexError, PackageNotFoundError, SyntaxError, zipfile.BadZipFile,
)


def extract_pptx(path: Path) -> ExtractedDocument:
    """Read the presentation at ``path``: one section per slide, notes included.

    Raises SuspiciousArchive, MacroDocument or EncryptedDocument before parsing
    an unsafe or locked file, CorruptDocument for a damaged one, and
    EmptyDocument when no slide has text.
    """
    kind = check_office_file(path)
    if kind != "pptx":
        raise UnsupportedFileType(
            "This file isn't a PowerPoint presentation, although it was sent to the "
            "PowerPoint reader. Upload it again so its type is detected from its content."
        )
    try:
        presentation = Presentation(str(path))
        return _read(presentation)
    except _PARSE_ERRORS as exc:
        raise CorruptDocument(_CORRUPT) from exc


def _read(presentation: Any) -> ExtractedDocument:
    builder = SectionBuilder()
    slide_count = 0
    has_text = False
    first_title: str | None = None
    for number, slide in enumerate(presentation.slides, start=1):
        slide_count = number
        builder.new_page(number)
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        first_title = first_title or title or None
        builder.set_path([title or f"Slide {number}"])
        blocks = list(_shape_blocks(_in_reading_order(slide.shapes), skip=title_shape))
        notes = _notes(slide)
        if notes:
            blocks.append(NOTES_PREFIX + notes)
        # A slide with only its title still says something; "Slide 7" alone doesn't.
        for block in blocks or [title]:
            has_text = has_text or bool(block.strip())
            builder.text(block)
    # Without any text the builder would offer the bare "Slide N" headings as text.
    sections = builder.build() if has_text else []
    if not sections:
        raise EmptyDocument(
            "This presentation contains no text we can read (its slides may hold only "
            "pictures). Check that you picked the right file and upload it again."
        )
    core_title = " ".join((presentation.core_properties.title or "").split())
    return ExtractedDocument(
        content_type=CONTENT_TYPE,
        page_count=slide_count,
        sections=sections,
        title=core_title or first_title,
    )


def _in_reading_order(shapes: Iterable[Any]) -> list[Any]:
    """Top to bottom, then left to right; shapes without a position keep their order last."""
    placed = list(shapes)
    return sorted(
        placed,
        key=lambda s: (s.top is None, s.top or 0, s.left or 0),
    )


def _shape_blocks(shapes: Iterable[Any], skip: Any, depth: int = 0) -> Iterator[str]:
    for shape in shapes:
        if skip is not None and shape.shape_id == skip.shape_id and depth == 0:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            if depth < _MAX_GROUP_DEPTH:
                yield from _shape_blocks(_in_reading_order(shape.shapes), None, depth + 1)
            continue
        if getattr(shape, "has_table", False) and shape.has_table:
            rows = ([cell.text for cell in row.cells] for row in shape.table.rows)
            yield table_text(rows)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            lines = [clean_inline(p.text) for p in shape.text_frame.paragraphs]
            text = "\n".join(line for line in lines if line)
            if text:
                yield text


def _notes(slide: Any) -> str:
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return clean_inline(frame.text) if frame is not None else ""
