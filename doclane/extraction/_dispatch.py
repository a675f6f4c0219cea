"""Route a stored file to the reader for its content type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from doclane.extraction.detect import DOCX, HTML, JSON, MARKDOWN, PDF, PPTX, TEXT
from doclane.extraction.docx_reader import extract_docx
from doclane.extraction.exceptions import UnsupportedFileType
from doclane.extraction.html_reader import extract_html
from doclane.extraction.json_reader import extract_json
from doclane.extraction.markdown_reader import extract_markdown
from doclane.extraction.pdf import extract_pdf
from doclane.extraction.pptx_reader import extract_pptx
from doclane.extraction.text import extract_text
from doclane.schemas.extraction import ExtractedDocument

__all__ = ["extract"]

_READERS: dict[str, Callable[[Path], ExtractedDocument]] = {
    PDF: extract_pdf,
    TEXT: extract_text,
    DOCX: extract_docx,
    PPTX: extract_pptx,
    JSON: extract_json,
    MARKDOWN: extract_markdown,
    HTML: extract_html,
}


def extract(path: Path, content_type: str) -> ExtractedDocument:
    """Extract the text and structure of the file at ``path``.

    ``content_type`` is what :func:`~doclane.extraction.sniff_content_type`
    returned for the file (parameters such as ``; charset=...`` are ignored).
    Synchronous and CPU-bound: run it in a worker pool, not on the event loop.
    Raises an :class:`~doclane.extraction.ExtractionError` subclass when the
    document can't be read, and FileNotFoundError when ``path`` doesn't exist.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    reader = _READERS.get(media_type)
    if reader is None:
        raise UnsupportedFileType(
            f"Files of type {media_type or 'unknown'} aren't supported yet. Upload a Word "
            "(DOCX), PowerPoint (PPTX), HTML, Markdown or JSON document, a PDF or a "
            "plain-text file instead."
        )
    return reader(Path(path))
