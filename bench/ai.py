"""Benchmark: AI-bound utilisation, successful AI calls a second over the provider's true limit.

A real ``doclane serve`` (embedded mode, its own data directory) analyses a text
corpus with the ``mock`` provider: lognormal latency (mean 400 ms, p99 1.5 s), a
true limit of its own (``DOCLANE_MOCK_LIMIT_REQUESTS_PER_S``: over it, 429 with
``Retry-After``; OpenAI's ``x-ratelimit-*`` headers on every answer), a configured
``DOCLANE_AI_REQUESTS_PER_S``, and enough concurrency that the limiter, not the
pipeline, sets the pace. Everything is uploaded at once, then ``GET /metrics`` is
sampled every 0.25 s. The steady state runs from the sample where 5% of the run's
successful calls are done to the one where 90% are (the start burst and the tail
are left out); its rate over the provider's true limit is the utilisation. Results
go to ``bench/results/ai.json`` and a one-line-per-scenario history in
``bench/results/ai.md``.

    python -m bench.ai [--docs 40] [--chunks-per-doc 15] [--only SCENARIO]

Scenarios: doclane configured at the true limit (20 calls/s); configured 50%
above it (30 calls/s, long enough that "after the first 30 s" means something);
10% random failures that are not 429s (500, truncated JSON) at the right limit;
twice the rate (40/40); and the old chaos run, 10% random failures including 429s
with ``Retry-After: 1`` (their headers show the bucket far from empty, so they pause
every call but slow nothing). No infrastructure is needed.
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

from bench.ai_limiter import SETTLED_AFTER_S, limiter_only
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
    #: ``DOCLANE_AI_REQUESTS_PER_S``: what doclane is configured to send at most.
    requests_per_s: float
    #: The mock provider's true limit (``DOCLANE_MOCK_LIMIT_REQUESTS_PER_S``); ``None``: no limit.
    provider_limit_rps: float | None
    failure_rate: float = 0.0
    failure_kinds: str = "500,malformed"
    #: Attempts per chunk or reduce. Raised with failures so that no document fails
    #: (two failed attempts in a row would fail it and skip its remaining chunks).
    max_attempts: int = 2
    #: Documents of the corpus this scenario uploads (the first ones).
    docs: int = 40
    #: What the successful-call rate is held to, said in the results.
    bound: str = ""
    #: Seconds of the limiter-only run (0: none), see :func:`limiter_only`.
    limiter_only_s: float = 0

    @property
    def true_limit(self) -> float:
        """The rate the provider really allows: its own limit, or doclane's when it has none."""
        return self.provider_limit_rps or self.requests_per_s

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
            "DOCLANE_MOCK_FAILURE_KINDS": self.failure_kinds,
            "DOCLANE_MOCK_RETRY_AFTER_S": "1",
            **({"DOCLANE_MOCK_LIMIT_REQUESTS_PER_S": str(self.provider_limit_rps)}
               if self.provider_limit_rps else {}),
            "DOCLANE_CHUNK_MAX_CHARS": str(_CHUNK_MAX_CHARS),
            "DOCLANE_CHUNK_OVERLAP_CHARS": "0",
            # AI-bound utilisation is under test: the indexer (embeddings and NER on the CPU
            # pool) is another group that would compete for the two cores.
            "DOCLANE_SEARCH_ENABLED": "false",
            "DOCLANE_UPLOAD_RATE_PER_MIN": "100000",
            "DOCLANE_UPLOAD_BURST_FILES": "1000",
            "DOCLANE_MAX_FILES_PER_UPLOAD": "1000",
        }


