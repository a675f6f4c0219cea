"""Load with the mock AI provider: 50 documents of 20 chunks, slow and flaky calls, none stuck.

The mock answers after 0.5-3 s (lognormal, mean 1.2 s) and fails 10 % of calls with a
timeout (3 s), a 429, a 500 or a truncated answer. One retry per call means a chunk fails
its document about 1 % of the time, so roughly 1 - 0.99^20 = 18 % of the documents fail:
each of those must say which chunk failed and how, and every other one must complete.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.utils.api import collect_sse, upload
from tests.utils.documents import make_text
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.slow

N_DOCUMENTS = 50
N_CHUNKS = 20
#: Every part of a document is its own heading section of 300-700 characters, and the
#: chunker never mixes heading paths, so with this limit each part is exactly one chunk.
CHUNK_MAX_CHARS = 1000
UPLOAD_BATCHES = 5
DEADLINE_S = 240

TERMINAL = {"completed", "failed"}
RANK = {"pending": 0, "processing": 1, "analyzing": 2, "completed": 3, "failed": 3}
#: How each of the mock's failure kinds reads in a reason, and the category it is filed under.
FAILURE_KINDS = {
    "timeout": (re.compile(r"did not answer within 3 s"), "ai_timeout"),
    "429": (re.compile(r"rate limiting requests \(HTTP 429\)"), "ai_rate_limited"),
    "500": (re.compile(r"HTTP 500"), "ai_unavailable"),
    "malformed": (re.compile(r"did not match the expected format"), "ai_malformed"),
}
AI_CATEGORIES = {category for _, category in FAILURE_KINDS.values()}

LOAD_ENV = {
    "DOCLANE_AI_PROVIDER": "mock",
    "DOCLANE_MOCK_LATENCY_MS": "1200",
    "DOCLANE_MOCK_LATENCY_P99_MS": "3000",
    "DOCLANE_MOCK_LATENCY_MIN_MS": "500",
    "DOCLANE_MOCK_LATENCY_MAX_MS": "3000",
    "DOCLANE_MOCK_FAILURE_RATE": "0.1",
    "DOCLANE_MOCK_SEED": "7",
    "DOCLANE_MOCK_RETRY_AFTER_S": "1",
    "DOCLANE_AI_TIMEOUT_S": "3",
    "DOCLANE_AI_REQUESTS_PER_S": "200",
    # The default token budget (400k/min) would pace this run at ~8 calls/s; the test is
    # about slow and failing calls, not about the limiter.
    "DOCLANE_AI_TOKENS_PER_MIN": "100000000",
    "DOCLANE_AI_CONCURRENCY": "128",
    "DOCLANE_ANALYZE_CONCURRENCY": "128",
    "DOCLANE_STAGE_RETRY_BASE_S": "0.2",
    "DOCLANE_UPLOAD_RATE_PER_MIN": "10000",
    "DOCLANE_UPLOAD_BURST_FILES": "100",
    "DOCLANE_CHUNK_MAX_CHARS": str(CHUNK_MAX_CHARS),
    "DOCLANE_HEARTBEAT_S": "1",
}

_SUBJECTS = (
    "The warehouse team", "Our largest customer", "The finance department", "The pilot group",
    "The support desk", "The board", "The data platform", "The northern office",
    "The procurement team", "The security review", "The mobile app", "The logistics partner",
)
_VERBS = (
    "reported", "questioned", "approved", "postponed", "measured", "doubled",
    "reviewed", "reduced", "documented", "challenged", "celebrated", "planned",
)
_OBJECTS = (
    "the quarterly budget", "delivery times", "energy use in the depot", "the hiring plan",
    "the renewal of three contracts", "response times on tickets", "the migration schedule",
    "returns of damaged parcels", "the training programme", "the audit findings",
    "the price of raw materials", "the rollout in two new regions",
)
_ENDINGS = (
    "after a long discussion.", "ahead of the deadline.", "with mixed results.",
    "for the second time this year.", "despite the supply problems.", "without extra staff.",
    "as the customers had asked.", "to the surprise of the team.", "in close cooperation.",
)


def _sentence(rng: random.Random) -> str:
    return " ".join((rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS),
                     rng.choice(_ENDINGS)))


def _document_text(number: int) -> str:
    """A report of ``N_CHUNKS`` headed parts whose text no other document or part repeats:
    the result cache must not serve any chunk, so every chunk costs mock calls."""
    rng = random.Random(number)
    lines = [f"# Load report {number}", ""]
    for part in range(1, N_CHUNKS + 1):
        lines += [f"## Part {part}", ""]
        body = [f"Report {number}, part {part}, was written by author {rng.randrange(10**6)}."]
        while len(" ".join(body)) < 300:
            body.append(_sentence(rng))
        lines += [" ".join(body)[:700], ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server with a slow, flaky mock provider (overrides the default module server)."""
    proc = ServerProcess(tmp_path_factory.mktemp("ai-load") / "data", env=LOAD_ENV)
    with proc:
        yield proc


