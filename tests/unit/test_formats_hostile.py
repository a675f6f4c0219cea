"""Hostile and broken Office files are refused with a reason, by the sniffer and by the readers."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from doclane.extraction import (
    CorruptDocument,
    EncryptedDocument,
    ExtractionError,
    MacroDocument,
    SuspiciousArchive,
    UnsupportedFileType,
    _office,
    extract,
    sniff_content_type,
)
from doclane.extraction.detect import DOCX, PPTX
from tests.utils.documents import (
    add_to_zip,
    make_docx,
    make_encrypted_office,
    make_pptx,
    make_zip,
    make_zip_bomb,
)


def sniff(path: Path) -> str:
    return sniff_content_type(path.read_bytes()[:8192], path.name, path=path)


def refused_both_ways(path: Path, error: type[ExtractionError], content_type: str = DOCX) -> ExtractionError:
    """The sniffer refuses it at upload, and the reader refuses it if asked directly."""
    with pytest.raises(error) as at_upload:
        sniff(path)
    with pytest.raises(error) as in_reader:
        extract(path, content_type)
    assert at_upload.value.reason.endswith(".")
    assert type(at_upload.value) is type(in_reader.value)
    return at_upload.value


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path: Path) -> None:
    path = make_zip_bomb(tmp_path / "bomb.docx", unpacked_mb=20)
    assert path.stat().st_size < 100_000
    error = refused_both_ways(path, SuspiciousArchive)
    assert "zip bomb" in error.reason
    assert error.category == "unsafe_archive"


def test_an_archive_that_unpacks_too_big_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parts stored as they are (ratio 1, no bomb) that add up past the limit, made small here.
    monkeypatch.setattr(_office, "MAX_UNPACKED_BYTES", 3 * 2**20)
    entries: dict[str, bytes | str] = {"[Content_Types].xml": "<Types/>"}
    entries.update({f"word/media/image{i}.bin": b"x" * 2**20 for i in range(4)})
    path = make_zip(tmp_path / "big.docx", entries, compress=False)
    error = refused_both_ways(path, SuspiciousArchive)
    assert "unpacks to 4 MB, more than the 3 MB" in error.reason


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    entries: dict[str, bytes | str] = {"[Content_Types].xml": "<Types/>"}
    entries.update({f"ppt/slides/slide{i}.xml": "" for i in range(5001)})
    path = make_zip(tmp_path / "many.pptx", entries)
    error = refused_both_ways(path, SuspiciousArchive, PPTX)
    assert "5,002 parts" in error.reason


def test_a_docx_with_a_vba_project_is_refused_as_macros(tmp_path: Path) -> None:
    clean = make_docx(tmp_path / "clean.docx", [("p", "Hello.")])
    path = add_to_zip(clean, tmp_path / "macro.docx", {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0VBA"})
    error = refused_both_ways(path, MacroDocument)
    assert "macros" in error.reason and ".docx" in error.reason


def test_a_macro_enabled_content_type_is_refused(tmp_path: Path) -> None:
    entries: dict[str, bytes | str] = {
        "[Content_Types].xml": (
            '<Types><Override PartName="/ppt/presentation.xml" ContentType="application/'
            'vnd.ms-powerpoint.presentation.macroEnabled.main+xml"/></Types>'
        ),
        "ppt/presentation.xml": "<p:presentation/>",
    }
    path = make_zip(tmp_path / "deck.pptm", entries)
    refused_both_ways(path, MacroDocument, PPTX)


def test_an_encrypted_office_file_asks_for_the_password_to_be_removed(tmp_path: Path) -> None:
    path = make_encrypted_office(tmp_path / "locked.docx")
    error = refused_both_ways(path, EncryptedDocument)
    assert "password" in error.reason
    assert error.category == "encrypted"


def test_an_old_style_office_file_is_unsupported_not_encrypted(tmp_path: Path) -> None:
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000))
    with pytest.raises(UnsupportedFileType, match=r"old-style Office document.*\.docx"):
        sniff(path)


def test_a_truncated_docx_is_corrupt(tmp_path: Path) -> None:
    whole = make_docx(tmp_path / "whole.docx", [("h1", "Title"), ("p", "Some text. " * 200)])
    path = tmp_path / "cut.docx"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    error = refused_both_ways(path, CorruptDocument)
    assert "damaged" in error.reason


def test_a_docx_with_broken_xml_is_corrupt(tmp_path: Path) -> None:
    clean = make_docx(tmp_path / "clean.docx", [("p", "Hello.")])
    entries: dict[str, bytes | str] = {}
    with zipfile.ZipFile(clean) as archive:
        for name in archive.namelist():
            entries[name] = archive.read(name)
    entries["word/document.xml"] = b"<w:document><unclosed"
    path = make_zip(tmp_path / "broken.docx", entries)
    assert sniff(path) == DOCX  # the archive is fine; its content isn't
    with pytest.raises(CorruptDocument, match="damaged"):
        extract(path, DOCX)


def test_a_zip_that_is_not_office_is_unsupported(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "photos.zip", {"a.txt": "hello", "b/c.txt": "world"})
    with pytest.raises(UnsupportedFileType, match="ZIP archive"):
        sniff(path)
    named_docx = make_zip(tmp_path / "report.docx", {"a.txt": "hello"})
    with pytest.raises(UnsupportedFileType, match="named like a Word document"):
        sniff(named_docx)


def test_a_pptx_renamed_docx_is_processed_as_pptx(tmp_path: Path) -> None:
    path = make_pptx(tmp_path / "deck.docx", [{"title": "Renamed", "body": ["Slides inside."]}])
    content_type = sniff(path)
    assert content_type == PPTX
    doc = extract(path, content_type)
    assert doc.sections[0].heading_path == ["Renamed"]
    with pytest.raises(UnsupportedFileType, match="isn't a Word document"):
        extract(path, DOCX)  # the Word reader doesn't guess


# --- HTML whose nesting would make the parser quadratic (40k levels: ~25 s; 10 MB: hours) ---

@pytest.mark.parametrize("opening", ["<div>", "<table><tr><td>", "<ul><li>", "<span><b>",
                                     "<div><svg><path/></svg><script>x</script>", "<div class='a>'>"])
def test_html_nested_past_what_browsers_build_is_refused_with_a_reason(opening: str) -> None:
    from doclane.extraction import DocumentTooComplex
    from doclane.extraction.html_reader import MAX_NESTING, parse_html

    page = "<!DOCTYPE html><html><body>" + opening * (MAX_NESTING + 10) + "deep"
    with pytest.raises(DocumentTooComplex) as refused:
        parse_html(page.encode())
    assert f"{MAX_NESTING:,} levels" in refused.value.reason


def test_html_nested_deep_but_within_the_limit_is_read_and_unclosed_paragraphs_do_not_count() -> None:
    from doclane.extraction.html_reader import MAX_NESTING, parse_html

    # <p>, <li> and friends close themselves, and void elements never open: they don't nest.
    sloppy = "<p>para <br><img src=x><li>item " * (3 * MAX_NESTING)
    # Markup inside comments, scripts and styles is text, not elements.
    divs = "<div>" * (2 * MAX_NESTING)
    inert = f"<!-- {divs} --><script>var s='{divs}'</script><style>/* {divs} */</style>"
    page = "<html><body>" + inert + "<div>" * (MAX_NESTING - 10) + "deep text" + "</div>" * 10 + sloppy
    doc = parse_html(page.encode())
    assert "deep text" in doc.sections[0].text


def test_the_nesting_count_stays_linear_on_tags_that_never_end() -> None:
    from doclane.extraction.html_reader import parse_html

    # Each "<a" without a ">" must not make the scan read to the end of the file again.
    doc = parse_html(b"<html><body><p>start</p>" + b"<a" * 200_000)
    assert doc.sections[0].text.startswith("start")
