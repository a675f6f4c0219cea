"""Benchmark: AI-bound utilisation, successful AI calls a second over the configured limit.

A real ``doclane serve`` (embedded mode, its own data directory) analyses a text
corpus with the ``mock`` provider: lognormal latency (mean 400 ms, p99 1.5 s), a
configured ``DOCLANE_AI_REQUESTS_PER_S``, and enough concurrency that the
limiter, not the pipeline, sets the pace. Everything is uploaded at once, then
``GET /metrics`` is sampled every 0.25 s. The steady state runs from the sample
where 5% of the run's successful calls are done to the one where 90% are (the
start burst and the tail are left out); its rate over the limit is the
utilisation. Results go to ``bench/results/ai.json`` and a one-line-per-run
history in ``bench/results/ai.md``.

    python -m bench.ai [--docs 40] [--chunks-per-doc 15]

Scenarios: the headline (no failures, 20 calls/s), the same with 10% failed
calls (429 with ``Retry-After: 1``, 500, truncated JSON), and the headline at
twice the limit. No infrastructure is needed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from doclane.extraction import chunk_document, extract
from tests.utils.api import auth, login, upload
from tests.utils.server import ServerProcess

RESULTS = Path(__file__).parent / "results"

#: One chunk per paragraph: paragraphs are a little shorter than a chunk, and nothing overlaps.
_CHUNK_MAX_CHARS = 400
_PARAGRAPH_CHARS = 340
_SAMPLE_EVERY_S = 0.25
#: The steady-state window, as shares of the run's successful calls.
_WINDOW = (0.05, 0.90)
_RUN_TIMEOUT_S = 240
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Scenario:
    name: str
    requests_per_s: float
    failure_rate: float = 0.0
    #: Attempts per chunk or reduce. Raised with failures so that no document fails
    #: (two failed attempts in a row would fail it and skip its remaining chunks).
    max_attempts: int = 2

    def env(self) -> dict[str, str]:
        concurrency = "64"  # >= 40 calls/s x 1.5 s p99: the limiter is never starved
        return {
            "DOCLANE_AI_PROVIDER": "mock",
            "DOCLANE_AI_REQUESTS_PER_S": str(self.requests_per_s),
            # The requests/s limit is under test: the tokens/min one must not bind.
            "DOCLANE_AI_TOKENS_PER_MIN": "100000000",
            "DOCLANE_AI_CONCURRENCY": concurrency,
            "DOCLANE_ANALYZE_CONCURRENCY": concurrency,
            "DOCLANE_AI_MAX_ATTEMPTS": str(self.max_attempts),
            "DOCLANE_MOCK_LATENCY_MS": "400",
            "DOCLANE_MOCK_LATENCY_P99_MS": "1500",
            "DOCLANE_MOCK_FAILURE_RATE": str(self.failure_rate),
            "DOCLANE_MOCK_FAILURE_KINDS": "429,500,malformed",
            "DOCLANE_MOCK_RETRY_AFTER_S": "1",
            "DOCLANE_CHUNK_MAX_CHARS": str(_CHUNK_MAX_CHARS),
            "DOCLANE_CHUNK_OVERLAP_CHARS": "0",
            "DOCLANE_UPLOAD_RATE_PER_MIN": "100000",
            "DOCLANE_UPLOAD_BURST_FILES": "1000",
            "DOCLANE_MAX_FILES_PER_UPLOAD": "1000",
        }


SCENARIOS = (
    Scenario("headline", 20),
    Scenario("failures_10pct", 20, failure_rate=0.1, max_attempts=4),
    Scenario("double_rate", 40),
)


# --- corpus ---

_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "den", "mor", "tal")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def _paragraph(rng: random.Random, doc: int, index: int) -> str:
    """About ``_PARAGRAPH_CHARS`` of sentences, unique to this document and paragraph.

    Every chunk is distinct, so neither the document cache nor the chunk cache
    spares a single call.
    """
    sentences = [f"Part {index + 1} of report {doc + 1} covers the {_word(rng)} figures."]
    while sum(len(s) + 1 for s in sentences) < _PARAGRAPH_CHARS - 60:
        words = [_word(rng) for _ in range(rng.randint(5, 9))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def make_corpus(folder: Path, docs: int, chunks_per_doc: int) -> list[Path]:
    rng = random.Random(7)  # noqa: S311 - a reproducible corpus, not a secret
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in range(docs):
        path = folder / f"report-{d:03d}.txt"
        paragraphs = [_paragraph(rng, d, i) for i in range(chunks_per_doc)]
        path.write_text(f"Report {d + 1}\n\n" + "\n\n".join(paragraphs) + "\n")
        paths.append(path)
    return paths


def count_calls(paths: list[Path]) -> tuple[int, int]:
    """The calls the corpus needs: one per chunk, plus one reduce per multi-chunk document."""
    chunks = [len(chunk_document(extract(p, "text/plain"), _CHUNK_MAX_CHARS, 0)) for p in paths]
    return sum(chunks), sum(1 for n in chunks if n > 1)


# --- sampling ---

@dataclass
class Sample:
    t: float
    ok: float
    failed: float
    #: Calls admitted by the limiter (started), failed ones included.
    admitted: float
    finished_docs: float
    loop_cpu_s: float
    process_cpu_s: float
    scrape_s: float


def _cpu_s(stat_path: Path) -> float:
    """utime + stime of a process or thread, in seconds."""
    fields = stat_path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _parse(text: str) -> dict[str, float]:
    values: dict[str, float] = {"ok": 0.0, "failed": 0.0, "admitted": 0.0, "finished": 0.0}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "doclane_ai_calls_total":
                values["ok" if s.labels.get("outcome") == "ok" else "failed"] += s.value
                key = f"outcome_{s.labels.get('outcome')}"
                values[key] = values.get(key, 0.0) + s.value
            elif s.name == "doclane_ai_limit_wait_seconds_count":
                values["admitted"] += s.value
            elif s.name == "doclane_ai_limit_wait_seconds_sum":
                values["limit_wait_sum_s"] = s.value
            elif s.name == "doclane_ai_call_seconds_sum":
                values["call_sum_s"] = s.value
            elif s.name == "doclane_ai_call_seconds_count":
                values["call_count"] = s.value
            elif s.name == "doclane_status_events_total" and s.labels.get("status") in (
                "completed", "failed"
            ):
                values["finished"] += s.value
                values[f"docs_{s.labels['status']}"] = s.value
    return values


@dataclass
class Run:
    scenario: Scenario
    samples: list[Sample] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    docs: list[dict[str, Any]] = field(default_factory=list)


async def _drive(paths: list[Path], server: ServerProcess, run: Run) -> None:
    assert server.pid is not None
    proc = Path(f"/proc/{server.pid}")
    token = login(server.url, "alice", "alice-pw")
    async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as client:
        start = time.perf_counter()
        response = await upload(client, paths)
        response.raise_for_status()
        deadline = start + _RUN_TIMEOUT_S
        while True:
            before = time.perf_counter()
            text = (await client.get("/metrics")).text
            after = time.perf_counter()
            values = _parse(text)
            run.samples.append(Sample(
                t=(before + after) / 2 - start, ok=values["ok"], failed=values["failed"],
                admitted=values["admitted"], finished_docs=values["finished"],
                loop_cpu_s=_cpu_s(proc / "task" / str(server.pid) / "stat"),
                process_cpu_s=_cpu_s(proc / "stat"), scrape_s=after - before,
            ))
            if values["finished"] >= len(paths):
                run.final = values
                break
            if after > deadline:
                raise TimeoutError(f"{run.scenario.name}: not finished after {_RUN_TIMEOUT_S} s")
            await asyncio.sleep(max(0.0, before + _SAMPLE_EVERY_S - time.perf_counter()))
        listing = await client.get("/documents", params={"limit": 1000})
        run.docs = listing.json()["items"]


def run_scenario(scenario: Scenario, paths: list[Path], data_dir: Path) -> Run:
    server = ServerProcess(data_dir, scenario.env())
    server.start()
    run = Run(scenario)
    try:
        asyncio.run(_drive(paths, server, run))
    finally:
        server.stop()
    return run


# --- figures ---

def _first_at_least(samples: list[Sample], ok: float) -> Sample:
    return next(s for s in samples if s.ok >= ok)


def summarise(run: Run, expected_calls: int) -> dict[str, Any]:
    sc, samples, final = run.scenario, run.samples, run.final
    total_ok = final["ok"]
    a, b = (_first_at_least(samples, share * total_ok) for share in _WINDOW)
    span = b.t - a.t
    ok_rate = (b.ok - a.ok) / span
    admitted_rate = (b.admitted - a.admitted) / span
    inside = [s for s in samples if a.t <= s.t <= b.t]
    idle = sum(1 for x, y in itertools.pairwise(inside) if y.admitted == x.admitted)
    completed = [d for d in run.docs if d["status"] == "completed"]
    chunk_calls = sum(d["chunk_count"] or 0 for d in completed)
    reduce_calls = sum(1 for d in completed if (d["chunk_count"] or 0) > 1)
    outcomes = {k.removeprefix("outcome_"): int(v) for k, v in final.items() if k.startswith("outcome_")}
    return {
        "scenario": sc.name,
        "requests_per_s_limit": sc.requests_per_s,
        "mock_failure_rate": sc.failure_rate,
        "ai_max_attempts": sc.max_attempts,
        "documents": len(run.docs),
        "documents_completed": len(completed),
        "expected_ok_calls": expected_calls,
        "ok_calls": int(total_ok),
        "chunk_calls_ok": chunk_calls,
        "reduce_calls_ok": reduce_calls,
        "calls_by_outcome": outcomes,
        "window_s": round(span, 2),
        "window_ok_calls": int(b.ok - a.ok),
        "ok_calls_per_s": round(ok_rate, 2),
        "utilisation_ok": round(ok_rate / sc.requests_per_s, 3),
        "admitted_calls_per_s": round(admitted_rate, 2),
        "utilisation_all_calls": round(admitted_rate / sc.requests_per_s, 3),
        "window_idle_sample_share": round(idle / max(1, len(inside) - 1), 3),
        "run_s": round(samples[-1].t, 1),
        "mean_call_s": round(final.get("call_sum_s", 0) / max(1, final.get("call_count", 1)), 3),
        "mean_limit_wait_s": round(final.get("limit_wait_sum_s", 0) / max(1, final["admitted"]), 3),
        "event_loop_thread_cpu": round((b.loop_cpu_s - a.loop_cpu_s) / span, 3),
        "server_process_cpu": round((b.process_cpu_s - a.process_cpu_s) / span, 3),
        "metrics_scrape_ms_max": round(1000 * max(s.scrape_s for s in inside), 1),
        "ok_calls_per_s_by_second": _per_second(samples),
    }


def _per_second(samples: list[Sample]) -> list[int]:
    """Successful calls finished in each whole second of the run (a coarse picture of the pace)."""
    out, mark = [], 1.0
    prev_ok = 0.0
    for s in samples:
        while s.t >= mark:
            out.append(int(s.ok - prev_ok))
            prev_ok, mark = s.ok, mark + 1
    return out


_HEADER = """\
# AI-bound utilisation (`python -m bench.ai`, run by `make bench`)

