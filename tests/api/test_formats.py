"""Every supported format through a real server: one request, each file completes with its structure."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.utils.api import upload, wait_until_terminal
from tests.utils.documents import (
    make_docx,
    make_encrypted_office,
    make_pptx,
    make_report_pdf,
    make_text,
    make_zip_bomb,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PARAGRAPH = (
    "The committee reviewed the quarterly figures in detail. Revenue grew while costs "
    "stayed flat, which pleased the board. Maria will send the revised plan by Friday."
)


def _files(folder: Path) -> dict[str, tuple[Path, str, list[str]]]:
    """name -> (path, expected content type, a section path its chunks must include)."""
    docx_file = make_docx(
        folder / "plan.docx",
        [("h1", "Budget"), ("p", PARAGRAPH), ("table", [["Item", "Cost"], ["Rent", "10"]])],
    )
    pptx_file = make_pptx(
        folder / "deck.pptx",
        [{"title": "Kickoff", "body": [PARAGRAPH], "notes": "Thank the sponsors."}],
    )
    json_file = folder / "order.json"
    json_file.write_text(json.dumps({"customer": {"address": {"city": "Paris", "note": PARAGRAPH}}}))
    md_file = make_text(folder / "guide.md", f"# Guide\n\n## Install\n\n{PARAGRAPH}\n\n- step one\n")
    html_file = make_text(
        folder / "page.html",
        f"<!doctype html><html><head><title>Page</title><script>x()</script></head>"
        f"<body><h1>News</h1><p>{PARAGRAPH}</p><div hidden>SECRET</div></body></html>",
    )
    pdf_file = folder / "report.pdf"
    make_report_pdf(pdf_file, n_pages=2)
    txt_file = make_text(folder / "notes.txt", f"Weekly notes\n\n{PARAGRAPH}\n")
    return {
        "plan.docx": (docx_file, DOCX, ["Budget"]),
        "deck.pptx": (pptx_file, PPTX, ["Kickoff"]),
        "order.json": (json_file, "application/json", ["customer", "address"]),
        "guide.md": (md_file, "text/markdown", ["Guide", "Install"]),
        "page.html": (html_file, "text/html", ["News"]),
        "report.pdf": (pdf_file, "application/pdf", ["1. Executive Summary", "1.1 Highlights"]),
        "notes.txt": (txt_file, "text/plain", []),
    }


async def test_one_file_of_each_format_completes_with_its_sections(alice, tmp_path):
    files = _files(tmp_path)
    r = await upload(alice, [path for path, _, _ in files.values()])
    assert r.status_code == 202, r.text
    results = {x["filename"]: x for x in r.json()["results"]}
    assert set(results) == set(files)
    for name, (_, content_type, _) in files.items():
        assert results[name]["accepted"], results[name]
        assert results[name]["document"]["content_type"] == content_type

    details = await asyncio.gather(
        *(wait_until_terminal(alice, results[name]["document"]["id"]) for name in files)
    )
    for name, detail in zip(files, details, strict=True):
        assert detail["status"] == "completed", (name, detail)
        chunks = (await alice.get(f"/documents/{detail['id']}/chunks")).json()
        assert chunks, name
        paths = [c["section_path"] for c in chunks]
        assert files[name][2] in paths, (name, paths)
        text = " ".join(c["text"] for c in chunks)
        assert "revised plan" in text or name == "report.pdf", (name, text)

    by_name = dict(zip(files, details, strict=True))
    deck_chunks = (await alice.get(f"/documents/{by_name['deck.pptx']['id']}/chunks")).json()
    assert "Notes: Thank the sponsors." in deck_chunks[0]["text"]
    docx_chunks = (await alice.get(f"/documents/{by_name['plan.docx']['id']}/chunks")).json()
    assert "Item | Cost\nRent | 10" in docx_chunks[0]["text"]
    html_chunks = (await alice.get(f"/documents/{by_name['page.html']['id']}/chunks")).json()
    assert all("SECRET" not in c["text"] and "x()" not in c["text"] for c in html_chunks)


async def test_a_zip_bomb_and_a_locked_file_are_refused_while_siblings_complete(alice, tmp_path):
    bomb = make_zip_bomb(tmp_path / "bomb.docx", unpacked_mb=20)
    locked = make_encrypted_office(tmp_path / "locked.pptx")
    good = make_docx(tmp_path / "good.docx", [("h1", "Fine"), ("p", PARAGRAPH)])
    r = await upload(alice, [bomb, good, locked])
    assert r.status_code == 202, r.text
    results = {x["filename"]: x for x in r.json()["results"]}
    assert not results["bomb.docx"]["accepted"]
    assert 400 <= results["bomb.docx"]["status_code"] < 500
    assert "zip bomb" in results["bomb.docx"]["detail"]
    assert not results["locked.pptx"]["accepted"]
    assert 400 <= results["locked.pptx"]["status_code"] < 500
    assert "password" in results["locked.pptx"]["detail"]
    detail = await wait_until_terminal(alice, results["good.docx"]["document"]["id"])
    assert detail["status"] == "completed", detail
