"""Extraction of PDFs and plain text into sections, as a user of the result sees them."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from doclane.extraction import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    ExtractionError,
    UnsupportedFileType,
    extract,
    sniff_content_type,
)
from doclane.schemas.extraction import ExtractedDocument, Section
from tests.utils.documents import (
    BODY_SIZE,
    make_image_only_pdf,
    make_pdf,
    make_report_pdf,
    make_text,
)

PDF = "application/pdf"
TEXT = "text/plain"

INTRO = "This report covers the first quarter. Sales rose in every region."
METHODS = "We interviewed forty customers. Each interview lasted one hour."
RESULTS = "Most customers want faster delivery. Prices matter less than expected."


def by_heading(doc: ExtractedDocument) -> dict[str, Section]:
    return {s.heading_path[-1] if s.heading_path else "": s for s in doc.sections}


def assert_pages_consistent(doc: ExtractedDocument) -> None:
    for section in doc.sections:
        assert 1 <= section.page_start <= section.page_end <= doc.page_count
        assert section.text.count("\f") == section.page_end - section.page_start
        assert section.text.strip()


# --- PDF structure ---------------------------------------------------------------


def test_outline_headings_become_section_paths_with_their_pages(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "study.pdf",
        [
            [("Introduction", 16), (INTRO, BODY_SIZE)],
            [("Methods", 16), (METHODS, BODY_SIZE), ("Interviews", 13), (METHODS, BODY_SIZE)],
            [("Results", 16), (RESULTS, BODY_SIZE)],
        ],
        toc=[(1, "Introduction", 1), (1, "Methods", 2), (2, "Interviews", 2), (1, "Results", 3)],
    )
    doc = extract(path, PDF)

    assert doc.content_type == PDF
    assert doc.page_count == 3
    assert [(s.heading_path, s.page_start, s.page_end) for s in doc.sections] == [
        (["Introduction"], 1, 1),
        (["Methods"], 2, 2),
        (["Methods", "Interviews"], 2, 2),
        (["Results"], 3, 3),
    ]
    sections = by_heading(doc)
    assert " ".join(sections["Introduction"].text.split()) == INTRO
    assert "Introduction" not in sections["Introduction"].text  # the heading is the path
    assert " ".join(sections["Interviews"].text.split()) == METHODS
    assert_pages_consistent(doc)


def test_an_outline_heading_in_the_middle_of_a_page_splits_the_page(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "mid.pdf",
        [[("Overview", 16), (INTRO, BODY_SIZE), ("Details", 16), (RESULTS, BODY_SIZE)]],
        toc=[(1, "Overview", 1), (1, "Details", 1)],
    )
    sections = by_heading(extract(path, PDF))
    assert "Sales rose" in sections["Overview"].text
    assert "Prices" not in sections["Overview"].text
    assert " ".join(sections["Details"].text.split()) == RESULTS


def test_outline_titles_match_headings_despite_numbering_and_case(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "numbered.pdf",
        [[(INTRO, BODY_SIZE), ("2.1 RISK FACTORS", 14), (RESULTS, BODY_SIZE)]],
        toc=[(1, "Risk factors", 1)],
    )
    doc = extract(path, PDF)
    assert [s.heading_path for s in doc.sections] == [[], ["Risk factors"]]
    assert "RISK" not in doc.sections[1].text
    assert "Sales rose" in doc.sections[0].text


def test_a_section_running_over_pages_keeps_its_text_and_page_range(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "long.pdf",
        [
            [("Background", 16), ("First page of the background.", BODY_SIZE)],
            "Second page of the background.",
            "Third page of the background.",
            [("Conclusion", 16), ("We conclude here.", BODY_SIZE)],
        ],
        toc=[(1, "Background", 1), (1, "Conclusion", 4)],
    )
    doc = extract(path, PDF)
    background = by_heading(doc)["Background"]
    assert (background.page_start, background.page_end) == (1, 3)
    assert background.text.split("\f") == [
        "First page of the background.",
        "Second page of the background.",
        "Third page of the background.",
    ]
    assert by_heading(doc)["Conclusion"].page_start == 4
    assert_pages_consistent(doc)


def test_font_sizes_give_headings_when_there_is_no_outline(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "fonts.pdf",
        [
            [("Field Study", 20), ("Introduction", 15), (INTRO, BODY_SIZE)],
            [("Methods", 15), (METHODS, BODY_SIZE), ("Interviews", 13), (METHODS, BODY_SIZE)],
            [(RESULTS, BODY_SIZE), ("Results", 15), (RESULTS, BODY_SIZE)],
        ],
    )
    doc = extract(path, PDF)
    assert [(s.heading_path, s.page_start, s.page_end) for s in doc.sections] == [
        (["Field Study", "Introduction"], 1, 1),
        (["Field Study", "Methods"], 2, 2),
        (["Field Study", "Methods", "Interviews"], 2, 3),  # runs onto page 3
        (["Field Study", "Results"], 3, 3),
    ]
    assert doc.title == "Field Study"
    assert_pages_consistent(doc)


def test_long_or_barely_larger_lines_are_not_headings(tmp_path: Path) -> None:
    quote = "A pull quote set in a large font " * 6
    path = make_pdf(
        tmp_path / "quotes.pdf",
        [[(INTRO, BODY_SIZE), (quote.strip(), 16), ("Slightly larger", BODY_SIZE + 0.5)]],
    )
    doc = extract(path, PDF)
    assert [s.heading_path for s in doc.sections] == [[]]
    assert "Slightly larger" in doc.sections[0].text
    assert "pull quote" in doc.sections[0].text


def test_a_large_running_header_on_every_page_is_not_a_heading(tmp_path: Path) -> None:
    pages = [
        [("ACME Quarterly Review", 14), (f"Body of page {n}. {INTRO}", BODY_SIZE)]
        for n in range(1, 6)
    ]
    pages[2] = [("ACME Quarterly Review", 14), ("Outlook", 18), (RESULTS, BODY_SIZE)]
    doc = extract(make_pdf(tmp_path / "running.pdf", pages), PDF)
    assert {tuple(s.heading_path) for s in doc.sections} == {(), ("Outlook",)}
    assert by_heading(doc)["Outlook"].page_end == 5


@pytest.mark.parametrize("with_outline", [True, False])
def test_report_sections_start_on_the_pages_of_their_headings(
    tmp_path: Path, with_outline: bool
) -> None:
    path = tmp_path / "report.pdf"
    outline = make_report_pdf(path, 12, with_outline=with_outline)
    doc = extract(path, PDF)

    assert doc.page_count == 12
    assert doc.title == "Annual Report"
    starts = {s.heading_path[-1]: s.page_start for s in doc.sections if s.heading_path}
    expected = {entry.title: entry.page for entry in outline if entry.level == 2}
    assert starts == expected  # subsections hold the body text; chapters are just paths
    chapters = {s.heading_path[-2] for s in doc.sections if len(s.heading_path) >= 2}
    assert chapters == {entry.title for entry in outline if entry.level == 1}
    assert any(s.page_end > s.page_start for s in doc.sections)
    assert_pages_consistent(doc)


def test_title_comes_from_metadata_when_present(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "meta.pdf", [[("Big Heading", 20), (INTRO, BODY_SIZE)]], title="Board Memo"
    )
    assert extract(path, PDF).title == "Board Memo"


def test_a_pdf_named_txt_is_read_as_a_pdf(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "memo.txt", [INTRO])
    content_type = sniff_content_type(path.read_bytes()[:8192], path.name)
    doc = extract(path, content_type)
    assert doc.content_type == PDF
    assert " ".join(doc.sections[0].text.split()) == INTRO


# --- PDFs that can't be read -----------------------------------------------------


def test_an_encrypted_pdf_asks_for_the_password_to_be_removed(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "locked.pdf", ["Secret plans."], encrypt=True)
    with pytest.raises(EncryptedDocument) as caught:
        extract(path, PDF)
    assert caught.value.category == "encrypted"
    assert "password" in caught.value.reason
    assert "upload it again" in caught.value.reason


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n" + b"\x00garbage" * 100,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        b"Not a PDF at all, just words.",
    ],
)
def test_a_corrupt_pdf_says_it_is_damaged(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    with pytest.raises(CorruptDocument) as caught:
        extract(path, PDF)
    assert caught.value.category == "corrupt"
    assert "PDF is damaged" in caught.value.reason
    assert "Error" not in caught.value.reason  # no exception class names for people


def test_an_image_only_pdf_says_ocr_is_not_supported(tmp_path: Path) -> None:
    path = make_image_only_pdf(tmp_path / "scan.pdf", n_pages=2)
    with pytest.raises(EmptyDocument) as caught:
        extract(path, PDF)
    assert caught.value.category == "no_text"
    assert "scanned" in caught.value.reason
    assert "OCR" in caught.value.reason


def test_a_pdf_of_blank_pages_has_no_text(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "blank.pdf", [[], []])
    with pytest.raises(EmptyDocument) as caught:
        extract(path, PDF)
    assert "no text" in caught.value.reason


def test_an_empty_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(EmptyDocument, match="empty"):
        extract(path, PDF)


def test_a_missing_file_is_not_blamed_on_the_document(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        extract(tmp_path / "gone.pdf", PDF)


def test_an_unknown_content_type_is_unsupported(tmp_path: Path) -> None:
    path = make_text(tmp_path / "x.bin", "words")
    with pytest.raises(UnsupportedFileType, match="PDF or a plain-text file"):
        extract(path, "image/png")


# --- plain text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "recorded"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("utf-16-be", "utf-16-be"),
        ("utf-32", "utf-32"),
        ("cp1252", "cp1252"),
        ("latin-1", "cp1252"),  # identical bytes for these characters
    ],
)
def test_text_encodings_are_detected_and_recorded(
    tmp_path: Path, encoding: str, recorded: str
) -> None:
    text = "Le café naïve de Zoë: crème brûlée à 5 euros, señor Müller.\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = "\ufeff".encode(encoding) + data
        recorded = "utf-16"
    path = tmp_path / "notes.txt"
    path.write_bytes(data)
    doc = extract(path, sniff_content_type(data[:8192], path.name))
    assert doc.sections[0].text == text.strip()
    assert doc.encoding == recorded


def test_short_cp1252_text_is_not_mistaken_for_central_european(tmp_path: Path) -> None:
    path = make_text(tmp_path / "a.txt", "Le café naïve.", encoding="cp1252")
    doc = extract(path, TEXT)
    assert doc.sections[0].text == "Le café naïve."


def test_central_european_text_keeps_its_letters(tmp_path: Path) -> None:
    text = "Zażółć gęślą jaźń. Łódź jest pięknym miastem w Polsce."
    doc = extract(make_text(tmp_path / "pl.txt", text, encoding="cp1250"), TEXT)
    assert doc.sections[0].text == text


def test_newlines_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "dos.txt"
    path.write_bytes(b"first line\r\nsecond line\rthird line\n")
    doc = extract(path, TEXT)
    assert doc.sections[0].text == "first line\nsecond line\nthird line"


def test_markdown_and_underlined_headings_become_sections(tmp_path: Path) -> None:
    text = (
        "Preface before any heading.\n\n"
        "Project Plan\n============\n\nThe plan in brief.\n\n"
        "Budget\n------\n\nTwo million euros.\n\n"
        "### Contingency\n\nTen percent. #not-a-heading\n\n"
        "```\n# a shell comment, not a heading\n```\n\n"
        "# Appendix #\n\nExtra tables.\n"
    )
    doc = extract(make_text(tmp_path / "plan.md", text), TEXT)
    assert [s.heading_path for s in doc.sections] == [
        [],
        ["Project Plan"],
        ["Project Plan", "Budget"],
        ["Project Plan", "Budget", "Contingency"],
        ["Appendix"],
    ]
    contingency = doc.sections[3].text
    assert "#not-a-heading" in contingency
    assert "# a shell comment" in contingency
    assert doc.title == "Project Plan"
    assert all(s.page_start == s.page_end == 1 for s in doc.sections)
    assert doc.page_count == 1


def test_a_dashed_line_after_a_paragraph_is_not_an_underline(tmp_path: Path) -> None:
    text = "A first paragraph\nwith two lines.\n---\nMore text.\n"
    doc = extract(make_text(tmp_path / "rule.txt", text), TEXT)
    assert [s.heading_path for s in doc.sections] == [[]]


def test_text_without_headings_is_one_section(tmp_path: Path) -> None:
    doc = extract(make_text(tmp_path / "memo.txt", f"{INTRO}\n\n{RESULTS}\n"), TEXT)
    assert len(doc.sections) == 1
    assert doc.sections[0].heading_path == []
    assert doc.title is None
    assert doc.sections[0].text == f"{INTRO}\n\n{RESULTS}"


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  ", "\ufeff \n".encode("utf-16")])
def test_blank_text_is_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    with pytest.raises(EmptyDocument) as caught:
        extract(path, TEXT)
    assert caught.value.category == "no_text"


def test_binary_content_sent_as_text_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(UnsupportedFileType) as caught:
        extract(path, TEXT)
    assert "plain text" in caught.value.reason


# --- contract with the pipeline --------------------------------------------------


def test_extract_can_be_sent_to_a_worker_process_and_its_result_round_trips(
    tmp_path: Path,
) -> None:
    assert pickle.loads(pickle.dumps(extract)) is extract  # noqa: S301 (our own bytes)
    path = tmp_path / "report.pdf"
    make_report_pdf(path, 3)
    doc = extract(path, PDF)
    assert ExtractedDocument.model_validate_json(doc.model_dump_json()) == doc
    assert pickle.loads(pickle.dumps(doc)) == doc  # noqa: S301


def test_errors_survive_the_trip_back_from_a_worker_process(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "locked.pdf", ["Secret plans."], encrypt=True)
    with pytest.raises(EncryptedDocument) as caught:
        extract(path, PDF)
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301
    assert type(copy) is EncryptedDocument
    assert copy.reason == caught.value.reason
    assert copy.category == "encrypted"


def test_every_error_is_an_extraction_error_with_a_category() -> None:
    for error in (UnsupportedFileType, CorruptDocument, EncryptedDocument, EmptyDocument):
        instance = error()
        assert isinstance(instance, ExtractionError)
        assert instance.reason.endswith(".")
        assert instance.retryable is False
    assert {
        e.category for e in (UnsupportedFileType, CorruptDocument, EncryptedDocument, EmptyDocument)
    } == {"unsupported_type", "corrupt", "encrypted", "no_text"}