One `doclane serve` per scenario (embedded mode), `mock` provider with lognormal latency (mean
400 ms, p99 1.5 s), AI and analyzer concurrency 64, the tokens/min limit out of the way. The
corpus: distinct text documents, one chunk per paragraph (no cache hits), uploaded at once.
`/metrics` is sampled every 0.25 s; the window runs from 5% to 90% of the run's successful calls.

* **util ok**: successful calls a second in the window, over `DOCLANE_AI_REQUESTS_PER_S`. The
  target is >= 0.95 without failures. It counts calls as they finish, so the calls in flight at
  the window's edges make it wobble by about 1% around util all.
* **util all**: calls the limiter admitted a second (failed ones included), over the limit: how
  well the limiter itself keeps pace. Failed calls use the limit too, so with 10% failures util
  ok is about 0.9 of util all.
* A `429` pauses every call of the process for its `Retry-After` (1 s here). While the request
  bucket holds a single call, each pause costs its whole length of capacity: util all is about
  1 / (1 + limit * share of 429s * Retry-After), 1 / (1 + 20 * 0.033 * 1) = 0.6 here. The mock
  answers 429 at random, whatever the rate, so this is the price of obeying `Retry-After`, not a
  sign that the limit was exceeded.
* **idle**: share of the 0.25 s intervals in the window in which no call was admitted.
  **loop cpu**: CPU share of the server's event-loop thread in the window (1.0 = saturated);
  **proc cpu**: the whole server process, threads included (the machine has 2 cores).
