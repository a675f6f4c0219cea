"""The admin API on a real embedded server: queues, pauses, cancel, retry, lanes, dead letters, audit."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.documents import make_image_only_pdf, make_report_pdf, make_text
from tests.utils.server import JWT_SECRET, USERS, ServerProcess
from tests.utils.waiting import eventually

pytestmark = pytest.mark.timeout(240)

STAGES = ["extract", "analyze", "index", "aggregate", "assess"]


@pytest.fixture(scope="module")
def root_token(server: ServerProcess) -> str:
    return login(server.url, "root", "root-pw")


@pytest.fixture
async def root(server: ServerProcess, root_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers=auth(root_token), timeout=60) as c:
        yield c


@asynccontextmanager
async def paused(root: httpx.AsyncClient, *stages: str) -> AsyncIterator[None]:
    """Stages paused for the block; resumed even when the test fails."""
    try:
        for stage in stages:
            response = await root.post(f"/admin/stages/{stage}/pause")
            assert response.json() == {"stage": stage, "paused": True}, response.text
        yield
    finally:
        for stage in stages:
            (await root.post(f"/admin/stages/{stage}/resume")).raise_for_status()


async def _queues(root: httpx.AsyncClient) -> dict[str, Any]:
    response = await root.get("/admin/queues")
    assert response.status_code == 200, response.text
    return {g["stage"]: g for g in response.json()["groups"]}


def _lane(group: dict[str, Any], lane: str) -> dict[str, Any]:
    return next(t for t in group["topics"] if t["lane"] == lane)


async def _queued(alice: httpx.AsyncClient, path: Path, **form: str) -> dict[str, Any]:
    """Upload ``path`` and wait until it is extracted (its chunks are queued)."""
    response = await upload(alice, [path], **form)
    assert response.status_code == 202, response.text
    doc_id = response.json()["results"][0]["document"]["id"]
    doc: dict[str, Any] = {}

    async def extracted() -> bool:
        doc.update((await alice.get(f"/documents/{doc_id}")).json())
        return doc["status"] == "analyzing"
    await eventually(extracted, timeout_s=60, what="the document extracted")
    return doc


async def _trail(client: httpx.AsyncClient, doc_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/documents/{doc_id}/audit")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["document_id"] == doc_id and body["count"] == len(body["events"])
    return list(body["events"])


def _of(events: list[dict[str, Any]], topic: str | Callable[[str], bool]) -> list[dict[str, Any]]:
    match = topic if callable(topic) else topic.__eq__
    return [e for e in events if match(e["topic"])]


async def test_only_admins_reach_the_admin_api(server, alice, root):
    calls = [("GET", "/admin/queues"), ("POST", "/admin/stages/analyze/pause"),
             ("POST", "/admin/stages/analyze/resume"), ("POST", "/admin/documents/x/cancel"),
             ("POST", "/admin/documents/x/retry"), ("GET", "/admin/dlq"),
             ("POST", "/admin/dlq/x/redrive")]
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for method, path in calls:
            assert (await alice.request(method, path)).status_code == 403, path
            assert (await anonymous.request(method, path)).status_code == 401, path
    priority = await alice.post("/admin/documents/x/priority", json={"priority": "high"})
    assert priority.status_code == 403

    queues = (await root.get("/admin/queues")).json()
    assert queues["mode"] == "embedded"
    groups = {g["stage"]: g for g in queues["groups"]}
    assert list(groups) == STAGES
    assert [g["group"] for g in groups.values()] == ["extractor", "analyzer", "indexer", "aggregator",
                                                     "assessor"]
    assert [t["lane"] for t in groups["analyze"]["topics"]] == ["high", "normal", "low"]
    assert [t["topic"] for t in groups["aggregate"]["topics"]] == ["chunk.analyzed", "chunk.indexed"]
    for topic in groups["extract"]["topics"]:
        assert set(topic) >= {"topic", "lane", "depth", "lag", "in_flight", "oldest_waiting_s", "per_min"}

    unknown = await root.post("/admin/stages/ocr/pause")
    assert unknown.status_code == 404
    assert "extract, analyze, index, aggregate" in unknown.json()["detail"]


async def test_a_paused_stage_takes_nothing_until_resumed(alice, root, tmp_path):
    async with paused(root, "analyze"):
        analyze = (await _queues(root))["analyze"]
        assert (analyze["paused"], analyze["members"], analyze["members_paused"]) == (True, 1, 1)
        doc = await _queued(alice, make_text(tmp_path / "memo.txt", "Ship the release on Friday."),
                            priority="high")
        n = doc["chunk_count"]

        async def indexed_not_analysed() -> bool:
            chunks = (await alice.get(f"/documents/{doc['id']}/chunks")).json()
            return all(c["indexed_at"] for c in chunks)
        await eventually(indexed_not_analysed, timeout_s=60, what="the indexer (not paused) done")
        chunks = (await alice.get(f"/documents/{doc['id']}/chunks")).json()
        assert [c["analysis"] for c in chunks] == [None] * n
        high = _lane((await _queues(root))["analyze"], "high")
        assert high["depth"] >= n and high["lag"] >= n and high["oldest_waiting_s"] is not None

        async def on_the_metrics_page() -> bool:  # the same backlog, for Prometheus and Grafana
            text = (await root.get("/metrics")).text
            line = 'doclane_queue_depth{group="analyzer",topic="chunk.ready.high"} '
            return any(row.startswith(line) and float(row[len(line):]) >= n for row in text.splitlines())
        await eventually(on_the_metrics_page, timeout_s=30, what="the queue gauges on /metrics")
    analyze = (await _queues(root))["analyze"]
    assert (analyze["paused"], analyze["members"], analyze["members_paused"]) == (False, 1, 0)
    done = await wait_until_terminal(alice, doc["id"])
    assert done["status"] == "completed"
    analyze = (await _queues(root))["analyze"]
    assert _lane(analyze, "high")["per_min"] >= n
    assert _lane(analyze, "high")["depth"] == 0


async def test_cancel_stops_a_document_and_retry_runs_it_again(alice, root, tmp_path):
    async with paused(root, "analyze", "index"):
        doc = await _queued(alice, make_report_pdf_path(tmp_path / "r.pdf", 2))
        response = await root.post(f"/admin/documents/{doc['id']}/cancel",
                                   json={"reason": "uploaded by mistake"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "failed"
        assert response.json()["error_category"] == "cancelled"
    # Resumed: the stages drain their queues but do no work for the cancelled document.

    async def drained() -> bool:
        q = await _queues(root)
        return all(t["lag"] == 0 for s in ("analyze", "index") for t in q[s]["topics"])
    await eventually(drained, timeout_s=60, what="the analyzer and indexer drained")
    detail = (await alice.get(f"/documents/{doc['id']}")).json()
    assert detail["status"] == "failed"
    last = detail["history"][-1]
    assert last["error_category"] == "cancelled"
    assert "root" in last["detail"] and "uploaded by mistake" in last["detail"]
    chunks = (await alice.get(f"/documents/{doc['id']}/chunks")).json()
    assert all(c["analysis"] is None for c in chunks)
    assert (await root.post(f"/admin/documents/{doc['id']}/cancel")).status_code == 409

    retried = await root.post(f"/admin/documents/{doc['id']}/retry")
    assert retried.status_code == 202, retried.text
    assert (await wait_until_terminal(alice, doc["id"]))["status"] == "completed"
    assert (await root.post(f"/admin/documents/{doc['id']}/retry")).status_code == 409
    assert (await root.post("/admin/documents/nope/cancel")).status_code == 404

    actions = [e["payload"] for e in _of(await _trail(alice, doc["id"]), "admin.actions")]
    assert [(a["action"], a["actor"]) for a in actions] == [("cancel", "root"), ("retry", "root")]


def make_report_pdf_path(path: Path, n_pages: int) -> Path:
    make_report_pdf(path, n_pages=n_pages, paragraphs_per_section=8)
    return path


async def test_a_new_priority_moves_the_remaining_chunks_without_double_counting(alice, root, tmp_path):
    async with paused(root, "analyze", "index"):
        doc = await _queued(alice, make_report_pdf_path(tmp_path / "big.pdf", 3), priority="low")
        n = doc["chunk_count"]
        assert n > 1
        assert _lane((await _queues(root))["analyze"], "low")["depth"] >= n

        moved = await root.post(f"/admin/documents/{doc['id']}/priority", json={"priority": "high"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["requeued"] == n
        assert moved.json()["document"]["priority"] == "high"
        assert _lane((await _queues(root))["analyze"], "high")["depth"] >= n
        bad = await root.post(f"/admin/documents/{doc['id']}/priority", json={"priority": "urgent"})
        assert bad.status_code == 422 and "priority" in bad.text
    done = await wait_until_terminal(alice, doc["id"])
    assert done["status"] == "completed"
    assert done["history"][-1]["progress"] == {"done": n, "total": n, "analyzed": n, "indexed": n}
    assert any("to the high priority lane" in (e["detail"] or "") for e in done["history"])

    events = await _trail(alice, doc["id"])
    assert len(_of(events, "chunk.ready.low")) == n and len(_of(events, "chunk.ready.high")) == n
    # The copies left on the low lane were skipped: each chunk was analysed and indexed once.
    assert len(_of(events, "chunk.analyzed")) == n
    assert len(_of(events, "chunk.indexed")) == n
    assert (await root.post(f"/admin/documents/{doc['id']}/priority",
                            json={"priority": "low"})).status_code == 409


async def test_dead_letters_are_listed_and_redriven_once(alice, root, tmp_path):
    response = await upload(alice, [make_image_only_pdf(tmp_path / "scan.pdf")])
    doc_id = response.json()["results"][0]["document"]["id"]
    assert (await wait_until_terminal(alice, doc_id))["status"] == "failed"

    async def letters(**params: str) -> list[dict[str, Any]]:
        body = (await root.get("/admin/dlq", params=params)).json()
        return [i for i in body["items"] if i["document_id"] == doc_id]
    [letter] = await letters()
    assert letter["stage"] == "extract" and letter["topic"] == "document.uploaded"
    assert letter["attempts"] >= 1 and letter["error"] and letter["category"]
    assert letter["redriven"] is False and letter["failed_at"]
    assert await letters(stage="analyze") == []
    assert (await root.get("/admin/dlq", params={"stage": "nope"})).status_code == 422

    redriven = await root.post(f"/admin/dlq/{letter['id']}/redrive")
    assert redriven.status_code == 202, redriven.text
    assert redriven.json() == {"id": letter["id"], "redriven": True}
    assert (await root.post(f"/admin/dlq/{letter['id']}/redrive")).status_code == 409
    assert (await root.post("/admin/dlq/no-such-letter/redrive")).status_code == 404

    # The document ran again (and, being the same unreadable scan, failed again).
    await eventually(lambda: _count_letters(letters), timeout_s=60, what="a second dead letter")
    assert [i["redriven"] for i in sorted(await letters(), key=lambda i: i["failed_at"])] == [True, False]
    trail = await _trail(root, doc_id)
    [action] = [e["payload"] for e in _of(trail, "admin.actions")]
    assert action["action"] == "redrive" and action["letter_id"] == letter["id"]


async def _count_letters(letters: Callable[[], Any]) -> bool:
    return len(await letters()) == 2


async def test_the_audit_trail_is_read_back_from_the_topics(alice, bob, root, tmp_path):
    response = await upload(alice, [make_text(tmp_path / "a.txt", "Audit me. Pay the invoice by May 3.")])
    doc_id = response.json()["results"][0]["document"]["id"]
    detail = await wait_until_terminal(alice, doc_id)
    events = await _trail(alice, doc_id)
    assert {e["topic"] for e in events} >= {"document.uploaded", "chunk.analyzed", "chunk.indexed",
                                            "document.status"}
    assert _of(events, lambda t: t.startswith("chunk.ready."))
    statuses = [e["payload"] for e in _of(events, "document.status")]
    assert [s["seq"] for s in statuses] == [h["seq"] for h in detail["history"]]
    for event in events:
        assert event["payload"]["document_id"] == doc_id
        assert isinstance(event["partition"], int) and isinstance(event["offset"], int)
        assert event["timestamp"] and event["type"]
    # In time order, compared as instants: ISO 8601 drops a whole second's fraction
    # ("…:47Z" comes before "…:47.001Z" in time, after it as text).
    instants = [datetime.fromisoformat(e["timestamp"]) for e in events]
    assert instants == sorted(instants)
    assert (await bob.get(f"/documents/{doc_id}/audit")).status_code == 404
    assert await _trail(root, doc_id) == events


async def test_the_audit_trail_survives_a_replay_of_the_projections(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        token = login(server.url, "alice", "alice-pw")
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token)) as client:
            response = await upload(client, [make_text(tmp_path / "n.txt", "Note: ship it by Friday.")])
            doc_id = response.json()["results"][0]["document"]["id"]
            await wait_until_terminal(client, doc_id)
            before = await _trail(client, doc_id)
    finally:
        server.stop()

    db = sqlite3.connect(tmp_path / "data" / "store.db")
    with db:
        db.execute("DELETE FROM status_events")
        db.execute("DELETE FROM owner_cursors")
    db.close()
    result = subprocess.run(
        [sys.executable, "-m", "doclane", "replay", "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120, check=False,
        env={"DOCLANE_USERS": USERS, "DOCLANE_JWT_SECRET": JWT_SECRET, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr

    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token)) as client:
            after = await _trail(client, doc_id)
            history = (await client.get(f"/documents/{doc_id}")).json()["history"]
    finally:
        server.stop()
    assert after == before
    assert len(_of(after, "document.status")) == len(history)



def test_every_stage_has_its_group_and_topics_on_the_queue_page():
    from doclane.consumers import STAGE_GROUPS
    from doclane.consumers import STAGES as SUBSCRIBED

    assert list(STAGE_GROUPS) == list(SUBSCRIBED) == STAGES
    assert STAGE_GROUPS["assess"] == ("assessor", ("interview.events",))
    assert STAGE_GROUPS["analyze"][1] == STAGE_GROUPS["index"][1]  # two groups, the same chunk topics
