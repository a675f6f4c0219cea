"""Benchmark: does the analyzer group scale out when the AI is the bound?

The distributed mode (gateway, extractor, aggregator and 1, 2, then 4 analyzer
processes on Kafka and the MongoDB-protocol server) analyses the same corpus
with the ``mock`` provider answering each call after a fixed 400 ms and at most
``--inflight`` calls in flight per analyzer process (``DOCLANE_AI_CONCURRENCY``):
one analyzer can then make at most ``inflight / 0.4`` calls a second, and N of
them N times that, if nothing else is in the way. Search indexing is off
(``DOCLANE_SEARCH_ENABLED=false``: no indexer group), so the AI stays the bound
rather than the embeddings and NER on two shared cores. The provider's request
and token limits are set far above what is reached.

The corpus is uploaded and extracted first, so its chunks wait in Kafka; then the
analyzers start (the stage paused until every member holds its partitions) and
drain them. Measured per run: AI calls a second in the steady part (between 10%
and 90% of the calls made, read from each analyzer's ``/metrics``), AI calls a
second from the resume to the last ``completed`` (the whole drain, aggregation
included), the calls each analyzer made, and which partitions of the chunk
topics the group gave each member (``DOCLANE_KAFKA_PARTITIONS``, 12 here: it
divides evenly among 1, 2, 3, 4 and 6 members).

It also simulates many gateways: G processes each tail ``document.status`` (as
every gateway's hub does) while events of many owners are published on many
partitions, and report what reading one event costs each of them.

    infra/with-infra.sh .venv/bin/python -m bench.scaleout [--docs 48] [--inflight 2]

Results go to ``bench/results/scaleout.json`` and a history in ``bench/results/scaleout.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench._common import save_results
from tests.utils.api import all_terminal, auth, collect_sse, login
from tests.utils.cluster import cluster_env
from tests.utils.server import ServerProcess, WorkerProcess, free_port

_WORDS = ("budget", "review", "supplier", "contract", "quarter", "forecast", "warehouse", "customer",
          "audit", "pilot", "migration", "platform", "renewal", "training", "risk", "outlook")
_CALLS = re.compile(r'^doclane_ai_calls_total\{outcome="ok",provider="mock"\} ([0-9.e+]+)$', re.M)
_EXTRACTED = re.compile(r'^doclane_stage_events_total\{outcome="ok",stage="extract"\} ([0-9.e+]+)$', re.M)
_CHUNKS = re.compile(r'^doclane_stage_events_total\{outcome="ok",stage="analyze"\} ([0-9.e+]+)$', re.M)


def make_corpus(folder: Path, docs: int, sections: int) -> list[Path]:
    """Markdown documents of ``sections`` sections of ~3.5k characters: one chunk each.

    Every sentence carries the document's own reference, so no chunk is a cache hit.
    """
    rng = random.Random(7)  # noqa: S311 - a reproducible corpus, not a secret
    paths = []
    for d in range(docs):
        parts = [f"# Report {d}\n"]
        for s in range(sections):
            sentences = " ".join(
                f"Item {d}-{s}-{i}: the {rng.choice(_WORDS)} {rng.choice(_WORDS)} needs a "
                f"{rng.choice(_WORDS)} before the {rng.choice(_WORDS)}." for i in range(45))
            parts.append(f"## Section {s + 1}\n\n{sentences}\n")
        path = folder / f"report-{d:03d}.md"
        path.write_text("\n".join(parts))
        paths.append(path)
    return paths


def _metric(pattern: re.Pattern[str], port: int) -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0.0
    match = pattern.search(text)
    return float(match.group(1)) if match else 0.0


async def _assignment(bootstrap: str, group: str) -> dict[str, list[str]]:
    """Member (client host and id) → ``topic:partition`` it holds, from the group coordinator."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.protocol.group import MemberAssignment

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    members: dict[str, list[str]] = {}
    for g in described:
        for grp in g.groups:
            for member in grp[5]:
                member_id, assignment = member[0], member[4]
                if not assignment:
                    members[member_id] = []
                    continue
                decoded = MemberAssignment.decode(assignment)
                members[member_id] = sorted(f"{t}:{p}" for t, ps in decoded.assignment for p in ps)
    return members


