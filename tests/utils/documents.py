"""Generators of test documents: PDFs built with PyMuPDF, and encoded text files.

Everything here is deterministic, so tests and benchmarks that reuse these
documents see the same bytes every run.
"""

from __future__ import annotations

import functools
import random
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import docx
import pymupdf
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pptx import Presentation
from pptx.util import Inches

__all__ = [
    "BODY_SIZE",
    "OutlineEntry",
    "make_image_only_pdf",
    "make_pdf",
    "make_report_pdf",
    "make_text",
    "marked_paragraphs",
]

#: Font size of body text in generated PDFs.
BODY_SIZE = 11.0

_PAGE_WIDTH = 595.0
_PAGE_HEIGHT = 842.0
_MARGIN = 72.0
_LINE_FACTOR = 1.35  # line height as a multiple of the font size
_BLOCK_GAP = 12.0  # extra space between items so PyMuPDF sees separate blocks

#: A page is either plain body text or a list of ``(text, font size)`` items, placed
#: top to bottom; an item's text may contain newlines (lines of one block).
PageSpec = str | Sequence[tuple[str, float]]


@dataclass(frozen=True)
class OutlineEntry:
    """One heading written by :func:`make_report_pdf`: its level, title and 1-based page."""

    level: int
    title: str
    page: int


def make_pdf(
    path: Path,
    pages: Sequence[PageSpec],
    *,
    toc: Sequence[tuple[int, str, int]] | None = None,
    encrypt: bool = False,
    password: str = "secret",
    title: str | None = None,
) -> Path:
    """Write a PDF whose pages hold exactly the given text items.

    ``toc`` entries are ``(level, title, page)`` as for ``Document.set_toc``.
    With ``encrypt`` the file needs ``password`` to be opened (AES-256).
    """
    doc = pymupdf.open()
    for spec in pages:
        page = doc.new_page(width=_PAGE_WIDTH, height=_PAGE_HEIGHT)
        items = [(spec, BODY_SIZE)] if isinstance(spec, str) else spec
        y = _MARGIN
        for text, size in items:
            if not text:
                continue
            y += size
            page.insert_text((_MARGIN, y), text, fontsize=size)
            y += size * _LINE_FACTOR * text.count("\n") + _BLOCK_GAP
    _finish(doc, path, toc=toc, encrypt=encrypt, password=password, title=title)
    return path


def make_image_only_pdf(path: Path, n_pages: int = 1) -> Path:
    """Write a PDF whose pages hold only a picture, like a scan without OCR."""
    doc = pymupdf.open()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False)
    pix.clear_with(180)
    for _ in range(n_pages):
        page = doc.new_page(width=_PAGE_WIDTH, height=_PAGE_HEIGHT)
        page.insert_image(pymupdf.Rect(_MARGIN, _MARGIN, 400, 400), pixmap=pix)
    _finish(doc, path)
    return path


def marked_paragraphs(marker: str, n: int) -> str:
    """``n`` paragraphs of ~300 characters naming ``marker`` and their index.

    With ``DOCLANE_CHUNK_MAX_CHARS=400`` and no overlap each is its own chunk,
    so a test can tell from a prompt which chunk it is.
    """
    return "\n\n".join(
        f"Paragraph {i} of {marker}. The committee reviewed the quarterly figures in detail. "
        f"Revenue in region {i} grew while costs stayed flat, which pleased the board. "
        f"Maria will send the revised plan for region {i} by Friday. "
        f"The next review is planned after the audit of item {i}."
        for i in range(n)
    )


