"""Hostile files made on the fly: damaged, lying, nested, bombs and polyglots of every format.

Each generator writes one file and returns its path; :data:`CORPUS` pairs every case
with the outcome it must have when uploaded (refused at upload with a status code,
or accepted and then ``failed`` or ``completed``) and words the reason must contain.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.utils.documents import (
    make_docx,
    make_encrypted_office,
    make_pdf,
    make_pptx,
    make_zip,
    make_zip_bomb,
)

__all__ = ["CORPUS", "HostileCase", "make_nested_pdf", "raw_pdf"]


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF built by hand from object bodies (numbered from 1; object 1 is the catalog)."""
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _page_pdf(resources: bytes, text: bytes = b"Hello") -> bytes:
    stream = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources " + resources + b" >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ])


def make_nested_pdf(path: Path, depth: int = 100_000) -> Path:
    """A PDF whose page holds arrays nested ``depth`` deep: MuPDF's parser gives up on it."""
    path.write_bytes(_page_pdf(b"<< /X " + b"[" * depth + b"]" * depth + b" >>"))
    return path


def _write(data: bytes) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path
    return make


def _pdf_bomb(path: Path) -> Path:
    # A content stream that inflates 1000x (FlateDecode of 20 MB of spaces).
    import zlib

    packed = zlib.compress(b" " * (20 << 20), 9)
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
    ]))
    return path


def _encrypted_pdf(path: Path) -> Path:
    return make_pdf(path, ["Secret plans."], encrypt=True)


def _truncated_pdf(path: Path) -> Path:
    make_pdf(path, ["Some text that will be cut off in the middle of the file."])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _docx_bomb(path: Path) -> Path:
    return make_zip_bomb(path, unpacked_mb=20)


def _pptx_bomb(path: Path) -> Path:
    return make_zip_bomb(path.with_suffix(".pptx"), unpacked_mb=20)


def _broken_docx(path: Path) -> Path:
    make_docx(path, [("p", "A paragraph.")])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _docx_without_document(path: Path) -> Path:
    return make_zip(path, {"[Content_Types].xml": "<Types/>", "word/other.xml": "<x/>"})


def _pptx_truncated(path: Path) -> Path:
    make_pptx(path, [{"title": "Slide", "body": "Text"}])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _deep_json(path: Path) -> Path:
    path.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    return path


def _wide_json(path: Path) -> Path:
    path.write_text(json.dumps({f"k{i}": i for i in range(200_000)}))
    return path


def _markdown_nesting(path: Path) -> Path:
    path.write_text("> " * 50_000 + "quote\n" + "- " * 20_000 + "item\n" + "[" * 50_000)
    return path


def _html_nesting(path: Path) -> Path:
    path.write_text("<html><body>" + "<div>" * 100_000 + "deep text" + "</div>" * 100_000
                    + "<script>" + "x" * 10_000 + "</script></body></html>")
    return path


def _html_only_script(path: Path) -> Path:
    path.write_text("<html><head><script>alert(1)</script><style>p{}</style></head><body></body></html>")
    return path


def _gzip_text(path: Path) -> Path:
    path.write_bytes(gzip.compress(b"hello " * 100_000))
    return path


def _exe_named_pdf(path: Path) -> Path:
    path.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(range(256)) * 8)
    return path


def _pdf_zip_polyglot(path: Path) -> Path:
    # A PDF with a ZIP (a DOCX's skeleton) appended: both parsers could claim it.
    make_pdf(path, ["A PDF that is also a ZIP archive."])
    extra = path.with_suffix(".zip")
    make_zip(extra, {"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
    path.write_bytes(path.read_bytes() + extra.read_bytes())
    extra.unlink()
    return path


def _html_named_txt(path: Path) -> Path:
    path.write_text("<!DOCTYPE html><html><body><h1>Title</h1><p>Body text here.</p>"
                    "<script>steal()</script></body></html>")
    return path


def _nul_text(path: Path) -> Path:
    path.write_bytes(b"text\x00" * 1000)
    return path


def _invalid_utf8(path: Path) -> Path:
    path.write_bytes(b"Caf\xc3 na\xefve \xff\xfe words that are mostly fine. " * 50)
    return path


Outcome = Literal["refused", "failed", "completed"]


@dataclass(frozen=True)
class HostileCase:
    """One hostile upload: file name, how to make it, what must happen, words the reason needs."""

    name: str
    make: Callable[[Path], Path]
    outcome: Outcome
    words: tuple[str, ...] = ()
    #: For "refused": the per-file status code.
    status_code: int | None = None

    def __str__(self) -> str:
        return self.name


CORPUS: list[HostileCase] = [
    HostileCase("nested.pdf", make_nested_pdf, "failed", ("nested",)),
    HostileCase("encrypted.pdf", _encrypted_pdf, "failed", ("password",)),
    HostileCase("truncated.pdf", _truncated_pdf, "failed", ()),
    HostileCase("bomb.pdf", _pdf_bomb, "failed", ("no text",)),
    HostileCase("exe.pdf", _exe_named_pdf, "refused", ("PDF",), 415),
    HostileCase("polyglot.pdf", _pdf_zip_polyglot, "completed"),
    HostileCase("bomb.docx", _docx_bomb, "refused", ("zip bomb",), 422),
    HostileCase("bomb.pptx", _pptx_bomb, "refused", ("zip bomb",), 422),
    HostileCase("half.docx", _broken_docx, "refused", (), None),
    HostileCase("hollow.docx", _docx_without_document, "failed", ()),
    HostileCase("half.pptx", _pptx_truncated, "refused", (), None),
    HostileCase("encrypted.docx", make_encrypted_office, "refused", ("password",), None),
    HostileCase("deep.json", _deep_json, "failed", ()),
    HostileCase("wide.json", _wide_json, "failed", ("more than 200,000 values",)),
    # Nesting past markdown-it's limit drops the text: "no text" (see the issue 12 report).
    HostileCase("deep.md", _markdown_nesting, "failed", ("no text",)),
    # 100,000 nested divs: refused before parsing, whose cost grows with the square of the depth.
    HostileCase("deep.html", _html_nesting, "failed", ("1,000 levels deep",)),
    HostileCase("script-only.html", _html_only_script, "failed", ("no text",)),
    HostileCase("gzip.txt", _gzip_text, "refused", (), 415),
    HostileCase("html-named.txt", _html_named_txt, "completed"),
    HostileCase("nul.txt", _nul_text, "refused", (), 415),
    HostileCase("latin-ish.txt", _invalid_utf8, "completed"),
    HostileCase("../../etc/passwd", _write(b"root:x:0:0:root:/root:/bin/bash\n"), "completed"),
    HostileCase("con.txt\x00.pdf", _write(b"A name with a NUL byte."), "refused", ("PDF",), 415),
    HostileCase("\uff46\uff55\uff4c\uff4c-width\u202egnp.txt", _write(b"Right-to-left override."),
                "completed"),
    HostileCase("x" * 1000 + ".txt", _write(b"A very long name."), "completed"),
]


