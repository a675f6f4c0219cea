"""Bad files get a clear answer each, and never sink their valid siblings."""

from __future__ import annotations

from tests.utils.api import upload, wait_until_terminal
from tests.utils.documents import make_image_only_pdf, make_pdf, make_report_pdf, make_text


async def test_a_mixed_batch_accepts_the_good_and_explains_the_bad(alice, tmp_path):
    good_pdf = tmp_path / "good.pdf"
    make_report_pdf(good_pdf, n_pages=2)
    good_txt = make_text(tmp_path / "good.txt", "Plain notes about the quarterly plan.")
    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(range(256)) * 4)
    png = tmp_path / "picture.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    r = await upload(alice, [good_pdf, fake_pdf, good_txt, png, empty])
    assert r.status_code == 202, r.text
    results = {x["filename"]: x for x in r.json()["results"]}
    assert [x["filename"] for x in r.json()["results"]] == [
        "good.pdf", "fake.pdf", "good.txt", "picture.txt", "empty.txt"]
    assert results["good.pdf"]["accepted"] and results["good.txt"]["accepted"]
    assert results["fake.pdf"]["status_code"] == 415
    assert "PDF" in results["fake.pdf"]["detail"]
    assert results["picture.txt"]["status_code"] == 415
    assert not results["empty.txt"]["accepted"] and "empty" in results["empty.txt"]["detail"]
    for name in ("good.pdf", "good.txt"):
        detail = await wait_until_terminal(alice, results[name]["document"]["id"])
        assert detail["status"] == "completed", detail


async def test_a_batch_with_no_good_file_is_a_4xx_with_detail(alice, tmp_path):
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(bytes(range(256)) * 8)
    r = await upload(alice, [junk])
    assert r.status_code == 415
    body = r.json()
    assert body["detail"].startswith("No file was accepted.")
    assert body["results"][0]["accepted"] is False


async def test_an_oversized_file_is_refused_with_the_limit(alice, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (11 * 1024 * 1024 // 5))
    small = make_text(tmp_path / "small.txt", "Short and fine.")
    r = await upload(alice, [big, small])
    assert r.status_code == 202
    big_result, small_result = r.json()["results"]
    assert big_result["status_code"] == 413 and "10 MB" in big_result["detail"]
    assert small_result["accepted"]


async def test_a_request_without_files_says_to_send_files(alice):
    r = await alice.post("/documents/upload", data={"priority": "high"})
    assert r.status_code == 422
    assert "files" in r.json()["detail"]


async def test_content_decides_the_type_not_the_extension(alice, tmp_path):
    pdf_named_txt = tmp_path / "actually-a-pdf.txt"
    make_report_pdf(pdf_named_txt, n_pages=1)
    r = await upload(alice, [pdf_named_txt])
    doc = r.json()["results"][0]["document"]
    assert doc["content_type"] == "application/pdf"
    assert (await wait_until_terminal(alice, doc["id"]))["status"] == "completed"


async def test_unreadable_pdfs_fail_with_a_reason_a_person_understands(alice, tmp_path):
    encrypted = make_pdf(tmp_path / "locked.pdf", ["Secret plans."], encrypt=True)
    scanned = make_image_only_pdf(tmp_path / "scan.pdf")
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    r = await upload(alice, [encrypted, scanned, corrupt])
    assert r.status_code == 202
    outcome = {}
    for result in r.json()["results"]:
        detail = await wait_until_terminal(alice, result["document"]["id"])
        outcome[result["filename"]] = detail
    for name, category, words in [
        ("locked.pdf", "encrypted", "password"),
        ("scan.pdf", "no_text", "text"),
        ("broken.pdf", "corrupt", "PDF"),
    ]:
        detail = outcome[name]
        assert detail["status"] == "failed", detail
        assert detail["error_category"] == category
        assert words in detail["error"]
        assert detail["history"][-1]["detail"] == detail["error"]


async def test_filenames_cannot_escape_the_upload_folder(alice, server, tmp_path):
    r = await alice.post(
        "/documents/upload",
        files=[("files", ("../../../evil.txt", b"Some harmless text that tries to escape."))],
    )
    doc = r.json()["results"][0]["document"]
    uploads = server.data_dir / "uploads"
    stored = list((uploads / doc["id"]).iterdir())
    assert [p.name for p in stored] == ["evil.txt"]
    assert not (server.data_dir.parent / "evil.txt").exists()


async def test_text_in_legacy_encodings_is_read_correctly(alice, tmp_path):
    text = "Résumé of the café meeting: the naïve plan was approved with enthusiasm."
    path = make_text(tmp_path / "latin.txt", text * 3, encoding="cp1252")
    doc = (await upload(alice, [path])).json()["results"][0]["document"]
    detail = await wait_until_terminal(alice, doc["id"])
    assert detail["status"] == "completed"
    chunks = (await alice.get(f"/documents/{doc['id']}/chunks")).json()
    assert "café" in chunks[0]["text"] and "naïve" in chunks[0]["text"]
