"""The analysis evaluation set (``models/analysis``): labels, the fixed split, files in every format.

Documents are kept as text files. A label with ``render`` set (``docx``, ``pptx``
or ``pdf``) names a ``.txt`` source that :func:`materialise` turns into a real
file of that format at evaluation time, so no binary is committed: the first
line is the title, a one-line block of at most eight words without final
punctuation is a heading, other blocks are paragraphs, ``- `` lines are bullets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["DATA", "Label", "Reference", "load_labels", "materialise"]

DATA = Path(__file__).resolve().parent.parent / "models" / "analysis"
#: ``heldout_new``: 26 documents written on 2026-11-28, before the sentiment model was trained or
#: tuned, because the first held-out half had been scored after every change of v3 and v4.
#: ``heldout_3``: 30 documents written blind in November 2026, before extractive-v6's changes.
#: ``heldout_4``: 40 documents written blind on 2026-11-28, a fourth half that is only ever scored.
Split = Literal["tuning", "heldout", "heldout_new", "heldout_3", "heldout_4"]
_TYPES = {
    ".txt": "text/plain", ".md": "text/markdown", ".html": "text/html",
    ".json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Reference:
    """An action item a reader would list, with its owner and deadline when the text names them."""

    text: str
    owner: str | None
    deadline: str | None


@dataclass(frozen=True)
class Label:
    """One document of the set and its hand-written reference labels."""

    id: str
    file: str
    render: str | None
    kind: str
    split: Split
    title: str | None
    sentiment: str
    action_items: tuple[Reference, ...]
    summary: str

    @property
    def path(self) -> Path:
        return DATA / "docs" / self.file


def load_labels(data: Path = DATA) -> list[Label]:
    """Every labelled document, in file order."""
    labels = []
    for line in (data / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row: dict[str, Any] = json.loads(line)
        items = tuple(Reference(**item) for item in row.pop("action_items"))
        labels.append(Label(action_items=items, **row))
    return labels


def materialise(label: Label, folder: Path) -> tuple[Path, str]:
    """The file the pipeline reads for ``label``, and its declared content type."""
    if label.render is None:
        return label.path, _TYPES[label.path.suffix]
    blocks = [b.strip() for b in re.split(r"\n\s*\n", label.path.read_text(encoding="utf-8"))]
    title, body = blocks[0], [b for b in blocks[1:] if b]
    target = folder / f"{label.id}.{label.render}"
    {"docx": _docx, "pptx": _pptx, "pdf": _pdf}[label.render](title, body, target)
    return target, _TYPES[label.render]


def _is_heading(block: str) -> bool:
    return "\n" not in block and len(block.split()) <= 8 and not block.endswith((".", "!", "?", ":"))


def _docx(title: str, blocks: list[str], target: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for block in blocks:
        if _is_heading(block):
            document.add_heading(block, level=1)
            continue
        for line in block.splitlines():
            if line.startswith("- "):
                document.add_paragraph(line[2:], style="List Bullet")
            else:
                document.add_paragraph(line)
    document.save(str(target))


def _pptx(title: str, blocks: list[str], target: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = title
    frame = slide.placeholders[1].text_frame
    first = True
    for block in blocks:
        if _is_heading(block):
            slide = deck.slides.add_slide(deck.slide_layouts[1])
            slide.shapes.title.text = block
            frame, first = slide.placeholders[1].text_frame, True
            continue
        for line in block.splitlines():
            paragraph = frame.paragraphs[0] if first else frame.add_paragraph()
            paragraph.text = line[2:] if line.startswith("- ") else line
            first = False
    deck.save(str(target))


def _pdf(title: str, blocks: list[str], target: Path) -> None:
    import html

    import pymupdf

    parts = [f"<h1>{html.escape(title)}</h1>"]
    for block in blocks:
        if _is_heading(block):
            parts.append(f"<h2>{html.escape(block)}</h2>")
        elif block.startswith("- "):
            items = "".join(f"<li>{html.escape(x[2:])}</li>" for x in block.splitlines())
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{html.escape(' '.join(block.split()))}</p>")
    story = pymupdf.Story("".join(parts))
    writer = pymupdf.DocumentWriter(str(target))
    page = pymupdf.paper_rect("a4")
    margin = pymupdf.Rect(page.x0 + 56, page.y0 + 56, page.x1 - 56, page.y1 - 56)
    more = True
    while more:
        device = writer.begin_page(page)
        more, _ = story.place(margin)
        story.draw(device)
        writer.end_page()
    writer.close()
    # The writer sets no metadata; a PDF's title then comes from its largest text, as for
    # most PDFs people upload.
