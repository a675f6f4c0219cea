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
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pymupdf

from doclane.ai.local import _analyze_sync, _reduce_sync
from doclane.extraction import chunk_document, extract
from tests.utils.api import all_terminal, auth, collect_sse, login, upload
from tests.utils.cluster import Cluster, cluster_env
from tests.utils.documents import make_report_pdf
from tests.utils.server import ServerProcess

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
    token = login(url, "alice", "alice-pw")
    async with httpx.AsyncClient(base_url=url, headers=auth(token), timeout=300) as client:
        ready, ids = asyncio.Event(), set()
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
    return elapsed


#: The embedded runs: search indexing off, and on with each local embedding model.
INDEXING = {
    "off": {"DOCLANE_SEARCH_ENABLED": "false"},
    "wordllama": {"DOCLANE_EMBEDDINGS_LOCAL_MODEL": "wordllama-l2"},
    "minilm": {"DOCLANE_EMBEDDINGS_LOCAL_MODEL": "minilm-l6-v2"},
}


def embedded(paths: list[Path], data_dir: Path, env: dict[str, str] | None = None) -> float:
    server = ServerProcess(data_dir, env).start()
    try:
        return asyncio.run(end_to_end(paths, server.url))
    finally:
        server.stop()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=24)
    parser.add_argument("--pages", default="5-40", help="page count range, e.g. 5-40")
    args = parser.parse_args()
    lo, hi = (int(x) for x in args.pages.split("-"))
    with tempfile.TemporaryDirectory(prefix="doclane-bench-") as tmp:
        folder = Path(tmp)
        paths = make_corpus(folder, args.docs, lo, hi)
        raw_pymupdf(paths[:2])  # warm the file cache and imports
        pages, raw_s = raw_pymupdf(paths)
        _, ours_s = ours_extract(paths)
        _, loop_s = plain_loop(paths)
        indexing = {name: embedded(paths, folder / f"data-{name}", env) for name, env in INDEXING.items()}
        e2e_s = indexing["minilm"]  # the default configuration
        dist1_s = distributed(paths, folder / "d1", analyzers=1)
        dist2_s = distributed(paths, folder / "d2", analyzers=2)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "docs": args.docs,
        "pages": pages,
        "raw_pymupdf_pages_per_s": round(pages / raw_s, 1),
        "doclane_extract_and_chunk_pages_per_s": round(pages / ours_s, 1),
        "plain_loop_extract_analyze_pages_per_s": round(pages / loop_s, 1),
        "end_to_end_pages_per_s": round(pages / e2e_s, 1),
        "extract_vs_raw": round(raw_s / ours_s, 3),
        "end_to_end_vs_raw": round(raw_s / e2e_s, 3),
        "end_to_end_vs_plain_loop": round(loop_s / e2e_s, 3),
        # Search indexing's cost: end-to-end pages/s with it off and with each local model.
        "end_to_end_pages_per_s_by_indexing": {k: round(pages / s, 1) for k, s in indexing.items()},
        "end_to_end_vs_indexing_off": {k: round(indexing["off"] / s, 3) for k, s in indexing.items()},
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
    if not history.exists():
        history.write_text(
            "| when | docs | pages | raw PyMuPDF p/s | extract+chunk p/s | plain loop p/s "
            "| end-to-end p/s | extract/raw | e2e/raw | e2e/plain loop "
            "| distributed p/s (2 analyzers) | distributed/raw | 2 vs 1 analyzers |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    with history.open("a") as out:
        out.write(
            f"| {result['when']} | {args.docs} | {pages} | {result['raw_pymupdf_pages_per_s']} "
            f"| {result['doclane_extract_and_chunk_pages_per_s']} "
            f"| {result['plain_loop_extract_analyze_pages_per_s']} | {result['end_to_end_pages_per_s']} "
            f"| {result['extract_vs_raw']} | {result['end_to_end_vs_raw']} "
            f"| {result['end_to_end_vs_plain_loop']} "
            f"| {result.get('distributed_2_analyzers_pages_per_s', '-')} "
            f"| {result.get('distributed_vs_raw', '-')} "
            f"| {result.get('distributed_2_vs_1_analyzers', '-')} |\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
