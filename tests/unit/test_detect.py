"""The content of an upload decides its type; the name only shapes the error message."""

from __future__ import annotations

import random
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from doclane.extraction import (
    CorruptDocument,
    EmptyDocument,
    UnsupportedFileType,
    sniff_content_type,
)
from doclane.extraction.detect import DOCX, HTML, JSON, MARKDOWN, PPTX
from tests.utils.documents import make_docx, make_pdf, make_pptx, make_zip

PDF = "application/pdf"
TEXT = "text/plain"
HEAD = 8192


def head_of(path: Path) -> bytes:
    return path.read_bytes()[:HEAD]


def test_a_pdf_is_a_pdf(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "report.pdf", ["Quarterly results."])
    assert sniff_content_type(head_of(path), "report.pdf") == PDF


def test_a_pdf_named_txt_is_still_a_pdf(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "notes.txt", ["Quarterly results."])
    assert sniff_content_type(head_of(path), "notes.txt") == PDF


def test_pdf_header_after_leading_junk_is_accepted_like_pdf_readers_do() -> None:
    head = b"\x00\x01junk from a mail gateway\n" * 20 + b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    assert head.index(b"%PDF-") < 1024
    assert sniff_content_type(head, "mail.bin") == PDF


def test_pdf_marker_far_into_the_file_does_not_make_it_a_pdf() -> None:
    head = b"A note that later quotes the string %PDF-1.4 in passing.\n".rjust(2000)
    assert head.index(b"%PDF-") > 1024
    assert sniff_content_type(head, "note.txt") == TEXT


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252"]
)
def test_text_in_common_encodings_is_text(encoding: str) -> None:
    text = "Meeting notes: the café owner's naïve plan costs 5 € and was approved.\n" * 5
    data = text.encode(encoding)
    if encoding == "utf-16-le":
        data = b"\xff\xfe" + data  # a BOM makes UTF-16 text despite its NUL bytes
    assert sniff_content_type(data, "notes.txt") == TEXT


def test_text_cut_in_the_middle_of_a_character_is_still_text() -> None:
    data = ("Zürich, " * 3000).encode("utf-8")
    head = data[:HEAD]
    with pytest.raises(UnicodeDecodeError):
        head.decode("utf-8")
    assert sniff_content_type(head, "notes.txt") == TEXT
    assert sniff_content_type(("Zürich, " * 3000).encode("utf-16")[:8191], "a.txt") == TEXT


def test_text_with_any_extension_is_text() -> None:
    assert sniff_content_type(b"Plain words in a file.\n", "data.bin") == TEXT
    assert sniff_content_type(b"Plain words in a file.\n", "") == TEXT


def test_text_named_pdf_is_rejected_saying_the_content_is_not_a_pdf() -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        sniff_content_type(b"Just some plain text, not a PDF at all.\n", "invoice.PDF")
    assert caught.value.category == "unsupported_type"
    assert "isn't a PDF" in caught.value.reason


def _zip_bytes() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100), "PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100), "JPEG image"),
        (_zip_bytes(), "ZIP archive"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(100), "program"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(range(256)) * 4, "program"),
    ],
)
def test_binary_files_are_rejected_naming_what_they_look_like(head: bytes, what: str) -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        sniff_content_type(head, "upload.txt")
    assert what in caught.value.reason
    assert "PDF or a plain-text file" in caught.value.reason


@pytest.mark.parametrize("allow_nul", [True, False])
def test_random_bytes_are_rejected_naming_the_accepted_types(allow_nul: bool) -> None:
    rng = random.Random(7)
    low = 0 if allow_nul else 1
    head = bytes(rng.randrange(low, 256) for _ in range(HEAD))
    with pytest.raises(UnsupportedFileType) as caught:
        sniff_content_type(head, "mystery.dat")
    assert "PDF or a plain-text file" in caught.value.reason
    assert caught.value.retryable is False


def test_mostly_control_characters_is_not_text() -> None:
    head = bytes(range(1, 9)) * 200 + b"a few letters"
    with pytest.raises(UnsupportedFileType):
        sniff_content_type(head, "log.txt")


def test_an_empty_file_is_rejected_as_empty() -> None:
    with pytest.raises(EmptyDocument) as caught:
        sniff_content_type(b"", "empty.txt")
    assert caught.value.category == "no_text"
    assert "empty" in caught.value.reason


# --- the other formats ------------------------------------------------------------


def sniff_file(path: Path) -> str:
    """As uploads call it: the head plus the stored file."""
    return sniff_content_type(head_of(path), path.name, path=path)


