"""Benchmark: raw PyMuPDF text extraction vs doclane's extraction vs the whole pipeline.

All three read the same generated corpus in the same run, so the ratios hold
even on a noisy machine. Results go to ``bench/results/pipeline.json`` and a
one-line-per-run history in ``bench/results/pipeline.md``.

    python -m bench.pipeline [--docs 24] [--pages 5-40]

With ``DOCLANE_TEST_KAFKA_BOOTSTRAP`` and ``DOCLANE_TEST_MONGO_URL`` set (``make
bench`` starts the servers), the same corpus also goes through the distributed
mode (gateway and workers as processes on Kafka and FerretDB) with one and with
two analyzer workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pymupdf

from bench._serve import CountedServer, operations_since
from doclane.ai.local import _analyze_sync, _reduce_sync
from doclane.extraction import chunk_document, extract
from tests.utils.api import all_terminal, auth, collect_sse, login, upload
from tests.utils.cluster import Cluster, cluster_env
from tests.utils.documents import make_report_pdf

RESULTS = Path(__file__).parent / "results"


def make_corpus(folder: Path, docs: int, min_pages: int, max_pages: int) -> list[Path]:
    rng = random.Random(42)  # noqa: S311 - a reproducible corpus, not a secret
    paths = []
    for i in range(docs):
        path = folder / f"doc-{i:03d}.pdf"
        make_report_pdf(path, n_pages=rng.randint(min_pages, max_pages), title=f"Report {i}")
        paths.append(path)
    return paths


def raw_pymupdf(paths: list[Path]) -> tuple[int, float]:
    start, pages = time.perf_counter(), 0
    for path in paths:
        with pymupdf.open(path) as doc:
            for page in doc:
                page.get_text()
                pages += 1
    return pages, time.perf_counter() - start


def ours_extract(paths: list[Path]) -> tuple[int, float]:
    start, pages = time.perf_counter(), 0
    for path in paths:
        doc = extract(path, "application/pdf")
        chunk_document(doc)
        pages += doc.page_count
    return pages, time.perf_counter() - start


def plain_loop(paths: list[Path]) -> tuple[int, float]:
    """The same work as the pipeline, one document after another in one process."""
    start, pages = time.perf_counter(), 0
    for path in paths:
        doc = extract(path, "application/pdf")
        chunks = chunk_document(doc)
        pairs = [(c, _analyze_sync(c)) for c in chunks]
        _reduce_sync(pairs)
        pages += doc.page_count
    return pages, time.perf_counter() - start


async def end_to_end(paths: list[Path], url: str) -> float:
    """Seconds from the upload request until every document's final status arrived."""
    elapsed, _ = await end_to_end_events(paths, url)
    return elapsed


async def end_to_end_events(paths: list[Path], url: str) -> tuple[float, list[dict[str, Any]]]:
    """:func:`end_to_end`, with the status events that streamed back."""
    token = login(url, "alice", "alice-pw")
    async with httpx.AsyncClient(base_url=url, headers=auth(token), timeout=300) as client:
        ready, ids = asyncio.Event(), set[str]()
        watcher = asyncio.create_task(collect_sse(
            client, lambda evs: bool(ids) and all_terminal(ids)(evs), ready=ready, timeout_s=1800))
        await ready.wait()
        start = time.perf_counter()
        response = await upload(client, paths)
        ids.update(r["document"]["id"] for r in response.json()["results"])
        events = await watcher
        elapsed = time.perf_counter() - start
    failed = [e for e in events if e["status"] == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} documents failed: {failed[0]['detail']}")
    return elapsed, [e for e in events if e["document_id"] in ids]


#: The embedded runs: the analyzer, and search indexing off or on with a local embedding model.
#: ``mock`` answers at once (zero latency, no rate limit): what is left is the pipeline's own cost.
_MOCK = {"DOCLANE_AI_PROVIDER": "mock", "DOCLANE_MOCK_LATENCY_MS": "0",
         "DOCLANE_AI_REQUESTS_PER_S": "100000", "DOCLANE_AI_TOKENS_PER_MIN": "1000000000"}
