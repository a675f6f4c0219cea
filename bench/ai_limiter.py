"""The AI limiter alone: the limiter, the analyzer and the ``mock`` provider in one process.

64 callers analyse distinct chunks for a scenario's ``limiter_only_s`` seconds, with no
pipeline around them (no extraction, store, bus or stage runner), so the figure is the
limiter's own, apart from what the rest of the server (and a busy machine) costs. Part of
``python -m bench.ai``; the window runs from 5 s to the end (calls still queued when time
is up are left out).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import TYPE_CHECKING, Any

from doclane.ai.exceptions import AnalysisError, ProviderRateLimited
from doclane.ai.limits import AiLimiter
from doclane.ai.llm import LlmAnalyzer
from doclane.ai.mock import MockBackend
from doclane.ai.prompts import load_prompts
from doclane.infra.settings import Settings
from doclane.schemas.extraction import Chunk

if TYPE_CHECKING:
    from bench.ai import Scenario

__all__ = ["limiter_only"]

#: The share of 429s is counted over calls that finished after this (the adaptation's start-up).
SETTLED_AFTER_S = 30


async def _limiter_only(sc: Scenario, seconds: float) -> dict[str, Any]:
    settings = Settings(
        ai_provider="mock", mock_latency_ms=400, mock_latency_p99_ms=1500,
        mock_failure_rate=sc.failure_rate, mock_failure_kinds=sc.failure_kinds, mock_retry_after_s=1,
        mock_limit_requests_per_s=sc.provider_limit_rps,
    )
    limiter = AiLimiter(sc.requests_per_s, 100_000_000, 64)
    analyzer = LlmAnalyzer(MockBackend(settings), load_prompts("v1"), limiter,
                           max_input_tokens=100_000, max_output_tokens=1500)
    finished: list[tuple[float, str]] = []
    start = time.perf_counter()
    counter = itertools.count()

    async def worker() -> None:
        while time.perf_counter() - start < seconds:
            i = next(counter)
            text = f"Part {i} of the limiter run. It covers the figures of unit {i}."
            try:
                await analyzer.analyze_chunk(Chunk(index=i, text=text, section_path=[]))
                outcome = "ok"
            except ProviderRateLimited:
                outcome = "429"
            except AnalysisError:
                outcome = "failed"
            finished.append((time.perf_counter() - start, outcome))

    await asyncio.gather(*(worker() for _ in range(64)))
    await analyzer.close()
    warm, end = 5.0, seconds  # the start-up and the tail (calls queued when time was up) left out
    window = [o for t, o in finished if warm <= t <= end]
    late = [o for t, o in finished if SETTLED_AFTER_S <= t <= end]
    ok_rate = window.count("ok") / (end - warm)
    return {
        "seconds": seconds,
        "window_s": end - warm,
        "ok_calls_per_s": round(ok_rate, 2),
        "utilisation_ok": round(ok_rate / sc.true_limit, 3),
        "utilisation_all_calls": round(len(window) / (end - warm) / sc.true_limit, 3),
        "calls": len(finished),
        "calls_429": sum(1 for _, o in finished if o == "429"),
        "calls_429_share_after_30s": round(late.count("429") / len(late), 4) if late else None,
        "pace_at_end_per_s": round(limiter.requests_per_s, 2),
        "provider_rate_read_per_s": (round(limiter.provider_requests_per_s, 2)
                                     if limiter.provider_requests_per_s else None),
    }


def limiter_only(sc: Scenario) -> dict[str, Any]:
    """The limiter, the analyzer and the mock provider in this process, 64 callers, no pipeline.

    What the limiter achieves when nothing else competes for the pace: the server runs of
    the same scenario add extraction, the store, the bus and the stage runner (and, on a
    busy machine, their share of the CPU); this one isolates the limiter's own figure.
    """
    return asyncio.run(_limiter_only(sc, sc.limiter_only_s))