def test_docx_and_pptx_are_told_apart_by_their_parts_not_their_names(tmp_path: Path) -> None:
    docx_file = make_docx(tmp_path / "report.docx", [("h1", "Report"), ("p", "Text.")])
    pptx_file = make_pptx(tmp_path / "deck.pptx", [{"title": "Deck"}])
    assert sniff_file(docx_file) == DOCX
    assert sniff_file(pptx_file) == PPTX
    for name in ("upload.bin", "deck.docx", "x.pdf.zip"):
        renamed = tmp_path / name
        renamed.write_bytes(pptx_file.read_bytes())
        assert sniff_file(renamed) == PPTX


def test_office_files_are_recognised_from_the_head_alone_too(tmp_path: Path) -> None:
    # Office writes [Content_Types].xml and the main parts first, so 8 KiB usually suffice.
    docx_file = make_docx(tmp_path / "a.docx", [("p", "Text.")])
    pptx_file = make_pptx(tmp_path / "b.pptx", [{"title": "Deck"}])
    assert sniff_content_type(head_of(docx_file), "a.bin") == DOCX
    assert sniff_content_type(head_of(pptx_file), "b.bin") == PPTX


def test_a_spreadsheet_is_named_and_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "sheet.xlsx", {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<w/>"})
    with pytest.raises(UnsupportedFileType, match="Excel spreadsheet"):
        sniff_file(path)


@pytest.mark.parametrize("name", ["report.docx", "deck.pptx", "macro.docm"])
def test_text_named_like_an_office_file_is_refused_like_a_fake_pdf(name: str) -> None:
    with pytest.raises(UnsupportedFileType, match="its content isn't one"):
        sniff_content_type(b"Just some notes, not an Office file.\n", name)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b'{"customer": {"name": "Ann"}}', "order.txt"),
        (b"[1, 2, 3]", "numbers.dat"),
        (b'  \n[{"a": 1}]', "records"),
        (b'"just a string"', "value.json"),
        (b"\xef\xbb\xbf{\"bom\": true}", "bom.json"),
    ],
)
def test_json_is_json_when_it_parses(content: bytes, name: str) -> None:
    assert sniff_content_type(content, name) == JSON


def test_text_that_only_starts_with_a_bracket_is_not_json() -> None:
    assert sniff_content_type(b"[1] Smith, J. A study of things.\n", "refs.txt") == TEXT
    assert sniff_content_type(b"{draft} notes for later\n", "notes.txt") == TEXT


def test_a_big_json_file_is_json_by_its_start_and_parsed_only_by_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "big.data"
    path.write_text('[{"id": 1, "name": "' + "x" * 2_000_000 + '"}]')
    assert sniff_file(path) == JSON


def test_a_json_named_file_that_is_not_json_says_where_it_breaks() -> None:
    with pytest.raises(CorruptDocument, match=r"isn't valid JSON.*line 1, column 9"):
        sniff_content_type(b'{"a": 1,,}', "broken.json")


def test_deeply_nested_json_is_still_sniffed_as_json_without_crashing() -> None:
    assert sniff_content_type(b"[" * 100_000 + b"]" * 100_000, "deep.json") == JSON


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body><p>Hi</p></body></html>",
        b"  <html lang='en'><head><title>T</title></head></html>",
        b"<!-- saved page -->\n<HTML><BODY>Text</BODY></HTML>",
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    ],
)
def test_html_is_recognised_by_its_markup(content: bytes) -> None:
    assert sniff_content_type(content, "page.txt") == HTML


def test_an_html_fragment_is_html_when_named_so() -> None:
    assert sniff_content_type(b"<p>Hello <b>there</b></p>", "part.html") == HTML
    assert sniff_content_type(b"<p>Hello <b>there</b></p>", "part.txt") == TEXT


def test_markdown_by_extension_or_by_strong_markers() -> None:
    assert sniff_content_type(b"Just a line.\n", "readme.md") == MARKDOWN
    assert sniff_content_type(b"Just a line.\n", "notes.markdown") == MARKDOWN
    marked = b"# Setup\n\nRead [the docs](https://x.org) first.\n"
    assert sniff_content_type(marked, "setup.txt") == MARKDOWN
    listed = b"## Steps\n\n- install\n- run\n"
    assert sniff_content_type(listed, "steps") == MARKDOWN
    fenced = b"# Build\n\n```sh\nmake\n```\n"
    assert sniff_content_type(fenced, "build") == MARKDOWN


def test_headings_alone_or_lists_alone_stay_plain_text() -> None:
    assert sniff_content_type(b"# Notes\n\nWe met on Monday.\n", "notes.txt") == TEXT
    assert sniff_content_type(b"Shopping:\n- milk\n- bread\n", "list.txt") == TEXT


def test_the_refusal_lists_every_format_we_read() -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        sniff_content_type(b"\x89PNG\r\n\x1a\n" + bytes(100), "picture.png")
    for fmt in ("Word (DOCX)", "PowerPoint (PPTX)", "HTML", "Markdown", "JSON", "PDF", "plain-text"):
        assert fmt in caught.value.reason