#: No AI cache: the corpus repeats its sentences, and the plain loop it is compared with has none.
_LOCAL = {"DOCLANE_AI_PROVIDER": "local", "DOCLANE_AI_CACHE": "false"}
_OFF = {"DOCLANE_SEARCH_ENABLED": "false"}
EMBEDDED = {
    "local, indexing off": _LOCAL | _OFF,
    "local, wordllama": _LOCAL | {"DOCLANE_EMBEDDINGS_LOCAL_MODEL": "wordllama-l2"},
    "local, minilm": _LOCAL | {"DOCLANE_EMBEDDINGS_LOCAL_MODEL": "minilm-l6-v2"},
    "mock, indexing off": _MOCK | _OFF,
    "mock, minilm": _MOCK | {"DOCLANE_EMBEDDINGS_LOCAL_MODEL": "minilm-l6-v2"},
}


def embedded(paths: list[Path], data_dir: Path, env: dict[str, str], warm_up: Path) -> dict[str, Any]:
    """One embedded server: seconds, CPU seconds per process, store calls and SQLite round trips."""
    server = CountedServer(data_dir, env).start(timeout_s=180)
    try:
        # A 2-page document first: the CPU pool has imported its models, so the run measures
        # the pipeline, not the start-up.
        asyncio.run(end_to_end([warm_up], server.url))
        before, cpu_before = server.store_operations_now(), server.cpu_s()
        elapsed, events = asyncio.run(end_to_end_events(paths, server.url))
        cpu = {k: round(v - cpu_before.get(k, 0), 2) for k, v in server.cpu_s().items()}
    finally:
        server.stop()
    calls, trips = operations_since(server.store_operations(), before)
    chunks = sum(e["progress"]["total"] for e in events
                 if e["status"] == "completed" and e.get("progress"))
    return {
        "seconds": elapsed, "cpu_s": cpu, "chunks": chunks,
        "store_calls_per_chunk": round(sum(calls.values()) / max(chunks, 1), 2),
        "sqlite_round_trips_per_chunk": round(trips / max(chunks, 1), 2),
        "store_calls": calls,
    }


def distributed(paths: list[Path], data_dir: Path, analyzers: int) -> float | None:
    kafka, mongo, search = (os.environ.get(f"DOCLANE_TEST_{n}")
                            for n in ("KAFKA_BOOTSTRAP", "MONGO_URL", "SEARCH_URL"))
    if not (kafka and mongo and search):
        return None
    cluster = Cluster(data_dir, cluster_env(kafka, mongo, search)).start(analyzers=analyzers)
    try:
        return asyncio.run(end_to_end(paths, cluster.gateway.url))
    finally:
        cluster.stop()


def indexing_costs(paths: list[Path], docs: int = 3) -> dict[str, float]:
    """What one chunk costs the indexer, measured alone in this process on the corpus's chunks:
    NER (the spaCy model, in the CPU pool in the server) and MiniLM embeddings (in a thread)."""
    from doclane.ai.embeddings.minilm import MiniLMEmbedder
    from doclane.ai.embeddings.passages import chunk_passages
    from doclane.ai.ner import extract_entities
    from doclane.infra.settings import Settings

    chunks = [c for p in paths[:docs] for c in chunk_document(extract(p, "application/pdf"))]
    models_dir = Settings().models_dir
    extract_entities(chunks[0].text, models_dir)  # loads the model
    wall, cpu = time.perf_counter(), time.process_time()
    for chunk in chunks:
        extract_entities(chunk.text, models_dir)
    ner_wall, ner_cpu = time.perf_counter() - wall, time.process_time() - cpu
    embedder = MiniLMEmbedder()
    texts = [t for c in chunks for t in chunk_passages(c, embedder.passage_chars)]

    async def embed() -> tuple[float, float]:
        await embedder.embed(texts[:4])
        wall, cpu = time.perf_counter(), time.process_time()
        await embedder.embed(texts)
        seconds = time.perf_counter() - wall, time.process_time() - cpu
        await embedder.close()
        return seconds

    embed_wall, embed_cpu = asyncio.run(embed())
    return {
        "chunks": len(chunks),
        "ner_ms_per_chunk": round(ner_wall * 1000 / len(chunks), 1),
        "ner_cpu_ms_per_chunk": round(ner_cpu * 1000 / len(chunks), 1),
        "passages_per_chunk": round(len(texts) / len(chunks), 2),
        "embedding_passages_per_s": round(len(texts) / embed_wall, 1),
        "embedding_cpu_ms_per_passage": round(embed_cpu * 1000 / len(texts), 1),
    }