* Calls: one per chunk plus one reduce per multi-chunk document; both go through the limiter.

| when | scenario | limit /s | failures | docs | ok calls (chunk+reduce) | window s | ok /s \
| util ok | all /s | util all | idle | loop cpu | proc cpu |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def write_results(result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ai.json").write_text(json.dumps(result, indent=2) + "\n")
    history = RESULTS / "ai.md"
    if not history.exists():
        history.write_text(_HEADER)
    with history.open("a") as out:
        for s in result["scenarios"]:
            out.write(
                f"| {result['when']} | {s['scenario']} | {s['requests_per_s_limit']:g} "
                f"| {s['mock_failure_rate']:g} | {s['documents']} "
                f"| {s['ok_calls']} ({s['chunk_calls_ok']}+{s['reduce_calls_ok']}) | {s['window_s']} "
                f"| {s['ok_calls_per_s']} | {s['utilisation_ok']} | {s['admitted_calls_per_s']} "
                f"| {s['utilisation_all_calls']} | {s['window_idle_sample_share']} "
                f"| {s['event_loop_thread_cpu']} | {s['server_process_cpu']} |\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--chunks-per-doc", type=int, default=15)
    parser.add_argument("--only", choices=[s.name for s in SCENARIOS], action="append",
                        help="run only this scenario (repeatable)")
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only]
    summaries = []
    with tempfile.TemporaryDirectory(prefix="doclane-bench-ai-") as tmp:
        folder = Path(tmp)
        paths = make_corpus(folder / "corpus", args.docs, args.chunks_per_doc)
        chunks, reduces = count_calls(paths)
        for scenario in scenarios:
            run = run_scenario(scenario, paths, folder / scenario.name)
            summary = summarise(run, chunks + reduces)
            summaries.append(summary)
            print(json.dumps({k: v for k, v in summary.items() if k != "ok_calls_per_s_by_second"}))
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()} {os.cpu_count()} cpus",
        "docs": args.docs,
        "chunks": chunks,
        "reduces": reduces,
        "mock_latency_ms": {"mean": 400, "p99": 1500},
        "scenarios": summaries,
    }
    write_results(result)


if __name__ == "__main__":
    main()
