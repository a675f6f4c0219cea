"""Benchmark: does a big PDF go as fast, and in as little memory, as a small one?

One embedded server per document size (10, 100 and 1,000 pages by default), each
fresh, so the peak resident memory (``VmHWM``) of its main process and of each CPU
pool worker belongs to that document alone. Pages/s is measured from the upload
request until the final status streamed back; the store's operations are counted
(``bench._serve``). The ``local`` analyzer and search indexing off by default (the
pipeline the issue measured); ``--indexing`` turns on embeddings and NER.

    python -m bench.bigdocs [--pages 10,100,1000] [--indexing]

Results go to ``bench/results/bigdocs.json`` and a history in ``bench/results/bigdocs.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._common import save_results
from bench._serve import CountedServer, operations_since
from bench.pipeline import end_to_end
from tests.utils.documents import make_report_pdf


def run_one(pdf: Path, pages: int, data_dir: Path, env: dict[str, str], warm_up: Path) -> dict[str, Any]:
    server = CountedServer(data_dir, env)
    server.start(timeout_s=180)
    try:
        # A small document of its own words first (no chunk of it is in the reports, so nothing
        # is cached for them): both pool workers have loaded their models and the server has
        # served a request, so the figures are the document's, not the start-up's.
        asyncio.run(end_to_end([warm_up], server.url))
        counts_before = server.store_operations_now()
        cpu_before = server.cpu_s()
        elapsed = asyncio.run(end_to_end([pdf], server.url))
        cpu_after = server.cpu_s()
        rss = server.peak_rss_mb()
    finally:
        server.stop()
    calls, trips = operations_since(server.store_operations(), counts_before)
    return {
        "pages": pages,
        "seconds": round(elapsed, 2),
        "pages_per_s": round(pages / elapsed, 1),
        "cpu_s": {k: round(v - cpu_before.get(k, 0), 2) for k, v in cpu_after.items()},
        "peak_rss_mb": rss,
        "store_calls": sum(calls.values()),
        "sqlite_round_trips": trips,
    }


def _warm_up_text(path: Path) -> Path:
    """About eight chunks of text unlike the reports', so each pool worker analyses some."""
    words = ["harbour", "violet", "engine", "quartz", "meadow", "signal", "copper", "lantern"]
    paragraphs = [
        f"Warm-up note {i}: the {words[i % 8]} crew checked the {words[(i * 3) % 8]} "
        f"and the {words[(i * 5 + 1) % 8]} before noon on day {i}, then filed report {i * 7}."
        for i in range(400)
    ]
    path.write_text("\n\n".join(paragraphs))
    return path


def _pdf(folder: Path, pages: int) -> Path:
    path = folder / f"report-{pages}.pdf"
    if not path.exists():  # a 1,000-page report takes a minute or two to write
        started = time.perf_counter()
        make_report_pdf(path, n_pages=pages, title=f"Report of {pages} pages")
        print(f"{pages} pages written in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def summarise(runs: list[dict[str, Any]], indexing: bool, note: str = "") -> dict[str, Any]:
    """The runs with the ratios of issue 13, target 2 (1,000 pages against 100 and 10)."""
    by_pages = {r["pages"]: r for r in runs}
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "load_average": round(os.getloadavg()[0], 1),
        "note": note,
        "analyzer": "local",
        "indexing": indexing,
        "runs": runs,
    }
    if not {10, 100, 1000} <= by_pages.keys():
        return result
    small, mid, big = by_pages[10], by_pages[100], by_pages[1000]

    def per_cpu_s(run: dict[str, Any], only: str | None = None) -> float:
        """Pages per CPU second (of every process, or of ``only``): pages/s with CPU as the only limit."""
        cpu = run["cpu_s"][only] if only else sum(run["cpu_s"].values())
        return float(run["pages"]) / max(cpu, 0.01)

    def biggest_worker(run: dict[str, Any]) -> float:
        return max((v for k, v in run["peak_rss_mb"].items() if k != "main"), default=0.0)

    result |= {
        "pages_per_s_1000_vs_100": round(big["pages_per_s"] / mid["pages_per_s"], 3),
        # The same on CPU seconds, which a loaded machine disturbs far less than wall time.
        "pages_per_cpu_s_1000_vs_100": round(per_cpu_s(big) / per_cpu_s(mid), 3),
        "main_pages_per_cpu_s_1000_vs_100": round(per_cpu_s(big, "main") / per_cpu_s(mid, "main"), 3),
        "peak_rss_main_1000_vs_10": round(big["peak_rss_mb"]["main"] / small["peak_rss_mb"]["main"], 3),
        # The pool's workers take documents in turn: the largest worker against the largest.
        "peak_rss_worker_1000_vs_10": round(biggest_worker(big) / biggest_worker(small), 3),
    }
    return result


_HISTORY = (
    "Big documents (issue 13, target 2): one fresh embedded server per size, `local` analyzer. "
    "Wall-time pages/s is disturbed by the shared machine's load; pages per CPU second "
    "(all processes, and the main process alone) is not. Peak RSS is `VmHWM`.\n\n"
    "| when | note | load avg | indexing | p/s 10 / 100 / 1000 | 1000 vs 100 "
    "| 1000 vs 100, CPU (all / main) | main RSS MB 10 / 1000 | main 1000 vs 10 "
    "| largest worker 1000 vs 10 | store calls / round trips, 1000 pages |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def history_rows(result: dict[str, Any]) -> list[str]:
    """The row of ``bench/results/bigdocs.md`` for a run of all three sizes (none otherwise)."""
    if "pages_per_s_1000_vs_100" not in result:
        return []
    by_pages = {r["pages"]: r for r in result["runs"]}
    big = by_pages[1000]
    return [
        f"| {result['when']} | {result['note']} | {result['load_average']} "
        f"| {'on' if result['indexing'] else 'off'} "
        f"| {by_pages[10]['pages_per_s']} / {by_pages[100]['pages_per_s']} / {big['pages_per_s']} "
        f"| {result['pages_per_s_1000_vs_100']} "
        f"| {result['pages_per_cpu_s_1000_vs_100']} / {result['main_pages_per_cpu_s_1000_vs_100']} "
        f"| {by_pages[10]['peak_rss_mb']['main']} / {big['peak_rss_mb']['main']} "
        f"| {result['peak_rss_main_1000_vs_10']} | {result['peak_rss_worker_1000_vs_10']} "
        f"| {big['store_calls']} / {big.get('sqlite_round_trips', '-')} |\n"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="10,100,1000")
    parser.add_argument("--indexing", action="store_true", help="search indexing on (embeddings, NER)")
    parser.add_argument("--corpus", type=Path, help="keep the generated PDFs here and reuse them")
    parser.add_argument("--note", default="", help="a word for the history row (e.g. the commit)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.pages.split(",")]
    env = {"DOCLANE_AI_PROVIDER": "local", "DOCLANE_SEARCH_ENABLED": str(args.indexing).lower()}
    runs = []
    with tempfile.TemporaryDirectory(prefix="doclane-bigdocs-") as tmp:
        folder = Path(tmp)
        corpus = args.corpus or folder
        corpus.mkdir(parents=True, exist_ok=True)
        warm_up = _warm_up_text(folder / "warm-up.txt")
        for n in sizes:
            runs.append(run_one(_pdf(corpus, n), n, folder / f"data-{n}", env, warm_up))
            print(json.dumps(runs[-1]), flush=True)
    result = summarise(runs, args.indexing, args.note)
    save_results("bigdocs", result, _HISTORY, history_rows(result))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