def make_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` in ``encoding`` (``utf-8-sig``/``utf-16`` add a BOM)."""
    path.write_bytes(text.encode(encoding))
    return path


_SENTENCES = (
    "Revenue grew by eleven percent compared with the previous year.",
    "The northern region contributed most of the increase in new customers.",
    "Operating costs stayed flat because the migration to the new platform finished early.",
    "Customer satisfaction scores improved in every quarter of the year.",
    "The board approved a budget of two million euros for the next phase.",
    "Staff turnover fell to its lowest level since the company was founded.",
    "Supply chain delays affected deliveries in the second quarter.",
    "The team recommends renegotiating the contract with the logistics provider.",
    "Energy consumption in the main warehouse dropped by a fifth.",
    "A new training programme was launched for all support engineers.",
    "Several large clients renewed their agreements for three more years.",
    "The audit found no material weaknesses in the internal controls.",
    "Marketing spend shifted from print advertising to online campaigns.",
    "Product returns decreased after the packaging was redesigned.",
    "The research group filed two patent applications during the autumn.",
    "Management expects moderate growth as interest rates remain high.",
    "Data from the pilot project suggests that the approach scales well.",
    "The finance team will publish a detailed forecast before the end of March.",
    "Response times on the help desk improved from two days to six hours.",
    "Investments in security tooling reduced the number of incidents.",
)

_CHAPTERS = (
    "Executive Summary",
    "Market Overview",
    "Financial Results",
    "Operations",
    "Customers and Products",
    "People and Culture",
    "Risks and Outlook",
    "Sustainability",
)
_SUBSECTIONS = ("Highlights", "Analysis", "Next Steps")


def make_report_pdf(
    path: Path,
    n_pages: int,
    *,
    with_outline: bool = True,
    title: str = "Annual Report",
    paragraphs_per_section: int = 4,
) -> list[OutlineEntry]:
    """Write a realistic multi-section report of exactly ``n_pages`` pages.

    The report has a 22 pt title, 16 pt chapter headings, 13 pt subsection
    headings and 11 pt body paragraphs of real sentences that flow across pages.
    With ``with_outline`` the headings are also stored as the PDF outline.
    Each subsection has ``paragraphs_per_section`` paragraphs of about 330
    characters; raise it for sections that need splitting into several chunks.
    Returns the headings written (title excluded), in order, with their pages.
    """
    doc = pymupdf.open()
    writer = _FlowWriter(doc)
    writer.write(title, 22.0)
    outline: list[OutlineEntry] = []
    sentence = 0
    chapter = 0
    # Roughly 2-3 pages per chapter keeps the headings dense enough to be useful.
    while writer.page_count < n_pages:
        chapter += 1
        chapter_title = f"{chapter}. {_CHAPTERS[(chapter - 1) % len(_CHAPTERS)]}"
        page = writer.write(chapter_title, 16.0, keep_with_next=60.0)
        outline.append(OutlineEntry(1, chapter_title, page))
        for sub, sub_name in enumerate(_SUBSECTIONS, start=1):
            sub_title = f"{chapter}.{sub} {sub_name}"
            page = writer.write(sub_title, 13.0, keep_with_next=40.0)
            outline.append(OutlineEntry(2, sub_title, page))
            for _ in range(paragraphs_per_section):
                sentences = [_SENTENCES[(sentence + 7 * k) % len(_SENTENCES)] for k in range(4)]
                sentence += 4
                writer.write(" ".join(sentences), BODY_SIZE)
    # The last paragraph may have spilled past the target; trim whole pages.
    while doc.page_count > n_pages:
        doc.delete_page(-1)
    outline = [entry for entry in outline if entry.page <= n_pages]
    toc = [(e.level, e.title, e.page) for e in outline] if with_outline else None
    _finish(doc, path, toc=toc, title=None)
    return outline


class _FlowWriter:
    """Places wrapped paragraphs top to bottom, starting new pages as needed."""

    def __init__(self, doc: pymupdf.Document) -> None:
        self._doc = doc
        self._page = doc.new_page(width=_PAGE_WIDTH, height=_PAGE_HEIGHT)
        self._y = _MARGIN

    @property
    def page_count(self) -> int:
        return int(self._doc.page_count)

    def write(self, text: str, size: float, keep_with_next: float = 0.0) -> int:
        """Write one paragraph; return the 1-based page its first line is on."""
        lines = _wrap(text, size, _PAGE_WIDTH - 2 * _MARGIN)
        line_height = size * _LINE_FACTOR
        if self._y + line_height + keep_with_next > _PAGE_HEIGHT - _MARGIN:
            self._new_page()
        first_page = self._doc.page_count
        while lines:
            room = int((_PAGE_HEIGHT - _MARGIN - self._y) // line_height)
            if room < 1:
                self._new_page()
                continue
            batch, lines = lines[:room], lines[room:]
            self._page.insert_text(
                (_MARGIN, self._y + size), batch, fontsize=size, lineheight=_LINE_FACTOR
            )
            self._y += line_height * len(batch)
        self._y += _BLOCK_GAP
        return int(first_page)

    def _new_page(self) -> None:
        self._page = self._doc.new_page(width=_PAGE_WIDTH, height=_PAGE_HEIGHT)
        self._y = _MARGIN


def _wrap(text: str, size: float, width: float) -> list[str]:
    space = _word_width(" ", size)
    lines: list[str] = []
    current: list[str] = []
    current_width = 0.0
    for word in text.split():
        word_width = _word_width(word, size)
        if current and current_width + space + word_width > width:
            lines.append(" ".join(current))
            current, current_width = [], 0.0
        current_width += (space if current else 0.0) + word_width
        current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines


@functools.lru_cache(maxsize=4096)
def _word_width(word: str, size: float) -> float:
    # Measuring is slow in PyMuPDF; report words repeat a lot, so cache them.
    return float(pymupdf.get_text_length(word, fontsize=size))


def _finish(
    doc: pymupdf.Document,
    path: Path,
    *,
    toc: Sequence[tuple[int, str, int]] | None = None,
    encrypt: bool = False,
    password: str = "secret",
    title: str | None = None,
) -> None:
    if toc:
        doc.set_toc([list(entry) for entry in toc])
    if title is not None:
        doc.set_metadata({"title": title})
    if encrypt:
        doc.save(
            path,
            encryption=pymupdf.PDF_ENCRYPT_AES_256,
            user_pw=password,
            owner_pw=password + "-owner",
        )
    else:
        doc.save(path, garbage=1, deflate=True)
    doc.close()


# --- other formats: DOCX, PPTX, hostile archives, PDFs with tables ----------------
# (appended; the names are added to __all__ below)


def make_docx(
    path: Path,
    blocks: Sequence[tuple[str, object]],
    *,
    title: str | None = None,
    header: str | None = None,
    footer: str | None = None,
) -> Path:
    """Write a Word document from ``(kind, value)`` blocks, in order.

    Kinds: ``"h0"``..``"h9"`` (a heading of that level; 0 is the Title style),
    ``"p"`` (a paragraph), ``"li"`` (a bulleted list item), ``"table"`` (a list
    of rows), ``"outline1"``.. (a Normal paragraph with ``w:outlineLvl`` set),
    ``"pagebreak"``. ``header``/``footer`` go into the page header and footer.
    """
    document = docx.Document()
    document.core_properties.title = title or ""
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    if footer is not None:
        document.sections[0].footer.paragraphs[0].text = footer
    for kind, value in blocks:
        if kind.startswith("h"):
            document.add_heading(str(value), int(kind[1:]))
        elif kind == "p":
            document.add_paragraph(str(value))
        elif kind == "li":
            document.add_paragraph(str(value), style="List Bullet")
        elif kind == "pagebreak":
            document.add_page_break()
        elif kind.startswith("outline"):
            paragraph = document.add_paragraph(str(value))
            outline = OxmlElement("w:outlineLvl")
            outline.set(qn("w:val"), str(int(kind[len("outline"):]) - 1))
            paragraph._p.get_or_add_pPr().append(outline)
        elif kind == "table":
            rows = list(value)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = str(cell)
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    document.save(str(path))
    return path


def make_pptx(
    path: Path,
    slides: Sequence[dict[str, object]],
) -> Path:
    """Write a presentation; each slide is a dict with optional keys.

    ``title`` (str), ``body`` (list of lines in the body placeholder),
    ``table`` (list of rows), ``group`` (list of texts in a grouped shape),
    ``notes`` (speaker notes).
    """
    presentation = Presentation()
    for spec in slides:
        layout = presentation.slide_layouts[1 if "title" in spec else 6]
        slide = presentation.slides.add_slide(layout)
        if "title" in spec:
            slide.shapes.title.text = str(spec["title"])
            body = slide.placeholders[1]
            body.text = "\n".join(spec.get("body", []))  # type: ignore[arg-type]
        elif "body" in spec:
            box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(1))
            box.text_frame.text = "\n".join(spec["body"])  # type: ignore[arg-type]
        if "table" in spec:
            rows = list(spec["table"])  # type: ignore[call-overload]
            shape = slide.shapes.add_table(
                len(rows), len(rows[0]), Inches(1), Inches(4), Inches(6), Inches(1.5)
            )
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    shape.table.cell(i, j).text = str(cell)
        if "group" in spec:
            group = slide.shapes.add_group_shape()
            for k, text in enumerate(spec["group"]):  # type: ignore[arg-type]
                box = group.shapes.add_textbox(Inches(1), Inches(6 + 0.4 * k), Inches(4), Inches(0.4))
                box.text_frame.text = str(text)
        if "notes" in spec:
            slide.notes_slide.notes_text_frame.text = str(spec["notes"])
    presentation.save(str(path))
    return path


def make_zip(path: Path, entries: dict[str, bytes | str], *, compress: bool = True) -> Path:
    """Write a ZIP with the given entries (deflated unless ``compress`` is false)."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def make_zip_bomb(path: Path, unpacked_mb: int = 20) -> Path:
    """A DOCX-looking ZIP whose one part unpacks ~1000x: ``unpacked_mb`` MB of zeros.

    Written in pieces so the test never holds the unpacked data in memory.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            piece = b"\0" * (1024 * 1024)
            for _ in range(unpacked_mb):
                part.write(piece)
    return path


def add_to_zip(source: Path, path: Path, extra: dict[str, bytes | str]) -> Path:
    """Copy the ZIP at ``source`` to ``path`` with ``extra`` entries added."""
    shutil.copyfile(source, path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        for name, data in extra.items():
            archive.writestr(name, data)
    return path


def make_encrypted_office(path: Path) -> Path:
    """An OLE compound file shaped like a password-protected DOCX.

    Office wraps encrypted OOXML in an OLE container with ``EncryptionInfo`` and
    ``EncryptedPackage`` streams; the stream names sit in the OLE directory as
    UTF-16LE, which is all the readers look at. The payload is random bytes.
    """
    rng = random.Random(3)
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    directory = b"".join(
        name.encode("utf-16-le").ljust(64, b"\0") + bytes(64)
        for name in ("Root Entry", "EncryptionInfo", "EncryptedPackage")
    )
    path.write_bytes(header + directory + bytes(rng.randrange(256) for _ in range(4096)))
    return path


def make_table_pdf(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    heading: str = "Costs by quarter",
    before: str = "The figures for the quarter are below.",
    after: str = "All amounts are in thousands of euros.",
    outline: bool = False,
) -> Path:
    """A one-page PDF: a heading, a paragraph, a ruled table of ``rows``, a paragraph."""
    doc = pymupdf.open()
    page = doc.new_page(width=_PAGE_WIDTH, height=_PAGE_HEIGHT)
    page.insert_text((_MARGIN, _MARGIN + 16), heading, fontsize=16)
    page.insert_text((_MARGIN, _MARGIN + 50), before, fontsize=BODY_SIZE)
    x0, y0, row_height = _MARGIN, _MARGIN + 80, 20.0
    columns = max(len(row) for row in rows)
    width = (_PAGE_WIDTH - 2 * _MARGIN) / columns
    for i in range(len(rows) + 1):
        page.draw_line((x0, y0 + i * row_height), (x0 + columns * width, y0 + i * row_height))
    for j in range(columns + 1):
        page.draw_line((x0 + j * width, y0), (x0 + j * width, y0 + len(rows) * row_height))
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            page.insert_text((x0 + j * width + 4, y0 + i * row_height + 14), cell, fontsize=BODY_SIZE)
    page.insert_text((_MARGIN, y0 + len(rows) * row_height + 40), after, fontsize=BODY_SIZE)
    _finish(doc, path, toc=[(1, heading, 1)] if outline else None)
    return path


__all__ += [
    "add_to_zip",
    "make_docx",
    "make_encrypted_office",
    "make_pptx",
    "make_table_pdf",
    "make_zip",
    "make_zip_bomb",
]