def _compact(partitions: list[str]) -> dict[str, list[int]]:
    """``prefix.chunk.ready.normal:3`` ... → ``{"chunk.ready.normal": [3, ...]}``."""
    by_topic: dict[str, list[int]] = {}
    for item in partitions:
        topic, part = item.rsplit(":", 1)
        by_topic.setdefault(topic.split(".", 1)[1], []).append(int(part))
    return {t: sorted(ps) for t, ps in sorted(by_topic.items())}


def _wait_for_group(bootstrap: str, group: str, members: int, timeout_s: float = 120) -> dict[str, list[str]]:
    deadline = time.monotonic() + timeout_s
    seen: dict[str, list[str]] = {}
    while time.monotonic() < deadline:
        try:
            seen = asyncio.run(_assignment(bootstrap, group))
        except Exception:
            seen = {}
        if len(seen) == members and all(seen.values()):
            return seen
        time.sleep(1)
    raise TimeoutError(f"group {group} has {len(seen)} members with partitions, not {members}")


async def _drain(url: str, tokens: list[str], paths: list[Path], extractor_port: int, ports: list[int],
                 start_analyzers: Callable[[], dict[str, list[str]]],
                 ) -> tuple[set[str], list[tuple[float, float]], float, dict[str, list[str]]]:
    """Upload every file (round robin over the owners), wait until all are extracted (their
    chunks wait in Kafka), then start the analyzers and sample their AI calls until every
    document has completed."""
    clients = [httpx.AsyncClient(base_url=url, headers=auth(t), timeout=120) for t in tokens]
    try:
        ids: list[set[str]] = [set() for _ in tokens]
        readies = [asyncio.Event() for _ in tokens]
        watchers = [asyncio.create_task(collect_sse(
            http, lambda evs, mine=mine: bool(mine) and all_terminal(mine)(evs), ready=ready,
            timeout_s=1800)) for http, mine, ready in zip(clients, ids, readies, strict=True)]
        await asyncio.gather(*(r.wait() for r in readies))
        for k, http in enumerate(clients):
            files = [("files", (p.name, p.read_bytes(), "text/markdown")) for p in paths[k::len(clients)]]
            response = await http.post("/documents/upload", files=files, data={"priority": "normal"})
            response.raise_for_status()
            ids[k].update(r["document"]["id"] for r in response.json()["results"])
        total_docs = sum(len(x) for x in ids)
        while await asyncio.to_thread(_metric, _EXTRACTED, extractor_port) < total_docs:
            if any(w.done() for w in watchers):
                break
            await asyncio.sleep(0.5)
        assignment = await asyncio.to_thread(start_analyzers)
        start = time.perf_counter()
        samples: list[tuple[float, float]] = []
        while not all(w.done() for w in watchers):
            calls = await asyncio.gather(*(asyncio.to_thread(_metric, _CALLS, p) for p in ports))
            samples.append((time.perf_counter() - start, sum(calls)))
            await asyncio.wait(watchers, timeout=0.5)
        events = [e for w in watchers for e in w.result()]
        elapsed = time.perf_counter() - start
    finally:
        for http in clients:
            await http.aclose()
    all_ids = set().union(*ids)
    failed = [e for e in events if e["status"] == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} documents failed: {failed[0].get('detail')}")
    samples.append((elapsed, sum(_metric(_CALLS, p) for p in ports)))
    return all_ids, samples, elapsed, assignment


