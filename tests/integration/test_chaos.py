"""Chaos on the real servers: a broker restart, a database restart and kill -9 of workers,
each in the middle of a 20-document run.

Every time: every document ends ``completed``, no chunk result is counted twice, every
document's ``seq`` is contiguous, and an SSE client receives every event exactly once.
The broker and database restarted here are private instances (tests/utils/chaos.py),
never the shared ones.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.utils import infra
from tests.utils.api import all_terminal, assert_ordered_lifecycle, collect_sse, upload
from tests.utils.chaos import PrivateInfra
from tests.utils.cluster import Cluster, cluster_env
from tests.utils.documents import make_text, marked_paragraphs

#: The first test also starts the private Kafka and FerretDB; a loaded machine needs the room.
pytestmark = pytest.mark.timeout(480)

#: Slow enough that a fault lands mid-run, fast enough to keep the run short.
_PIPELINE = {"DOCLANE_AI_PROVIDER": "mock", "DOCLANE_MOCK_LATENCY_MS": "120",
             "DOCLANE_CHUNK_MAX_CHARS": "600", "DOCLANE_CHUNK_OVERLAP_CHARS": "0",
             "DOCLANE_STAGE_MAX_ATTEMPTS": "10", "DOCLANE_STAGE_RETRY_BASE_S": "0.5",
             "DOCLANE_CONNECT_DEADLINE_S": "120", "DOCLANE_HEARTBEAT_S": "2"}


@pytest.fixture(scope="module")
def private_infra() -> Iterator[PrivateInfra]:
    infra.kafka_bootstrap()  # skip (or fail on CI) like the other distributed tests
    servers = PrivateInfra().start()
    try:
        yield servers
    finally:
        servers.stop()


def _documents(folder: Path, n: int = 20) -> list[Path]:
    return [make_text(folder / f"doc-{i:02d}.txt", marked_paragraphs(f"CHAOS{i}", 6 + i % 4))
            for i in range(n)]


async def _run(cluster: Cluster, alice: httpx.AsyncClient, folder: Path,
               fault: Callable[[], Awaitable[None]]) -> None:
    """Upload 20 documents, inject ``fault`` once work is under way, check the invariants."""
    ids: set[str] = set()
    ready = asyncio.Event()
    watcher = asyncio.create_task(collect_sse(
        alice, lambda evs: bool(ids) and all_terminal(ids)(evs), ready=ready, timeout_s=240))
    await asyncio.wait_for(ready.wait(), 30)
    response = await upload(alice, _documents(folder))
    assert response.status_code == 202, response.text
    ids.update(r["document"]["id"] for r in response.json()["results"])

    async def under_way() -> None:
        while True:
            statuses = [(await alice.get(f"/documents/{d}/status")).json() for d in ids]
            if sum((s["progress"] or {}).get("done", 0) for s in statuses) >= 8:
                return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(under_way(), 120)
    await fault()
    try:
        events = [e for e in await watcher if e["document_id"] in ids]
    except TimeoutError:
        # Which it was: documents stuck in the pipeline, or a stream that missed what the store has.
        stuck = {}
        for doc_id in sorted(ids):
            status = (await alice.get(f"/documents/{doc_id}/status")).json()
            if status.get("status") not in ("completed", "failed"):
                stuck[doc_id] = (status.get("status"), status.get("stage"), status.get("progress"))
        raise AssertionError(f"the stream did not see every document end; not ended in the store: {stuck}"
                             f"\n{cluster.logs_tail()}") from None

    # SSE: every event exactly once, each document's lifecycle in order, ending completed.
    seen = Counter((e["document_id"], e["seq"]) for e in events)
    assert max(seen.values()) == 1, [k for k, v in seen.items() if v > 1]
    assert_ordered_lifecycle(events, ids)
    for doc_id in ids:
        detail = (await alice.get(f"/documents/{doc_id}")).json()
        assert detail["status"] == "completed", (detail["status"], detail.get("error"))
        seqs = [h["seq"] for h in detail["history"]]
        assert seqs == list(range(1, len(seqs) + 1)), seqs
        # Each chunk counted once: progress steps strictly up to the number of chunks.
        chunks = (await alice.get(f"/documents/{doc_id}/chunks")).json()
        progress = [h["progress"]["done"] for h in detail["history"] if h["progress"]]
        assert progress == sorted(set(progress)) and progress[-1] == len(chunks), progress
        assert all(c["analysis"] is not None for c in chunks)
        # The client connected before the upload: it saw the whole history, from seq 1.
        streamed = [e["seq"] for e in events if e["document_id"] == doc_id]
        assert streamed == seqs, (streamed, seqs)


def _cluster(tmp_path: Path, kafka: str, mongo: str) -> Cluster:
    env = cluster_env(kafka, mongo, infra.search_url(), **_PIPELINE)
    return Cluster(tmp_path / "data", env)


async def _client(cluster: Cluster) -> httpx.AsyncClient:
    from tests.utils.api import auth, login

    try:
        token = login(cluster.gateway.url, "alice", "alice-pw")
    except httpx.ConnectError as exc:  # say why the gateway is gone, not only that it is
        raise AssertionError(f"gateway unreachable: {exc}; its log:\n{cluster.gateway.log_text()}") from exc
    return httpx.AsyncClient(base_url=cluster.gateway.url, headers=auth(token), timeout=60)


@pytest.mark.parametrize("service", ["kafka", "ferretdb"])
async def test_a_server_restart_mid_run_loses_and_duplicates_nothing(private_infra, tmp_path, service):
    cluster = _cluster(tmp_path, private_infra.kafka_bootstrap, private_infra.mongo_url)
    cluster.start(analyzers=1)
    try:
        async with await _client(cluster) as alice:
            async def restart() -> None:
                await asyncio.to_thread(private_infra.restart, service)

            await _run(cluster, alice, tmp_path, restart)
    finally:
        cluster.stop()


async def test_kill_9_of_the_extractor_indexer_and_aggregator_loses_and_duplicates_nothing(tmp_path):
    cluster = _cluster(tmp_path, infra.kafka_bootstrap(), infra.mongo_url())
    cluster.start(analyzers=1)
    try:
        async with await _client(cluster) as alice:
            async def kill_and_restart() -> None:
                for name in ("extractor", "indexer-1", "aggregator"):
                    worker = cluster.workers[name]
                    worker.kill()
                    await asyncio.to_thread(worker.start)

            await _run(cluster, alice, tmp_path, kill_and_restart)
    finally:
        cluster.stop()