SCENARIOS = (
    Scenario("headline", 20, 20, bound="the provider's limit (doclane paces at it)", limiter_only_s=20),
    Scenario("over_limit_1.5x", 30, 20, docs=120, limiter_only_s=75,
             bound="the provider's limit, read from its x-ratelimit-* headers"),
    Scenario("failures_10pct", 20, 20, failure_rate=0.1, max_attempts=4, limiter_only_s=30,
             bound="the provider's limit less the 10% of calls that fail (they count against it)"),
    Scenario("double_rate", 40, 40, bound="the provider's limit (doclane paces at it)"),
    Scenario("random_429", 20, 20, failure_rate=0.1, failure_kinds="429,500,malformed", max_attempts=4,
             bound="the Retry-After: 1 pauses of the random 429s (each stops every call of the process)"),
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
    #: Calls answered 429 (included in ``failed``).
    rate_limited: float
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
                if s.labels.get("outcome") == "ai_rate_limited":
                    values["rate_limited"] = values.get("rate_limited", 0.0) + s.value
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
                rate_limited=values.get("rate_limited", 0.0),
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
    # Generous: a server that finds no classifier for the current code trains one first.
    server.start(timeout_s=600)
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
    settled = next((s for s in samples if s.t >= SETTLED_AFTER_S), None)
    last = samples[-1]
    late_calls = (last.ok + last.failed) - (settled.ok + settled.failed) if settled else 0.0
    late_429 = last.rate_limited - settled.rate_limited if settled else 0.0
    return {
        "scenario": sc.name,
        "bound": sc.bound,
        "requests_per_s_limit": sc.requests_per_s,
        "provider_limit_rps": sc.provider_limit_rps,
        "true_limit_rps": sc.true_limit,
        "mock_failure_rate": sc.failure_rate,
        "mock_failure_kinds": sc.failure_kinds if sc.failure_rate else "",
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
        "utilisation_ok": round(ok_rate / sc.true_limit, 3),
        "admitted_calls_per_s": round(admitted_rate, 2),
        "utilisation_all_calls": round(admitted_rate / sc.true_limit, 3),
        "calls_429": int(last.rate_limited),
        "calls_429_share": round(last.rate_limited / max(1.0, last.ok + last.failed), 4),
        "calls_after_30s": int(late_calls),
        "calls_429_after_30s": int(late_429),
        # None when the run ended before 30 s: there is no "after" to speak of.
        "calls_429_share_after_30s": round(late_429 / late_calls, 4) if late_calls else None,
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


_SECTION = "## Against a provider with a limit of its own"

_HEADER = f"""\
{_SECTION}

From 2026-11-28 the `mock` provider enforces a true limit of its own
(`DOCLANE_MOCK_LIMIT_REQUESTS_PER_S`, a bucket of one second's worth): over it, 429 with the exact
`Retry-After`, and OpenAI's `x-ratelimit-*` headers on every answer. doclane's limiter reads them and
paces to the provider's rate, never above `DOCLANE_AI_REQUESTS_PER_S`. Same server, latency, corpus
and window as above.

* **conf /s**: `DOCLANE_AI_REQUESTS_PER_S`; **true /s**: the provider's limit (`-`: none, the
  configured one counts as true).
* **ok / true**: successful calls a second in the window over the true limit; **all / true**: calls
  admitted (failed ones included) over it.
* **429s**: calls answered 429 in the whole run; **429 after 30 s**: their share of the calls that
  finished after the first 30 s (`-` when the run was shorter).
* **alone**: the same limiter, analyzer and mock provider in the bench's process, 64 callers and no
  pipeline (`limiter_only` in the JSON): ok / true from 5 s to the end, and the 429 share after 30 s.
  The server figures add extraction, the store, the bus and the stage runner, and their share of a
  machine that may be busy; this one is the limiter's own.
* **bound**: what holds the ok rate where it is.

| when | scenario | conf /s | true /s | failures | docs | ok calls | window s | ok /s | ok / true \
| all / true | 429s | 429 after 30 s | alone: ok / true | alone: 429 after 30 s | idle | loop cpu \
| proc cpu | bound |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _row(when: str, s: dict[str, Any]) -> str:
    late = s["calls_429_share_after_30s"]
    alone = s.get("limiter_only") or {}
    failures = f"{s['mock_failure_rate']:g} ({s['mock_failure_kinds']})" if s["mock_failure_rate"] else "0"
    true = f"{s['provider_limit_rps']:g}" if s["provider_limit_rps"] else "-"
    return (
        f"| {when} | {s['scenario']} | {s['requests_per_s_limit']:g} | {true} | {failures} "
        f"| {s['documents']} | {s['ok_calls']} | {s['window_s']} | {s['ok_calls_per_s']} "
        f"| {s['utilisation_ok']} | {s['utilisation_all_calls']} | {s['calls_429']} "
        f"| {_share(late)} | {alone.get('utilisation_ok', '-')} "
        f"| {_share(alone.get('calls_429_share_after_30s'))} | {s['window_idle_sample_share']} "
        f"| {s['event_loop_thread_cpu']} | {s['server_process_cpu']} | {s['bound']} |\n"
    )


def write_results(result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ai.json").write_text(json.dumps(result, indent=2) + "\n")
    history = RESULTS / "ai.md"
    text = history.read_text() if history.exists() else ""
    with history.open("a") as out:
        if _SECTION not in text:
            out.write(("\n" if text else "") + _HEADER)
        for s in result["scenarios"]:
            out.write(_row(result["when"], s))


def print_table(summaries: list[dict[str, Any]]) -> None:
    print(f"{'scenario':<16} {'conf/s':>6} {'true/s':>6} {'ok/s':>6} {'ok/true':>7} {'all/true':>8} "
          f"{'429s':>5} {'429>30s':>8} {'alone':>6} {'429>30s':>8}  bound")
    for s in summaries:
        alone = s.get("limiter_only") or {}
        print(f"{s['scenario']:<16} {s['requests_per_s_limit']:>6g} {s['true_limit_rps']:>6g} "
              f"{s['ok_calls_per_s']:>6} {s['utilisation_ok']:>7} {s['utilisation_all_calls']:>8} "
              f"{s['calls_429']:>5} {_share(s['calls_429_share_after_30s']):>8} "
              f"{alone.get('utilisation_ok', '-'):>6} {_share(alone.get('calls_429_share_after_30s')):>8}"
              f"  {s['bound']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="documents per scenario times this (a quick look: 0.25)")
    parser.add_argument("--chunks-per-doc", type=int, default=15)
    parser.add_argument("--only", choices=[s.name for s in SCENARIOS], action="append",
                        help="run only this scenario (repeatable)")
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only]
    summaries = []
    with tempfile.TemporaryDirectory(prefix="doclane-bench-ai-") as tmp:
        folder = Path(tmp)
        most = max(max(1, round(s.docs * args.scale)) for s in scenarios)
        paths = make_corpus(folder / "corpus", most, args.chunks_per_doc)
        for scenario in scenarios:
            docs = paths[: max(1, round(scenario.docs * args.scale))]
            chunks, reduces = count_calls(docs)
            run = run_scenario(scenario, docs, folder / scenario.name)
            summary = summarise(run, chunks + reduces)
            if scenario.limiter_only_s:
                summary["limiter_only"] = limiter_only(scenario)
            summaries.append(summary)
            print(json.dumps({k: v for k, v in summary.items() if k != "ok_calls_per_s_by_second"}),
                  flush=True)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()} {os.cpu_count()} cpus",
        "chunks_per_doc": args.chunks_per_doc,
        "scale": args.scale,
        "mock_latency_ms": {"mean": 400, "p99": 1500},
        "scenarios": summaries,
    }
    if args.scale == 1.0:  # a scaled-down look is not a result
        write_results(result)
    print_table(summaries)


if __name__ == "__main__":
    main()
