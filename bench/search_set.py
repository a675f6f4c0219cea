"""The labelled search set (``bench/data/search``): loading, checks, and files in every format.

Documents are kept as small text sources. ``*.docx.txt``, ``*.pptx.txt`` and
``*.pdf.txt`` are turned into real DOCX, PPTX and PDF files by
:func:`materialise` (``# `` lines become headings, slide titles or bold PDF
headings; blank lines separate paragraphs); the other files are used as they are.

A query's relevant passages are given as (document, answer): a passage is relevant
when its text contains the answer, compared case- and whitespace-insensitively.
:func:`lexical_overlap` measures how many of a query's content words appear around
its answer, which is what the ``paraphrase`` labels are checked against.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DATA", "PARAPHRASE_MAX_OVERLAP", "Query", "content_words", "lexical_overlap", "load_queries",
    "materialise", "normalise", "source_files", "visible_text",
]

DATA = Path(__file__).parent / "data" / "search"
#: A query labelled paraphrase shares at most this share of its content words with the
#: text around its answer (±300 characters, about a passage).
PARAPHRASE_MAX_OVERLAP = 0.34
_WINDOW = 300
_GENERATED = {".docx": "docx", ".pptx": "pptx", ".pdf": "pdf"}
_STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves may must might shall get got much many what's don't isn't
i'm we're
""".split())  # noqa: SIM905 - a word list reads better as text


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    paraphrase: bool
    relevant: tuple[tuple[str, str], ...]  # (document source file, answer)


def normalise(text: str) -> str:
    """Lower case, runs of whitespace as one space: how answers are matched to passages."""
    return re.sub(r"\s+", " ", text).strip().lower()


def source_files() -> list[Path]:
    return sorted((DATA / "docs").iterdir())


def load_queries() -> list[Query]:
    queries = []
    lines = (DATA / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, start=1):
        if line.strip():
            raw = json.loads(line)
            relevant = tuple((r["doc"], r["answer"]) for r in raw["relevant"])
            queries.append(Query(f"q{n:03d}", raw["query"], bool(raw["paraphrase"]), relevant))
    return queries


def visible_text(path: Path) -> str:
    """What a reader of the source sees: HTML without tags and scripts, JSON's string values."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
        return re.sub(r"<[^>]+>", " ", raw)
    if path.suffix == ".json":
        values: list[str] = []

        def walk(node: object) -> None:
            if isinstance(node, dict):
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
            else:
                values.append(str(node))

        walk(json.loads(raw))
        return "\n".join(values)
    return raw.replace("# ", "") if path.name.endswith((".docx.txt", ".pptx.txt", ".pdf.txt")) else raw


def _stem(word: str) -> str:
    # Five letters: crude, but "reimbursed"/"reimbursement" and "sleep"/"sleeping" meet.
    return word[:5]


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())
    return {_stem(w) for w in words if w not in _STOPWORDS and len(w) > 1}


def lexical_overlap(query: str, document_text: str, answer: str) -> float:
    """Share of the query's content words found within ±300 characters of the answer."""
    text = normalise(document_text)
    at = text.find(normalise(answer))
    if at < 0:
        raise ValueError(f"answer {answer!r} not in the document")
    window = text[max(0, at - _WINDOW) : at + len(normalise(answer)) + _WINDOW]
    words = content_words(query)
    return len(words & content_words(window)) / max(1, len(words))


def materialise(source: Path, folder: Path) -> tuple[Path, str]:
    """The file the bench uploads for ``source``, and its content type."""
    kind = _GENERATED.get(Path(source.stem).suffix) if source.suffix == ".txt" else None
    if kind is None:
        types = {".md": "text/markdown", ".html": "text/html", ".json": "application/json"}
        return source, types.get(source.suffix, "text/plain")
    blocks = []
    for block in re.split(r"\n\s*\n", source.read_text(encoding="utf-8")):
        block = block.strip()
        heading, _, rest = block.partition("\n")
        if heading.startswith("# ") and rest.strip():  # a heading line with its text under it: two blocks
            blocks += [heading, rest.strip()]
        elif block:
            blocks.append(block)
    target = folder / source.stem  # "x.docx.txt" -> "x.docx"
    if kind == "docx":
        _docx(blocks, target)
        return target, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if kind == "pptx":
        _pptx(blocks, target)
        return target, "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    _pdf(blocks, target)
    return target, "application/pdf"


def _docx(blocks: list[str], target: Path) -> None:
    import docx

    document = docx.Document()
    for block in blocks:
        if block.startswith("# "):
            document.add_heading(block[2:], level=1)
        else:
            document.add_paragraph(block)
    document.save(str(target))


def _pptx(blocks: list[str], target: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    slide = None
    for block in blocks:
        if block.startswith("# ") or slide is None:
            slide = deck.slides.add_slide(deck.slide_layouts[1])
            slide.shapes.title.text = block[2:] if block.startswith("# ") else ""
            body = slide.placeholders[1].text_frame
            first = True
            if block.startswith("# "):
                continue
        paragraph = body.paragraphs[0] if first else body.add_paragraph()
        paragraph.text = block
        first = False
    deck.save(str(target))


def _pdf(blocks: list[str], target: Path) -> None:
    import pymupdf

    pdf = pymupdf.open()
    page, y = None, 0.0
    for block in blocks:
        heading = block.startswith("# ")
        text = block[2:] if heading else block
        size = 15 if heading else 10.5
        rect_height = 24.0 + 16 * (len(text) // 85 + text.count("\n"))
        if page is None or y + rect_height > 790 or (heading and y > 560):
            page, y = pdf.new_page(width=595, height=842), 60.0  # A4; big headings start a page
        font = "hebo" if heading else "helv"
        # A box too small for its text draws nothing and says so only by a negative
        # return (a 24-point box held no 15-point bold heading): grow it until it fits.
        left = _draw(page, y, rect_height, text, size, font)
        if left < 0:
            rect_height += -left + size
            if y + rect_height > 790:
                page, y = pdf.new_page(width=595, height=842), 60.0
            left = _draw(page, y, rect_height, text, size, font)
        if left < 0:
            raise ValueError(f"{target.name}: {text[:40]!r} does not fit on a page")
        y += rect_height + 6
    pdf.save(str(target))
    pdf.close()


def _draw(page: Any, y: float, height: float, text: str, size: float, font: str) -> float:
    """Write ``text`` in a box ``height`` high at ``y``; what is left over (< 0: nothing drawn)."""
    import pymupdf

    box = pymupdf.Rect(60, y, 535, y + height)
    return float(page.insert_textbox(box, text, fontsize=size, fontname=font))
