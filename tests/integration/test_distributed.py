"""Gateway and workers as separate processes on Apache Kafka and FerretDB."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.utils.api import (
    all_terminal,
    assert_ordered_lifecycle,
    collect_sse,
    upload,
    wait_until_terminal,
)
from tests.utils.documents import make_report_pdf, make_text, marked_paragraphs
from tests.utils.fake_openai import Fail, FakeOpenAI

pytestmark = pytest.mark.timeout(420)


def _reports(folder: Path, pages: list[int]) -> list[Path]:
    paths = []
    for i, n in enumerate(pages):
        path = folder / f"doc-{i:02d}-{n}p.pdf"
        make_report_pdf(path, n_pages=n, title=f"Report {i}")
        paths.append(path)
    return paths


async def _watchers(client: httpx.AsyncClient, ids: set[str], n: int) -> list[asyncio.Task]:
    readies = [asyncio.Event() for _ in range(n)]
    tasks = [asyncio.create_task(collect_sse(
        client, lambda evs: bool(ids) and all_terminal(ids)(evs), ready=r, timeout_s=240))
        for r in readies]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 20)
    return tasks


async def test_twenty_documents_flow_through_separate_processes(make_cluster, alice_on, tmp_path):
    cluster = make_cluster().start(analyzers=2)
    alice = alice_on(cluster)
    rng = random.Random(7)
    paths = _reports(tmp_path, [1, 50] + [rng.randint(1, 50) for _ in range(18)])
    ids: set[str] = set()
    watchers = await _watchers(alice, ids, n=2)
    response = await upload(alice, paths)
    assert response.status_code == 202, response.text
    ids.update(r["document"]["id"] for r in response.json()["results"])
    assert len(ids) == 20
    for events in await asyncio.gather(*watchers):
        assert_ordered_lifecycle([e for e in events if e["document_id"] in ids], ids)
    listed = (await alice.get("/documents", params={"status": "completed"})).json()
    assert ids <= {d["id"] for d in listed["items"]}


async def test_killing_an_analyzer_mid_flight_loses_and_duplicates_nothing(
    make_cluster, alice_on, tmp_path
):
    cluster = make_cluster(DOCLANE_AI_PROVIDER="mock", DOCLANE_MOCK_LATENCY_MS="150",
                           DOCLANE_ANALYZE_CONCURRENCY="4", DOCLANE_CHUNK_MAX_CHARS="1500")
    cluster.start(analyzers=2)
    alice = alice_on(cluster)
    paths = _reports(tmp_path, [8, 10, 12, 6, 9, 11])
    ids: set[str] = set()
    (watcher,) = await _watchers(alice, ids, n=1)
    ids.update(r["document"]["id"] for r in (await upload(alice, paths)).json()["results"])

    # Wait until analysis is well under way, then kill -9 one analyzer.
    async def some_progress() -> None:
        while True:
            statuses = [(await alice.get(f"/documents/{d}/status")).json() for d in ids]
            if sum((s["progress"] or {}).get("done", 0) for s in statuses) >= 10:
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(some_progress(), 120)
    cluster.workers["analyzer-1"].kill()

    events = await watcher
    assert_ordered_lifecycle([e for e in events if e["document_id"] in ids], ids)
    for doc_id in ids:
        detail = (await alice.get(f"/documents/{doc_id}")).json()
        seqs = [h["seq"] for h in detail["history"]]
        assert seqs == list(range(1, len(seqs) + 1)), seqs
        chunks = (await alice.get(f"/documents/{doc_id}/chunks")).json()
        assert all(c["analysis"] is not None for c in chunks)
        progress = [h["progress"]["done"] for h in detail["history"] if h["progress"]]
        assert progress[0] == 0 and progress[-1] == len(chunks), progress
        assert progress == sorted(set(progress)), progress  # each chunk counted once


async def test_gateway_restart_clients_resume_with_last_event_id(make_cluster, alice_on, tmp_path):
    cluster = make_cluster(DOCLANE_AI_PROVIDER="mock", DOCLANE_MOCK_LATENCY_MS="100",
                           DOCLANE_CHUNK_MAX_CHARS="1500")
    cluster.start(analyzers=1)
    alice = alice_on(cluster)
    paths = _reports(tmp_path, [10, 12, 8])
    ids: set[str] = set()
    received: list[dict[str, Any]] = []
    connections = 0
    first_event, connected = asyncio.Event(), asyncio.Event()

    async def follow_with_reconnects() -> None:
        nonlocal connections
        while not (ids and all_terminal(ids)(received)):
            headers = {"Last-Event-ID": str(received[-1]["cursor"])} if received else {}
            try:
                async with aconnect_sse(alice, "GET", "/documents/stream", headers=headers,
                                        timeout=httpx.Timeout(60, connect=5)) as source:
                    connections += 1
                    connected.set()
                    async for sse in source.aiter_sse():
                        if sse.event == "status":
                            received.append(json.loads(sse.data))
                            first_event.set()
                            if ids and all_terminal(ids)(received):
                                return
            except (httpx.TransportError, httpx.RemoteProtocolError):
                await asyncio.sleep(0.2)  # the gateway is restarting

    follower = asyncio.create_task(follow_with_reconnects())
    await asyncio.wait_for(connected.wait(), 20)
    ids.update(r["document"]["id"] for r in (await upload(alice, paths)).json()["results"])
    await asyncio.wait_for(first_event.wait(), 60)
    cluster.gateway.stop()  # clients are connected; workers keep going meanwhile
    cluster.gateway.start()
    await asyncio.wait_for(follower, 240)

    assert connections >= 2
    everything = await collect_sse(alice, lambda evs: evs[-1]["cursor"] >= received[-1]["cursor"],
                                   params={"since": "0"})
    assert received == [e for e in everything if e["cursor"] >= received[0]["cursor"]]
    assert_ordered_lifecycle(received, ids)


async def test_ai_failure_retry_and_caches_work_across_processes(make_cluster, alice_on, tmp_path):
    """The openai provider in every worker, one fake provider: the state behind resume and
    the caches lives in MongoDB, so any process can pick up where another stopped."""
    with FakeOpenAI() as fake:
        fake.rule(lambda r: Fail(500) if "POISON" in r.user else None)
        cluster = make_cluster(
            DOCLANE_AI_PROVIDER="openai", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake.base_url,
            DOCLANE_CHUNK_MAX_CHARS="400", DOCLANE_CHUNK_OVERLAP_CHARS="0",
            DOCLANE_STAGE_RETRY_BASE_S="0.1",
        ).start(analyzers=2)
        alice = alice_on(cluster)
        text = marked_paragraphs("ZEBRA-CLUSTER", 5) + "\n\nThe POISON paragraph fails every time."
        path = make_text(tmp_path / "flaky.txt", text)
        doc_id = (await upload(alice, [path])).json()["results"][0]["document"]["id"]

        failed = await wait_until_terminal(alice, doc_id, timeout_s=120)
        assert failed["status"] == "failed" and "HTTP 500" in failed["error"]
        assert any(e["attempt"] == 2 for e in failed["history"])
        fake.reset()  # the provider recovers
        assert (await alice.post(f"/documents/{doc_id}/retry")).status_code == 202
        done = await wait_until_terminal(alice, doc_id, timeout_s=120)
        assert done["status"] == "completed"
        chunk_calls = [r for r in fake.requests if r.schema_name == "ChunkFindings"]
        assert len(chunk_calls) == 1 and "POISON" in chunk_calls[0].user

        calls = len(fake.requests)
        copy = make_text(tmp_path / "copy.txt", text)
        copy_id = (await upload(alice, [copy])).json()["results"][0]["document"]["id"]
        cached = await wait_until_terminal(alice, copy_id, timeout_s=120)
        assert cached["status"] == "completed" and cached["analysis"]["cached"] is True
        assert len(fake.requests) == calls
