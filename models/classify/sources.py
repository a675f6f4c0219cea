"""Documents as written (a light markup), rendered to every supported format and read back.

A source document is a block of a ``.txt`` source file::

    === id=ho-inv-01 label=invoice format=pdf name=scan-0042
    # Heading
    A paragraph.
    - a bullet
    | a | table | row |
    @slide              (PPTX: a new slide; its first heading is the slide's title)
    @notes What the speaker says.

A body that starts with ``{``/``[`` (JSON) or ``<`` (HTML) is kept as written for those
formats. Rendering writes a real file (PDF with PyMuPDF, DOCX with python-docx, PPTX with
python-pptx...) and the text the model sees is what doclane's own readers extract from it,
exactly as in the pipeline.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docx
import pymupdf
from pptx import Presentation
from pptx.util import Inches, Pt

from doclane.ai.classify.features import classification_text
from doclane.extraction import extract, sniff_content_type

__all__ = ["FORMATS", "SourceDoc", "document_text", "parse_sources", "read_source_dir", "render"]

FORMATS = ("txt", "md", "html", "json", "docx", "pptx", "pdf")
_HEADER = re.compile(r"^=== (.*)$")


@dataclass(frozen=True)
class SourceDoc:
    """One document before rendering: its label, target format, file name and marked-up body."""

    id: str
    label: str
    format: str
    body: str
    name: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name or self.id}.{self.format}"


def parse_sources(text: str, origin: str = "") -> Iterator[SourceDoc]:
    """The documents of one source file (see the module docstring for the syntax)."""
    meta: dict[str, str] | None = None
    lines: list[str] = []
    for line in [*text.splitlines(), "=== end"]:
        match = _HEADER.match(line)
        if not match:
            lines.append(line)
            continue
        if meta is not None:
            yield SourceDoc(id=meta["id"], label=meta["label"], format=meta.get("format", "txt"),
                            body="\n".join(lines).strip() + "\n", name=meta.get("name", ""))
        if match.group(1) == "end":
            break
        meta = dict(part.split("=", 1) for part in match.group(1).split())
        if meta.get("format", "txt") not in FORMATS or "id" not in meta or "label" not in meta:
            raise ValueError(f"{origin}: bad header {line!r}")
        lines = []


def read_source_dir(directory: Path) -> list[SourceDoc]:
    """Every document of every ``*.txt`` source file in ``directory``, in name order."""
    docs: list[SourceDoc] = []
    for path in sorted(directory.glob("*.txt")):
        docs.extend(parse_sources(path.read_text(encoding="utf-8"), str(path)))
    ids = [d.id for d in docs]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{directory}: duplicate document ids")
    return docs


# --- the markup, parsed into blocks ------------------------------------------------------

def _blocks(body: str) -> Iterator[tuple[str, object]]:
    """``(kind, value)`` blocks: h1..h3, p, li, table (rows), slide, notes."""
    para: list[str] = []
    table: list[list[str]] = []

    def flush() -> Iterator[tuple[str, object]]:
        if para:
            yield ("p", " ".join(para))
            para.clear()
        if table:
            yield ("table", [row[:] for row in table])
            table.clear()

    for raw in body.splitlines():
        line = raw.rstrip()
        if line.startswith("|") and line.endswith("|"):
            yield from ([] if not para else flush())
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                table.append(cells)
            continue
        if table:
            yield from flush()
        if not line.strip():
            yield from flush()
        elif line.startswith("@slide"):
            yield from flush()
            yield ("slide", "")
        elif line.startswith("@notes "):
            yield from flush()
            yield ("notes", line[7:])
        elif m := re.match(r"^(#{1,3}) (.*)", line):
            yield from flush()
            yield (f"h{len(m.group(1))}", m.group(2))
        elif m := re.match(r"^\s*[-*•] (.*)", line):
            yield from flush()
            yield ("li", m.group(1))
        else:
            para.append(line.strip())
    yield from flush()


def _as_text(body: str) -> str:
    out: list[str] = []
    for kind, value in _blocks(body):
        if kind == "table":
            out.extend("\t".join(row) for row in value)  # type: ignore[attr-defined]
        elif kind == "li":
            out.append(f"• {value}")
        elif kind == "notes":
            out.append(f"Notes: {value}")
        elif kind != "slide":
            out.append(str(value))
        out.append("")
    return "\n".join(out).strip() + "\n"


def _as_markdown(body: str) -> str:
    lines = []
    for line in body.splitlines():
        if line.startswith("@slide"):
            lines.append("\n---\n")
        elif line.startswith("@notes "):
            lines.append(f"> Notes: {line[7:]}")
        else:
            lines.append(line)
    return "\n".join(lines)


def _as_html(body: str) -> str:
    parts: list[str] = []
    in_list = False
    for kind, value in _blocks(body):
        if in_list and kind != "li":
            parts.append("</ul>")
            in_list = False
        if kind == "li":
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{html.escape(str(value))}</li>")
        elif kind == "table":
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                           for row in value)  # type: ignore[attr-defined]
            parts.append(f"<table>{rows}</table>")
        elif kind.startswith("h"):
            parts.append(f"<{kind}>{html.escape(str(value))}</{kind}>")
        elif kind in ("p", "notes"):
            parts.append(f"<p>{html.escape(str(value))}</p>")
    if in_list:
        parts.append("</ul>")
    return "\n".join(parts)


def _as_json(body: str) -> str:
    sections: list[dict[str, object]] = []
    current: dict[str, object] = {"heading": "", "content": []}
    for kind, value in _blocks(body):
        if kind.startswith("h"):
            if current["content"] or current["heading"]:
                sections.append(current)
            current = {"heading": value, "content": []}
        elif kind == "table":
            current["content"].append({"table": value})  # type: ignore[attr-defined]
        elif kind != "slide":
            current["content"].append(value)  # type: ignore[attr-defined]
    sections.append(current)
    return json.dumps({"sections": sections}, indent=2, ensure_ascii=False)


def _write_docx(body: str, path: Path) -> None:
    document = docx.Document()
    for kind, value in _blocks(body):
        if kind.startswith("h"):
            document.add_heading(str(value), int(kind[1:]))
        elif kind in ("p", "notes"):
            document.add_paragraph(str(value))
        elif kind == "li":
            document.add_paragraph(str(value), style="List Bullet")
        elif kind == "table":
            rows: list[list[str]] = value  # type: ignore[assignment]
            width = max(len(r) for r in rows)
            table = document.add_table(rows=len(rows), cols=width)
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
    document.save(str(path))


def _write_pptx(body: str, path: Path) -> None:
    presentation = Presentation()
    slides: list[list[tuple[str, object]]] = [[]]
    for block in _blocks(body):
        if block[0] == "slide":
            if slides[-1]:
                slides.append([])
        else:
            slides[-1].append(block)
    for blocks in slides:
        title = next((str(v) for k, v in blocks if k.startswith("h")), None)
        slide = presentation.slides.add_slide(presentation.slide_layouts[1 if title else 6])
        lines = [str(v) for k, v in blocks if k in ("p", "li") or (k.startswith("h") and str(v) != title)]
        for k, v in blocks:
            if k == "table":
                lines.extend("  ".join(row) for row in v)  # type: ignore[attr-defined]
        if title:
            slide.shapes.title.text = title
            slide.placeholders[1].text = "\n".join(lines)
        else:
            box = slide.shapes.add_textbox(Inches(0.5), Inches(0.5), Inches(9), Inches(6))
            box.text_frame.text = "\n".join(lines)
            for paragraph in box.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(16)
        notes = [str(v) for k, v in blocks if k == "notes"]
        if notes:
            slide.notes_slide.notes_text_frame.text = "\n".join(notes)
    presentation.save(str(path))


def _write_pdf(body: str, path: Path) -> None:
    story = pymupdf.Story(html=_as_html(body), user_css="body {font-size: 10pt;} h1 {font-size: 18pt;}")
    writer = pymupdf.DocumentWriter(str(path))
    page = pymupdf.paper_rect("a4")
    more = True
    while more:
        device = writer.begin_page(page)
        more, _ = story.place(page + (54, 54, -54, -54))
        story.draw(device)
        writer.end_page()
    writer.close()


def render(doc: SourceDoc, directory: Path) -> Path:
    """Write ``doc`` as a file of its format in ``directory``; returns the file's path."""
    path = directory / doc.filename
    raw = doc.body.lstrip()
    if doc.format == "txt":
        path.write_text(_as_text(doc.body), encoding="utf-8")
    elif doc.format == "md":
        path.write_text(_as_markdown(doc.body), encoding="utf-8")
    elif doc.format == "html":
        page = raw if raw.startswith("<") else (
            f"<!doctype html><html><head><title>{html.escape(doc.name)}</title></head>"
            f"<body>{_as_html(doc.body)}</body></html>")
        path.write_text(page, encoding="utf-8")
    elif doc.format == "json":
        path.write_text(raw if raw[:1] in "{[" else _as_json(doc.body), encoding="utf-8")
    elif doc.format == "docx":
        _write_docx(doc.body, path)
    elif doc.format == "pptx":
        _write_pptx(doc.body, path)
    else:
        _write_pdf(doc.body, path)
    return path


def document_text(doc: SourceDoc, directory: Path) -> tuple[str, str]:
    """``(text, content_type)`` of ``doc`` as the pipeline sees it: rendered, sniffed, extracted."""
    path = render(doc, directory)
    with path.open("rb") as handle:
        head = handle.read(8192)
    content_type = sniff_content_type(head, doc.filename, path=path)
    return classification_text(extract(path, content_type)), content_type


def texts(docs: Iterable[SourceDoc], directory: Path) -> list[tuple[str, str]]:
    """:func:`document_text` of each document, in order."""
    return [document_text(d, directory) for d in docs]