def _assert_names_the_failure(event: dict[str, Any]) -> None:
    """The event's error says which of the mock's failures happened, and is filed under it."""
    named = [(kind, category) for kind, (pattern, category) in FAILURE_KINDS.items()
             if pattern.search(event["error"] or "")]
    assert len(named) == 1, f"error names no single kind of failure: {event}"
    assert event["error_category"] == named[0][1], event


async def _stuck(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Documents that some listing still shows as not finished."""
    stuck = []
    for state in ("pending", "processing", "analyzing"):
        listing = (await client.get("/documents", params={"status": state, "limit": 1000})).json()
        stuck += listing["items"]
    return stuck


def _ai_calls(metrics_text: str) -> dict[str, float]:
    """``doclane_ai_calls_total`` of the mock provider, by outcome."""
    calls: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "doclane_ai_calls_total" and sample.labels["provider"] == "mock":
                calls[sample.labels["outcome"]] = sample.value
    return calls


@pytest.mark.timeout(300)
async def test_fifty_documents_of_twenty_chunks_all_finish_with_flaky_slow_ai(
    alice: httpx.AsyncClient, server: ServerProcess, tmp_path: Path
) -> None:
    paths = [make_text(tmp_path / f"load-{i:02d}.txt", _document_text(i))
             for i in range(N_DOCUMENTS)]
    assert len({p.read_bytes() for p in paths}) == N_DOCUMENTS

    ids: set[str] = set()
    seen: list[list[dict[str, Any]]] = []  # the collector's own list, kept if it times out

    def all_finished(events: list[dict[str, Any]]) -> bool:
        if not seen:
            seen.append(events)
        done = {e["document_id"] for e in events if e["status"] in TERMINAL}
        return len(ids) == N_DOCUMENTS and ids <= done

    ready = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    watcher = asyncio.create_task(collect_sse(alice, all_finished, ready=ready,
                                              timeout_s=DEADLINE_S))
    await asyncio.wait_for(ready.wait(), 10)
    per_batch = N_DOCUMENTS // UPLOAD_BATCHES
    for start in range(0, N_DOCUMENTS, per_batch):
        response = await upload(alice, paths[start:start + per_batch])
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["accepted"] == per_batch and body["rejected"] == 0, body
        ids.update(r["document"]["id"] for r in body["results"])
    assert len(ids) == N_DOCUMENTS

    try:
        events = await watcher
    except TimeoutError:
        stuck = await _stuck(alice)
        finished = {e["document_id"] for e in (seen[0] if seen else []) if e["status"] in TERMINAL}
        pytest.fail(
            f"after {DEADLINE_S}s only {len(finished)} of {N_DOCUMENTS} documents finished; "
            f"still unfinished: {[(d['id'], d['status']) for d in stuck]}; "
            f"server log: {server.log_text()[-3000:]}"
        )
    elapsed = loop.time() - started

    # --- the live stream: each document's events in order, one terminal event, at the end ---
    by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_doc[e["document_id"]].append(e)
    assert set(by_doc) == ids
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(set(cursors)), "cursors must strictly increase over the stream"

    retries: list[dict[str, Any]] = []
    outcome: dict[str, str] = {}
    for doc_id, evs in by_doc.items():
        seqs = [e["seq"] for e in evs]
        assert seqs == list(range(1, len(evs) + 1)), (doc_id, seqs)
        statuses = [e["status"] for e in evs]
        assert statuses[0] == "pending", statuses
        ranks = [RANK[s] for s in statuses]
        assert ranks == sorted(ranks), (doc_id, statuses)
        assert sum(s in TERMINAL for s in statuses) == 1 and statuses[-1] in TERMINAL, statuses
        outcome[doc_id] = statuses[-1]
        progress = [e["progress"]["done"] for e in evs
                    if e["status"] == "analyzing" and e["progress"] is not None]
        assert progress == sorted(set(progress)), (doc_id, progress)
        totals = {e["progress"]["total"] for e in evs if e["progress"] is not None}
        assert totals <= {N_CHUNKS}, (doc_id, totals)
        if "analyzing" in statuses:  # a document served from the cache skips analysing
            assert totals == {N_CHUNKS}, (doc_id, evs)
        doc_retries = [e for e in evs if e.get("attempt") is not None]
        for r in doc_retries:
            assert r["status"] == "analyzing" and r["attempt"] == 2, r
            _assert_names_the_failure(r)
            assert r["detail"].startswith("Retrying in"), r
            if r["stage"] == "analyze":
                assert re.match(rf"Chunk \d+ of {N_CHUNKS}: ", r["error"]), r
        retries += doc_retries

    # --- what a user reading each document sees ---
    failed_reasons: dict[str, str] = {}
    for doc_id in ids:
        detail = (await alice.get(f"/documents/{doc_id}")).json()
        final = by_doc[doc_id][-1]
        assert detail["status"] == outcome[doc_id], detail["status"]
        assert [h["seq"] for h in detail["history"]] == [e["seq"] for e in by_doc[doc_id]]
        assert detail["chunk_count"] == N_CHUNKS, (doc_id, detail["chunk_count"])
        if outcome[doc_id] == "completed":
            assert detail["error"] is None
            assert detail["analysis"]["summary"], detail["analysis"]
            assert final["progress"] == {"done": N_CHUNKS, "total": N_CHUNKS,
                                         "analyzed": N_CHUNKS, "indexed": N_CHUNKS}
            continue
        reason = final["error"]
        assert reason and final["detail"] == reason, final
        assert detail["error"] == reason
        assert detail["error_category"] == final["error_category"]
        _assert_names_the_failure(final)
        # A chunk's failure says which chunk; the summary step (stage aggregate) has none.
        assert final["stage"] in {"analyze", "aggregate"}, final
        if final["stage"] == "analyze":
            assert re.match(rf"Chunk \d+ of {N_CHUNKS}: ", reason), reason
        failed_reasons[doc_id] = reason

    # --- nothing is left behind ---
    assert await _stuck(alice) == []
    listed = (await alice.get("/documents", params={"limit": 1000})).json()["items"]
    assert {d["id"] for d in listed} == ids
    assert {d["status"] for d in listed} <= TERMINAL

    counts = Counter(outcome.values())
    # About 18 % are expected to fail (seeded: the same ones every run); most must complete.
    assert counts["completed"] > N_DOCUMENTS // 2, failed_reasons
    assert any(r["error"] for r in retries), "10 % failures but no retry was announced"

    # --- the operator's view ---
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        calls = _ai_calls((await anonymous.get("/metrics")).text)
    assert calls.get("ok", 0) >= counts["completed"] * N_CHUNKS, calls
    assert any(calls.get(c, 0) > 0 for c in AI_CATEGORIES), calls

    print(
        f"\n{N_DOCUMENTS} documents x {N_CHUNKS} chunks finished in {elapsed:.1f}s: "
        f"{counts['completed']} completed, {counts['failed']} failed, "
        f"{len(retries)} retry notices; AI calls {dict(sorted(calls.items()))}"
    )
    for doc_id, reason in sorted(failed_reasons.items()):
        print(f"  failed {doc_id}: {reason}")