def run(paths: list[Path], folder: Path, analyzers: int, inflight: int, latency_ms: int,
        owners: int = 1) -> dict[str, Any]:
    kafka, mongo = os.environ["DOCLANE_TEST_KAFKA_BOOTSTRAP"], os.environ["DOCLANE_TEST_MONGO_URL"]
    env = cluster_env(
        kafka, mongo, None, DOCLANE_KAFKA_PARTITIONS="12", DOCLANE_SEARCH_ENABLED="false",
        DOCLANE_AI_PROVIDER="mock", DOCLANE_MOCK_LATENCY_MS=str(latency_ms),
        DOCLANE_AI_CONCURRENCY=str(inflight), DOCLANE_AI_REQUESTS_PER_S="1000",
        DOCLANE_AI_TOKENS_PER_MIN="100000000", DOCLANE_UPLOAD_RATE_PER_MIN="6000")
    names = [f"owner{i}" for i in range(owners)] if owners > 1 else ["alice"]
    if owners > 1:
        env["DOCLANE_USERS"] = ",".join(["root:root-pw:admin", *(f"{n}:{n}-pw:user" for n in names)])
    data = folder / f"n{analyzers}-o{owners}"
    gateway = ServerProcess(data, env, command="gateway")
    extractor_port = free_port()
    ports = [free_port() for _ in range(analyzers)]
    workers = [WorkerProcess("extract", data, {**env, "DOCLANE_METRICS_PORT": str(extractor_port)},
                             name="extractor"),
               WorkerProcess("aggregate", data, env, name="aggregator")]
    members = [WorkerProcess("analyze", data, {**env, "DOCLANE_METRICS_PORT": str(port)},
                             name=f"analyzer-{i + 1}") for i, port in enumerate(ports)]

    def start_analyzers() -> dict[str, list[str]]:
        # Paused until every member holds its partitions, or the first would drain it all alone.
        for member in members:
            workers.append(member)
            member.start(timeout_s=600)
        group = _wait_for_group(kafka, env["DOCLANE_KAFKA_TOPIC_PREFIX"] + "analyzer", analyzers)
        httpx.post(f"{gateway.url}/admin/stages/analyze/resume", headers=admin, timeout=60).raise_for_status()
        return group

    try:
        gateway.start(timeout_s=120)
        admin = auth(login(gateway.url, "root", "root-pw"))
        httpx.post(f"{gateway.url}/admin/stages/analyze/pause", headers=admin, timeout=60).raise_for_status()
        for w in list(workers):
            w.start(timeout_s=600)
        tokens = [login(gateway.url, n, f"{n}-pw") for n in names]
        ids, samples, elapsed, assignment = asyncio.run(
            _drain(gateway.url, tokens, paths, extractor_port, ports, start_analyzers))
        per_member_calls = [_metric(_CALLS, p) for p in ports]
        per_member_chunks = [_metric(_CHUNKS, p) for p in ports]
    finally:
        for w in workers:
            w.stop()
        gateway.stop()
    total = sum(per_member_calls)
    lo, lo_c = next((t, c) for t, c in samples if c >= 0.1 * total)
    hi, hi_c = next((t, c) for t, c in samples if c >= 0.9 * total)
    steady = (hi_c - lo_c) / max(1e-9, hi - lo)
    return {
        "analyzers": analyzers,
        "owners": owners,
        "documents": len(ids),
        "ai_calls": int(total),
        "seconds_to_drain": round(elapsed, 1),
        "documents_per_s": round(len(ids) / elapsed, 3),
        "ai_calls_per_s_overall": round(total / elapsed, 2),
        "ai_calls_per_s_steady": round(steady, 2),
        "ai_calls_per_s_ceiling": round(analyzers * inflight / (latency_ms / 1000), 2),
        "calls_per_member": [int(c) for c in per_member_calls],
        "chunks_per_member": [int(c) for c in per_member_chunks],
        "partitions_per_member": sorted(len(v) for v in assignment.values()),
        "assignment": {f"member-{i + 1}": _compact(v) for i, v in enumerate(assignment.values())},
    }


# --------------------------------------------------------------------------- status-tail simulation


def _tail_process(bootstrap: str, prefix: str, partitions: int, expected: int, conn: Any) -> None:
    """One simulated gateway: tails ``document.status`` as the hub does and reports its cost."""
    asyncio.run(_tail_main(bootstrap, prefix, partitions, expected, conn))


