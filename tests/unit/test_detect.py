"""The content of an upload decides its type; the name only shapes the error message."""

from __future__ import annotations

import random
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from doclane.extraction import (
    EmptyDocument,
    UnsupportedFileType,
    sniff_content_type,
)
from tests.utils.documents import make_pdf

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