def _timed(fn: Callable[[list[Path]], tuple[int, float]], paths: list[Path]) -> tuple[int, float, float]:
    """``fn(paths)``: pages, wall seconds and this process's CPU seconds."""
    cpu = time.process_time()
    pages, wall = fn(paths)
    return pages, wall, time.process_time() - cpu


def _bound(run: dict[str, Any]) -> str:
    """What set the pace of an embedded run, from where its CPU went."""
    cpu = run["cpu_s"]
    main, workers = cpu.get("main", 0.0), sum(v for k, v in cpu.items() if k != "main")
    busiest = max(main, max((v for k, v in cpu.items() if k != "main"), default=0.0))
    share = (main + workers) / run["seconds"]
    where = "the server's main process" if busiest == main else "the CPU pool workers"
    return (f"CPU of {where} (main {main:.1f} s, pool {workers:.1f} s; "
            f"{share:.2f} cores used on average of the 2 shared)")


_HISTORY = (
    "| when | docs | pages | raw PyMuPDF p/s | extract+chunk p/s | plain loop p/s "
    "| end-to-end p/s | extract/raw | e2e/raw | e2e/plain loop "
    "| distributed p/s (2 analyzers) | distributed/raw | 2 vs 1 analyzers |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)
_OVERHEAD = (
    "## Pipeline overhead (issue 13, target 1)\n\n"
    "Each pair is search indexing off / on (MiniLM + NER). CPU ratios compare CPU seconds "
    "(the pipeline's spread over 2 cores), which a shared machine disturbs less than wall time; "
    "store calls and SQLite round trips (store and event log) are per chunk, mock run, indexing off.\n\n"
    "| when | load avg | raw p/s | mock e2e p/s | mock vs raw | mock vs raw, CPU "
    "| plain loop p/s | local e2e p/s | local vs loop | local vs loop, CPU (off) "
    "| store calls / round trips per chunk |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _append_row(path: Path, header: str, row: str) -> None:
    """Add ``row`` at the end of the table that starts with ``header`` (the table is made if missing)."""
    lines = path.read_text().splitlines() if path.exists() else []
    head = header.splitlines()
    start = next((i for i in range(len(lines)) if lines[i:i + len(head)] == head), None)
    if start is None:
        lines += ([""] if lines else []) + head + [row]
    else:
        end = start + len(head)
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        lines.insert(end, row)
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=24)
    parser.add_argument("--pages", default="5-40", help="page count range, e.g. 5-40")
    args = parser.parse_args()
    lo, hi = (int(x) for x in args.pages.split("-"))
    with tempfile.TemporaryDirectory(prefix="doclane-bench-") as tmp:
        folder = Path(tmp)
        paths = make_corpus(folder, args.docs, lo, hi)
        warm_up = folder / "warm-up.pdf"
        make_report_pdf(warm_up, n_pages=2, title="Warm-up")
        raw_pymupdf(paths[:2])  # warm the file cache and imports
        pages, raw_s, raw_cpu = _timed(raw_pymupdf, paths)
        _, ours_s, _ = _timed(ours_extract, paths)
        _, loop_s, loop_cpu = _timed(plain_loop, paths)
        indexing = indexing_costs(paths)
        runs = {name: embedded(paths, folder / f"data-{i}", env, warm_up)
                for i, (name, env) in enumerate(EMBEDDED.items())}
        e2e_s = runs["local, minilm"]["seconds"]  # the default configuration
        dist1_s = distributed(paths, folder / "d1", analyzers=1)
        dist2_s = distributed(paths, folder / "d2", analyzers=2)
    for run in runs.values():
        run["bound"] = _bound(run)
        run["pages_per_s"] = round(pages / run["seconds"], 1)
        run["vs_raw"] = round(raw_s / run["seconds"], 3)
        # On CPU, not wall time (the machine is shared): raw PyMuPDF's CPU per page against the
        # pipeline's, with the pipeline's CPU spread over the 2 cores it may use.
        run["cpu_vs_raw_on_2_cores"] = round(raw_cpu / (sum(run["cpu_s"].values()) / 2), 3)
        run["seconds"] = round(run["seconds"], 2)
    off, on = runs["local, indexing off"], runs["local, minilm"]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "load_average": round(os.getloadavg()[0], 1),
        "docs": args.docs,
        "pages": pages,
        "raw_pymupdf_pages_per_s": round(pages / raw_s, 1),
        "raw_pymupdf_cpu_s": round(raw_cpu, 2),
        "doclane_extract_and_chunk_pages_per_s": round(pages / ours_s, 1),
        "plain_loop_extract_analyze_pages_per_s": round(pages / loop_s, 1),
        "plain_loop_cpu_s": round(loop_cpu, 2),
        "end_to_end_pages_per_s": round(pages / e2e_s, 1),
        "extract_vs_raw": round(raw_s / ours_s, 3),
        "end_to_end_vs_raw": round(raw_s / e2e_s, 3),
        "end_to_end_vs_plain_loop": round(loop_s / e2e_s, 3),
        # Issue 13, target 1: the mock provider at zero latency against raw PyMuPDF, and the
        # local analyzer against the plain loop; indexing off (the pipeline the issue measured) and on.
        "mock_indexing_off_vs_raw": runs["mock, indexing off"]["vs_raw"],
        "mock_minilm_vs_raw": runs["mock, minilm"]["vs_raw"],
        "local_indexing_off_vs_plain_loop": round(loop_s / off["seconds"], 3),
        "local_minilm_vs_plain_loop": round(loop_s / on["seconds"], 3),
        "local_indexing_off_cpu_vs_plain_loop_on_2_cores": round(
            loop_cpu / (sum(off["cpu_s"].values()) / 2), 3),
        # Search indexing's cost: end-to-end pages/s with it off and with each local model.
        "end_to_end_pages_per_s_by_run": {k: r["pages_per_s"] for k, r in runs.items()},
        "end_to_end_vs_indexing_off": {
            k: round(off["seconds"] / r["seconds"], 3) for k, r in runs.items() if k.startswith("local")},
        "embedded_runs": runs,
        # What bounds the pipeline with indexing on: the indexer's per-chunk work, measured alone.
        "indexing_costs": indexing,
    }
    if dist1_s is not None and dist2_s is not None:
        result |= {
            "distributed_1_analyzer_pages_per_s": round(pages / dist1_s, 1),
            "distributed_2_analyzers_pages_per_s": round(pages / dist2_s, 1),
            "distributed_vs_raw": round(raw_s / dist2_s, 3),
            "distributed_vs_embedded": round(e2e_s / dist2_s, 3),
            "distributed_2_vs_1_analyzers": round(dist1_s / dist2_s, 3),
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(result, indent=2) + "\n")
    history = RESULTS / "pipeline.md"
    _append_row(history, _HISTORY, (
        f"| {result['when']} | {args.docs} | {pages} | {result['raw_pymupdf_pages_per_s']} "
        f"| {result['doclane_extract_and_chunk_pages_per_s']} "
        f"| {result['plain_loop_extract_analyze_pages_per_s']} | {result['end_to_end_pages_per_s']} "
        f"| {result['extract_vs_raw']} | {result['end_to_end_vs_raw']} "
        f"| {result['end_to_end_vs_plain_loop']} "
        f"| {result.get('distributed_2_analyzers_pages_per_s', '-')} "
        f"| {result.get('distributed_vs_raw', '-')} "
        f"| {result.get('distributed_2_vs_1_analyzers', '-')} |"))
    mock_off, mock_on = runs["mock, indexing off"], runs["mock, minilm"]
    _append_row(history, _OVERHEAD, (
        f"| {result['when']} | {result['load_average']} | {result['raw_pymupdf_pages_per_s']} "
        f"| {mock_off['pages_per_s']} / {mock_on['pages_per_s']} "
        f"| {mock_off['vs_raw']} / {mock_on['vs_raw']} "
        f"| {mock_off['cpu_vs_raw_on_2_cores']} / {mock_on['cpu_vs_raw_on_2_cores']} "
        f"| {result['plain_loop_extract_analyze_pages_per_s']} "
        f"| {off['pages_per_s']} / {on['pages_per_s']} "
        f"| {result['local_indexing_off_vs_plain_loop']} / {result['local_minilm_vs_plain_loop']} "
        f"| {result['local_indexing_off_cpu_vs_plain_loop_on_2_cores']} "
        f"| {mock_off['store_calls_per_chunk']} / {mock_off['sqlite_round_trips_per_chunk']} |"))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