async def _tail_main(bootstrap: str, prefix: str, partitions: int, expected: int, conn: Any) -> None:
    from doclane.infra.bus.kafka import KafkaBus
    from doclane.schemas.events import StatusEvent, Topics

    bus = KafkaBus(bootstrap, topic_prefix=prefix, partitions=partitions)
    await bus.start()
    seen = 0
    last: dict[str, int] = {}
    out_of_order = 0
    t0 = c0 = 0.0
    try:
        async for event in bus.tail(Topics.DOCUMENT_STATUS, StatusEvent):
            if event.document_id == "warm-up":
                if seen == 0 and not t0:
                    conn.send("ready")
                    t0 = -1.0
                continue
            if seen == 0:
                t0, c0 = time.perf_counter(), time.process_time()
            seen += 1
            if event.cursor <= last.get(event.owner, 0):
                out_of_order += 1
            last[event.owner] = event.cursor
            if seen == expected:
                break
    finally:
        await bus.close()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.send({"events": seen, "owners": len(last), "out_of_order": out_of_order,
               "events_per_s": round(seen / wall), "cpu_us_per_event": round(cpu / seen * 1e6, 1)})


async def _publish_status(bootstrap: str, prefix: str, partitions: int, events: int, owners: int,
                          warm_until: Any = None) -> float:
    from doclane.infra.bus.kafka import KafkaBus
    from doclane.schemas.events import DocumentStatus, Stage, StatusEvent, Topics

    bus = KafkaBus(bootstrap, topic_prefix=prefix, partitions=partitions)
    await bus.start()
    try:
        def status(doc: str, owner: str, cursor: int) -> StatusEvent:
            return StatusEvent(status=DocumentStatus.ANALYZING, stage=Stage.ANALYZE, document_id=doc,
                               owner=owner, seq=cursor, cursor=cursor)

        while warm_until is not None and not warm_until():
            await bus.publish(Topics.DOCUMENT_STATUS, "warm-up", status("warm-up", "nobody", 1))
            await asyncio.sleep(0.5)
        # Owner k's events go to its own document, so the key keeps them on one partition.
        cursors: dict[int, int] = {}
        batch = []
        start = time.perf_counter()
        for i in range(events):
            k = i % owners
            cursors[k] = cursors.get(k, 0) + 1
            batch.append(bus.publish(Topics.DOCUMENT_STATUS, f"doc-{k}",
                                     status(f"doc-{k}", f"owner-{k}", cursors[k])))
            if len(batch) == 2000:
                await asyncio.gather(*batch)
                batch = []
        await asyncio.gather(*batch)
        return time.perf_counter() - start
    finally:
        await bus.close()


def _all_ready(pipes: list[Any], ready: set[int]) -> bool:
    for i, pipe in enumerate(pipes):
        if i not in ready and pipe.poll():
            pipe.recv()
            ready.add(i)
    return len(ready) == len(pipes)


