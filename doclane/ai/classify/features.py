"""The text a classifier sees: shared by training (models/classify) and the runtime model.

Both sides must prepare text the same way, so this is the only place that does it.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from doclane.schemas.extraction import ExtractedDocument

__all__ = ["MAX_CHARS", "classification_text", "prepare_text"]

#: The first characters of a document are enough to tell its type (a title page, a letterhead,
#: an invoice header); reading more costs time and lets long bodies drown the opening.
MAX_CHARS = 20_000

#: Content types as one short word, prefixed so it never collides with a word of the text.
_KINDS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/json": "json",
    "text/markdown": "md",
    "text/html": "html",
}
_WORD = re.compile(r"[a-z]{3,}")


def classification_text(document: ExtractedDocument) -> str:
    """A document's text as the classifier was trained on it: headings, then their text.

    Each section's innermost heading comes before its text (the heading path's outer
    levels were printed by earlier sections), in document order, cut at ``MAX_CHARS``.
    """
    parts: list[str] = []
    first = document.sections[0] if document.sections else None
    first_line = (first.heading_path[-1] if first and first.heading_path else
                  (first.text.lstrip().split("\n", 1)[0] if first else "")).strip()
    # Readers often take the title from the first heading: don't say it twice.
    if document.title and document.title.strip() != first_line:
        parts.append(document.title)
    size = 0
    for section in document.sections:
        if section.heading_path:
            parts.append(section.heading_path[-1])
        parts.append(section.text)
        size += len(section.text)
        if size >= MAX_CHARS:
            break
    return "\n".join(parts)[:MAX_CHARS]


def prepare_text(text: str, *, filename: str | None = None, content_type: str | None = None) -> str:
    """The model's input: marker tokens for the format and the file name's words, then the text.

    A slide deck is usually a PPTX and a CV is often named ``cv.pdf``; the markers let the
    model weigh that evidence next to the words, and nothing more (a PPTX can be anything).
    """
    markers: list[str] = []
    if content_type:
        kind = _KINDS.get(content_type.split(";", 1)[0].strip().lower())
        if kind:
            markers.append(f"zzformat{kind}")
    if filename:
        stem = PurePath(filename).stem.lower().replace("_", " ").replace("-", " ")
        markers.extend(f"zzname{word}" for word in _WORD.findall(stem)[:6])
    head = " ".join(markers)
    body = text[:MAX_CHARS]
    return f"{head}\n{body}" if head else body
