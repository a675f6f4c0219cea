"""DOCX, PPTX, JSON, Markdown, HTML and PDF tables, read into sections as a user of the result sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doclane.extraction import (
    DocumentTooComplex,
    EmptyDocument,
    chunk_document,
    extract,
)
from doclane.extraction.detect import DOCX, HTML, JSON, MARKDOWN, PDF, PPTX
from doclane.schemas.extraction import ExtractedDocument, Section
from tests.utils.documents import make_docx, make_pptx, make_table_pdf


def paths_of(doc: ExtractedDocument) -> list[list[str]]:
    return [s.heading_path for s in doc.sections]


def section(doc: ExtractedDocument, *path: str) -> Section:
    return next(s for s in doc.sections if s.heading_path == list(path))


# --- DOCX -------------------------------------------------------------------------


def test_docx_headings_become_paths_and_tables_rows_in_document_order(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "plan.docx",
        [
            ("h0", "Annual Plan"),
            ("p", "The plan in brief."),
            ("h1", "Budget"),
            ("p", "Costs are below."),
            ("table", [["Item", "Q1", "Q2"], ["Rent", "10", "12"]]),
            ("p", "Totals exclude tax."),
            ("li", "first risk"),
            ("li", "second risk"),
            ("h2", "Contingency"),
            ("p", "Ten percent."),
            ("h1", "Staff"),
            ("p", "Four hires."),
        ],
        header="CONFIDENTIAL HEADER",
        footer="Page footer text",
    )
    doc = extract(path, DOCX)
    assert doc.content_type == DOCX
    assert paths_of(doc) == [
        ["Annual Plan"],
        ["Annual Plan", "Budget"],
        ["Annual Plan", "Budget", "Contingency"],
        ["Annual Plan", "Staff"],
    ]
    assert section(doc, "Annual Plan", "Budget").text == (
        "Costs are below.\n\nItem | Q1 | Q2\nRent | 10 | 12\n\nTotals exclude tax.\n\n"
        "- first risk\n- second risk"
    )
    everything = " ".join(s.text for s in doc.sections)
    assert "CONFIDENTIAL" not in everything and "footer" not in everything
    assert doc.title == "Annual Plan"


def test_docx_tables_inside_table_cells_keep_their_text(tmp_path: Path) -> None:
    # Word forms lay out fields with tables in cells; python-docx's cell.text reads only
    # the cell's own paragraphs.
    import docx

    document = docx.Document()
    outer = document.add_table(rows=2, cols=2)
    outer.cell(0, 0).text, outer.cell(0, 1).text = "Applicant", "Details"
    outer.cell(1, 0).text = "Ana Costa"
    cell = outer.cell(1, 1)
    cell.paragraphs[0].text = "Contact:"
    inner = cell.add_table(rows=2, cols=2)
    for r, row in enumerate([["Phone", "555 0100"], ["Email", "ana@example.com"]]):
        for c, value in enumerate(row):
            inner.cell(r, c).text = value
    innermost = inner.cell(1, 1).add_table(rows=1, cols=1)
    innermost.cell(0, 0).text = "preferred"
    path = tmp_path / "form.docx"
    document.save(str(path))

    (only,) = extract(path, DOCX).sections
    assert only.text == (
        "Applicant | Details\n"
        "Ana Costa | Contact: Phone | 555 0100; Email | ana@example.com preferred"
    )


def test_docx_title_prefers_core_properties_and_outline_levels_make_headings(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "memo.docx",
        [("outline1", "Scope"), ("p", "What we cover."), ("outline2", "Limits"), ("p", "Not more.")],
        title="Board Memo",
    )
    doc = extract(path, DOCX)
    assert paths_of(doc) == [["Scope"], ["Scope", "Limits"]]
    assert doc.title == "Board Memo"


def test_docx_hard_page_breaks_give_page_ranges(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "pages.docx",
        [("h1", "One"), ("p", "First page."), ("pagebreak", ""), ("p", "Second page."),
         ("h1", "Two"), ("p", "Still second.")],
    )
    doc = extract(path, DOCX)
    one, two = doc.sections
    assert (one.page_start, one.page_end) == (1, 2)
    assert one.text == "First page.\fSecond page."
    assert (two.page_start, two.page_end) == (2, 2)
    assert doc.page_count == 2
    chunks = chunk_document(doc)
    assert [(c.page_start, c.page_end) for c in chunks] == [(1, 2), (2, 2)]


def test_a_docx_without_text_is_empty(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "blank.docx", [("p", "")])
    with pytest.raises(EmptyDocument, match="no text"):
        extract(path, DOCX)


# --- PPTX -------------------------------------------------------------------------


def test_pptx_one_section_per_slide_with_tables_groups_and_notes(tmp_path: Path) -> None:
    path = make_pptx(
        tmp_path / "deck.pptx",
        [
            {"title": "Welcome", "body": ["Point one", "Point two"], "notes": "Greet everyone."},
            {"body": ["Untitled slide text"], "table": [["Region", "Sales"], ["North", "12"]]},
            {"title": "Grouped", "group": ["inside a group", "second in group"]},
            {"title": "Only a title"},
        ],
    )
    doc = extract(path, PPTX)
    assert doc.page_count == 4
    assert paths_of(doc) == [["Welcome"], ["Slide 2"], ["Grouped"], ["Only a title"]]
    assert [(s.page_start, s.page_end) for s in doc.sections] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    welcome, second, grouped, only = doc.sections
    assert welcome.text == "Point one\nPoint two\n\nNotes: Greet everyone."
    assert second.text == "Untitled slide text\n\nRegion | Sales\nNorth | 12"
    assert "inside a group" in grouped.text and "second in group" in grouped.text
    assert only.text == "Only a title"
    assert doc.title == "Welcome"


def test_a_pptx_without_text_is_empty(tmp_path: Path) -> None:
    path = make_pptx(tmp_path / "pictures.pptx", [{}, {}])
    with pytest.raises(EmptyDocument, match="no text"):
        extract(path, PPTX)


# --- JSON -------------------------------------------------------------------------


def _json(tmp_path: Path, value: object, name: str = "data.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def test_json_objects_flatten_under_their_key_paths(tmp_path: Path) -> None:
    order = {
        "title": "Order 7",
        "paid": True,
        "tags": ["rush", "gift"],
        "customer": {"name": "Ann Lee", "address": {"city": "Paris", "zip": "75001"}},
        "items": [{"sku": "X1", "qty": 2}, {"sku": "Y2", "qty": 1, "note": None}],
    }
    doc = extract(_json(tmp_path, order), JSON)
    assert paths_of(doc) == [[], ["customer"], ["customer", "address"], ["items"]]
    assert section(doc).text == "title: Order 7\npaid: true\ntags: rush, gift"
    assert section(doc, "customer", "address").text == "city: Paris\nzip: 75001"
    assert section(doc, "items").text == "[0] sku: X1 | qty: 2\n\n[1] sku: Y2 | qty: 1 | note: null"
    assert doc.title == "Order 7"


def test_json_long_records_are_blocks_of_dotted_fields(tmp_path: Path) -> None:
    record = {"name": "A" * 150, "address": {"city": "Oslo", "lines": ["x" * 80, "y"]}}
    doc = extract(_json(tmp_path, [record]), JSON)
    assert doc.sections[0].heading_path == []
    assert doc.sections[0].text == (
        f"[0]\nname: {'A' * 150}\naddress.city: Oslo\naddress.lines: {'x' * 80}, y"
    )


@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
def test_deep_json_is_refused_with_a_reason_not_a_crash(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * depth + "]" * depth)
    with pytest.raises(DocumentTooComplex) as caught:
        extract(path, JSON)
    assert "nested more than 64 levels" in caught.value.reason
    assert caught.value.category == "too_complex"


def test_json_of_exactly_the_depth_limit_is_read(tmp_path: Path) -> None:
    value: object = "bottom"
    for _ in range(64):  # 64 objects inside each other: the limit, still read
        value = {"k": value}
    doc = extract(_json(tmp_path, value), JSON)
    assert doc.sections[0].heading_path == ["k"] * 63
    assert doc.sections[0].text == "k: bottom"


def test_huge_json_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = _json(tmp_path, list(range(200_001)))
    with pytest.raises(DocumentTooComplex, match="more than 200,000 values"):
        extract(path, JSON)


def test_invalid_json_says_where_it_breaks(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"a": 1,\n "b": }')
    with pytest.raises(Exception, match="line 2, column 7") as caught:
        extract(path, JSON)
    assert caught.value.category == "corrupt"  # type: ignore[attr-defined]


# --- Markdown ---------------------------------------------------------------------


def test_markdown_headings_nest_and_markup_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(
        "---\ntitle: Front matter title\ndraft: true\n---\n"
        "# Guide\n\nSome *emphasis*, **strong** and a [link text](https://example.com) "
        "with `code`.\n\n"
        "## Steps\n\n1. install\n2. run\n   - with care\n\n"
        "```python\nprint('hi')\n```\n\n"
        "| Name | Role |\n|------|------|\n| Ann | Lead |\n\n"
        "Setext heading\n--------------\n\nUnder it.\n"
    )
    doc = extract(path, MARKDOWN)
    assert paths_of(doc) == [["Guide"], ["Guide", "Steps"], ["Guide", "Setext heading"]]
    assert section(doc, "Guide").text == "Some emphasis, strong and a link text with code."
    steps = section(doc, "Guide", "Steps").text
    assert steps == (
        "1. install\n2. run\n  - with care\n\n```python\nprint('hi')\n```\n\nName | Role\nAnn | Lead"
    )
    everything = " ".join(s.text for s in doc.sections)
    assert "Front matter" not in everything and "draft" not in everything
    assert "https://" not in everything and "*" not in everything
    assert doc.title == "Guide"


# --- HTML -------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head>{meta}<title>{title}</title><style>.x {{ color: red }}</style>
<script>var secret = "SCRIPT";</script></head>
<body>
<noscript>NOSCRIPT</noscript><template><p>TEMPLATE</p></template>
<h1>{h1}</h1>
<p>{para} <b>bold</b> <a href="/x">link</a></p>
<div hidden>HIDDEN-ATTR</div>
<p style="color: red; display : none">DISPLAY-NONE</p>
<span aria-hidden="true">ARIA-HIDDEN</span>
<ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul>
<h2>Figures</h2>
<table><tr><th>Region</th><th>Sales</th></tr><tr><td>North</td><td><p>12</p></td></tr></table>
<h3>Detail</h3><pre>line 1
  line 2</pre>
</body></html>"""


