"""The whole lifecycle through a real server: many uploads, watched live over SSE and WS."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.utils.api import (
    all_terminal,
    assert_ordered_lifecycle,
    collect_sse,
    collect_ws,
    upload,
    wait_until_terminal,
)
from tests.utils.documents import make_report_pdf, make_text

MEETING = """Project Falcon weekly sync

The migration to the new billing platform is on track and the team is pleased with
the progress so far. Customers in the pilot reported faster invoices and fewer errors.

Maria will send the revised budget to finance by Friday.
Tom must review the security checklist before the launch on 2025-03-14.
Please schedule the customer training sessions for next week.
"""


def _corpus(folder: Path, n_pdfs: int, n_texts: int) -> list[Path]:
    paths = []
    for i in range(n_pdfs):
        path = folder / f"report-{i}.pdf"
        make_report_pdf(path, n_pages=2 + i % 4, title=f"Report {i}")
        paths.append(path)
    for i in range(n_texts):
        paths.append(make_text(folder / f"notes-{i}.txt", MEETING + f"\nNote number {i}.\n"))
    return paths


async def test_twelve_uploads_complete_and_sse_sees_every_event_in_order(alice, tmp_path):
    paths = _corpus(tmp_path, n_pdfs=6, n_texts=6)
    ready = asyncio.Event()
    ids: set[str] = set()
    watcher = asyncio.create_task(
        collect_sse(alice, lambda evs: bool(ids) and all_terminal(ids)(evs), ready=ready)
    )
    await asyncio.wait_for(ready.wait(), 10)
    response = await upload(alice, paths)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 12 and body["rejected"] == 0
    ids.update(r["document"]["id"] for r in body["results"])
    events = await watcher
    assert_ordered_lifecycle(events, ids)
    assert [e["status"] for e in events if e["status"] == "pending"] == ["pending"] * 12

    detail = (await alice.get(f"/documents/{next(iter(ids))}")).json()
    assert detail["history"][0]["status"] == "pending"
    assert detail["history"][-1]["status"] == "completed"
    assert detail["analysis"]["summary"] and detail["analysis"]["topics"]


async def test_websocket_sees_the_same_ordered_events(alice, server, alice_token, tmp_path):
    paths = _corpus(tmp_path, n_pdfs=5, n_texts=5)
    ready = asyncio.Event()
    ids: set[str] = set()
    watcher = asyncio.create_task(collect_ws(
        server.url, lambda evs: bool(ids) and all_terminal(ids)(evs), token=alice_token, ready=ready,
    ))
    await asyncio.wait_for(ready.wait(), 10)
    body = (await upload(alice, paths)).json()
    ids.update(r["document"]["id"] for r in body["results"])
    assert len(ids) == 10
    assert_ordered_lifecycle(await watcher, ids)


async def test_websocket_takes_the_token_as_first_message(alice, server, alice_token, tmp_path):
    path = make_text(tmp_path / "one.txt", MEETING)
    ready = asyncio.Event()
    ids: set[str] = set()
    watcher = asyncio.create_task(collect_ws(
        server.url, lambda evs: bool(ids) and all_terminal(ids)(evs),
        first_message={"token": alice_token}, ready=ready,
    ))
    await asyncio.wait_for(ready.wait(), 10)
    body = (await upload(alice, [path])).json()
    ids.add(body["results"][0]["document"]["id"])
    events = await watcher
    assert [e["status"] for e in events][-1] == "completed"


async def test_analysis_of_a_meeting_note_is_real(alice, tmp_path):
    path = make_text(tmp_path / "meeting.txt", MEETING)
    doc_id = (await upload(alice, [path])).json()["results"][0]["document"]["id"]
    detail = await wait_until_terminal(alice, doc_id)
    assert detail["status"] == "completed", detail
    analysis = detail["analysis"]
    assert analysis["sentiment"] in {"positive", "mixed"}
    owners = {a.get("owner") for a in analysis["action_items"]}
    assert {"Maria", "Tom"} <= owners, analysis["action_items"]
    assert detail["page_count"] == 1 and detail["chunk_count"] >= 1
    assert detail["content_type"] == "text/plain"


async def test_big_pdf_becomes_many_chunks_with_sections_and_pages(alice, tmp_path):
    path = tmp_path / "big.pdf"
    outline = make_report_pdf(path, n_pages=30)
    doc_id = (await upload(alice, [path])).json()["results"][0]["document"]["id"]
    detail = await wait_until_terminal(alice, doc_id)
    assert detail["status"] == "completed", detail
    assert detail["page_count"] == 30
    chunks = (await alice.get(f"/documents/{doc_id}/chunks")).json()
    assert len(chunks) == detail["chunk_count"] > 5
    headings = {e.title for e in outline}
    assert all(c["section_path"] and c["section_path"][-1] in headings for c in chunks[1:])
    assert all(1 <= c["page_start"] <= c["page_end"] <= 30 for c in chunks)
    assert all(c["analysis"] is not None for c in chunks)
    progress = [h["progress"] for h in detail["history"] if h["status"] == "analyzing"]
    assert progress[-1]["total"] == len(chunks)


async def test_status_endpoint_and_listing_by_status(alice, tmp_path):
    # Content no other test uploads: a repeat would complete from the cache in fewer steps.
    path = make_text(tmp_path / "s.txt", MEETING + "\nListed by status.\n")
    doc_id = (await upload(alice, [path])).json()["results"][0]["document"]["id"]
    await wait_until_terminal(alice, doc_id)
    status = (await alice.get(f"/documents/{doc_id}/status")).json()
    assert status["status"] == "completed" and status["seq"] >= 4
    assert status["error"] is None and status["attempt"] is None
    completed = (await alice.get("/documents", params={"status": "completed"})).json()
    assert doc_id in {d["id"] for d in completed["items"]}
    assert all(d["status"] == "completed" for d in completed["items"])
    failed = (await alice.get("/documents", params={"status": "failed"})).json()
    assert doc_id not in {d["id"] for d in failed["items"]}
    bad = await alice.get("/documents", params={"status": "done"})
    assert bad.status_code == 422 and "status" in bad.json()["detail"]


async def test_a_document_without_title_metadata_gets_the_title_a_reader_would_give_it(alice, tmp_path):
    memo = ("Subject: Parking garage closure\n\nThe north garage closes on Monday for repairs.\n"
            "Please park in the south garage until further notice.\n")
    response = await upload(alice, [make_text(tmp_path / "memo.txt", memo)])
    doc_id = response.json()["results"][0]["document"]["id"]
    detail = await wait_until_terminal(alice, doc_id)
    assert detail["title"] == "Parking garage closure"