def simulate_status_tail(gateways: list[int], events: int, owners: int,
                         partitions: int) -> list[dict[str, Any]]:
    """G processes each tail the status topic (as every gateway does); what one event costs each."""
    import multiprocessing as mp
    import uuid

    bootstrap = os.environ["DOCLANE_TEST_KAFKA_BOOTSTRAP"]
    ctx = mp.get_context("spawn")
    runs = []
    for g in gateways:
        prefix = f"sim{uuid.uuid4().hex[:8]}."
        pipes, procs = [], []
        for _ in range(g):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_tail_process, args=(bootstrap, prefix, partitions, events, child),
                               daemon=True)
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        all_ready = functools.partial(_all_ready, pipes, set())
        publish_s = asyncio.run(_publish_status(bootstrap, prefix, partitions, events, owners, all_ready))
        reports = [p.recv() for p in pipes]
        for proc in procs:
            proc.join(60)
        run = {"gateways": g, "events": events, "owners": owners, "partitions": partitions,
               "publish_events_per_s": round(events / publish_s),
               "all_received": all(r["events"] == events for r in reports),
               "out_of_order": sum(r["out_of_order"] for r in reports),
               "tail_events_per_s_each": sorted(r["events_per_s"] for r in reports),
               "tail_cpu_us_per_event": round(statistics.fmean(r["cpu_us_per_event"] for r in reports), 1)}
        print(json.dumps(run), flush=True)
        runs.append(run)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--sections", type=int, default=6, help="chunks per document")
    parser.add_argument("--inflight", type=int, default=2, help="AI calls in flight per analyzer")
    parser.add_argument("--latency-ms", type=int, default=400)
    parser.add_argument("--members", default="1,2,4")
    parser.add_argument("--owners", type=int, default=1, help="users the documents are spread over")
    parser.add_argument("--sim-gateways", default="1,4,8",
                        help="simulated gateways tailing the status topic ('' to skip)")
    parser.add_argument("--sim-events", type=int, default=20000)
    parser.add_argument("--sim-owners", type=int, default=10000)
    parser.add_argument("--sim-partitions", type=int, default=48)
    args = parser.parse_args()
    if not (os.environ.get("DOCLANE_TEST_KAFKA_BOOTSTRAP") and os.environ.get("DOCLANE_TEST_MONGO_URL")):
        raise SystemExit("run it with infra/with-infra.sh (Kafka and the MongoDB-protocol server)")
    simulated = (simulate_status_tail([int(x) for x in args.sim_gateways.split(",")], args.sim_events,
                                      args.sim_owners, args.sim_partitions)
                 if args.sim_gateways else [])
    runs = []
    with tempfile.TemporaryDirectory(prefix="doclane-scaleout-") as tmp:
        folder = Path(tmp)
        paths = make_corpus(folder, args.docs, args.sections)
        for n in (int(x) for x in args.members.split(",") if x):
            runs.append(run(paths, folder, n, args.inflight, args.latency_ms, args.owners))
            print(json.dumps(runs[-1]), flush=True)
    base = runs[0] if runs else None
    for r in runs if base else []:
        r["steady_vs_1"] = round(r["ai_calls_per_s_steady"] / base["ai_calls_per_s_steady"], 2)
        r["overall_vs_1"] = round(r["ai_calls_per_s_overall"] / base["ai_calls_per_s_overall"], 2)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_avg_at_end": [round(x, 1) for x in os.getloadavg()],
        "setup": (f"Kafka + FerretDB, 12 partitions per topic, mock AI {args.latency_ms} ms a call, "
                  f"{args.inflight} in flight per analyzer, search indexing off"),
        "runs": runs,
        "status_tail_simulation": simulated,
    }
    rows = [f"| {result['when']} | {result['setup']}, {r['owners']} owner(s) | {r['analyzers']} "
            f"| {r['documents']} "
            f"| {r['ai_calls']} | {r['ai_calls_per_s_steady']} | {r['ai_calls_per_s_ceiling']} "
            f"| {r['steady_vs_1']} | {r['overall_vs_1']} | {r['calls_per_member']} "
            f"| {r['partitions_per_member']} | {result['load_avg_at_end'][0]} |\n" for r in runs]
    rows += [f"| {result['when']} | status-tail simulation: {sim['gateways']} gateways tail "
             f"{sim['events']} events of {sim['owners']} owners on {sim['partitions']} "
             f"partitions | - | - | - | - | - | - | - | each tail: {sim['tail_events_per_s_each']} "
             f"events/s, {sim['tail_cpu_us_per_event']} us CPU per event; all received in order: "
             f"{sim['all_received'] and not sim['out_of_order']} | - "
             f"| {result['load_avg_at_end'][0]} |\n" for sim in simulated]
    save_results(
        "scaleout", result,
        "# Scale-out: analyzer processes with the AI as the bound\n\n"
        "Written by `python -m bench.scaleout`; one row per analyzer count per run. "
        "Ceiling: members x in-flight cap / call latency.\n\n"
        "| when | setup | analyzers | docs | AI calls | calls/s steady | ceiling | vs 1 (steady) "
        "| vs 1 (whole drain) | calls per member | partitions per member | load avg |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        rows)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