def test_html_keeps_what_a_reader_sees_with_headings_lists_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        PAGE.format(meta='<meta charset="utf-8">', title="Report page", h1="Report", para="Intro"),
        encoding="utf-8",
    )
    doc = extract(path, HTML)
    assert paths_of(doc) == [["Report"], ["Report", "Figures"], ["Report", "Figures", "Detail"]]
    assert section(doc, "Report").text == "Intro bold link\n\n- one\n  - nested\n- two"
    assert section(doc, "Report", "Figures").text == "Region | Sales\nNorth | 12"
    assert section(doc, "Report", "Figures", "Detail").text == "line 1\n  line 2"
    everything = " ".join(s.text for s in doc.sections)
    for hidden in ("SCRIPT", "NOSCRIPT", "TEMPLATE", "HIDDEN-ATTR", "DISPLAY-NONE", "ARIA-HIDDEN", "color"):
        assert hidden not in everything
    assert doc.title == "Report page"


@pytest.mark.parametrize(
    ("meta", "encoding", "expected"),
    [
        ('<meta charset="windows-1251">', "cp1251", "cp1251"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">', "cp1251", "cp1251"),
        ('<meta charset="ISO-8859-1">', "latin-1", "cp1252"),  # as browsers read it
    ],
)
def test_html_encoding_comes_from_the_meta_charset(
    tmp_path: Path, meta: str, encoding: str, expected: str
) -> None:
    if encoding == "cp1251":
        title, h1, para = "Отчёт", "Привет, мир", "Съешь же ещё этих мягких булок"
    else:
        title, h1, para = "Café", "Crème brûlée", "Le naïf garçon à Zoë"
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.format(meta=meta, title=title, h1=h1, para=para).encode(encoding))
    doc = extract(path, HTML)
    assert doc.encoding == expected
    assert doc.title == title
    assert doc.sections[0].heading_path == [h1]
    assert doc.sections[0].text.startswith(para)


def test_html_without_visible_text_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.html"
    path.write_text("<html><body><script>x()</script><div hidden>secret</div></body></html>")
    with pytest.raises(EmptyDocument):
        extract(path, HTML)


# --- PDF tables -------------------------------------------------------------------

ROWS = [["Item", "Q1", "Q2", "Total"], ["Rent", "10", "12", "22"], ["Staff", "30", "31", "61"]]


@pytest.mark.parametrize("outline", [False, True])
def test_pdf_tables_become_rows_in_place_of_their_cells(tmp_path: Path, outline: bool) -> None:
    path = make_table_pdf(tmp_path / "costs.pdf", ROWS, outline=outline)
    doc = extract(path, PDF)
    assert paths_of(doc) == [["Costs by quarter"]]
    assert doc.sections[0].text == (
        "The figures for the quarter are below.\n\n"
        "Item | Q1 | Q2 | Total\nRent | 10 | 12 | 22\nStaff | 30 | 31 | 61\n\n"
        "All amounts are in thousands of euros."
    )
