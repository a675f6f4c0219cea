"""The simulated AI service: its latency distribution, its failures and its answers."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from collections import Counter
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from doclane.ai.backend import ChatBackend, ChatRequest
from doclane.ai.exceptions import (
    AnalysisError,
    MalformedReply,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from doclane.ai.mock import MockBackend, latency_sampler
from doclane.ai.provider_limits import LimitSnapshot, ProviderLimits
from doclane.infra.settings import Settings
from doclane.schemas.analysis import ChunkFindings, DocumentFindings, Sentiment
from tests.utils.fake_time import FakeTime

TEXT = (
    "The supplier agreement renews automatically every January. "
    "Either party may terminate the agreement with ninety days of written notice. "
    "Invoices are payable within thirty days of delivery. "
    "Late invoices accrue interest at two percent per month."
)


class FakeSleep:
    """Records the delays asked for instead of waiting them."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        #: The last delay each task asked for, so concurrent calls can tell theirs apart.
        self.last: dict[asyncio.Task[Any] | None, float] = {}

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.last[asyncio.current_task()] = delay
        await asyncio.sleep(0)  # still yield, so concurrent calls interleave


def chunk_request(data: str = TEXT, system: str = "Analyse the chunk.") -> ChatRequest[ChunkFindings]:
    return ChatRequest(
        system=system,
        user=f"<data>\n{data}\n</data>",
        data=data,
        schema=ChunkFindings,
        max_output_tokens=500,
        purpose="chunk 0",
    )


def backend(**settings: Any) -> tuple[MockBackend, FakeSleep]:
    sleep = FakeSleep()
    return MockBackend(Settings(**settings), sleep=sleep), sleep


async def outcome(
    mock: MockBackend, sleep: FakeSleep, request: ChatRequest[ChunkFindings]
) -> tuple[str, float]:
    """What one call did: its result kind and the delay it waited."""
    try:
        await mock.complete(request)
    except AnalysisError as exc:
        return type(exc).__name__, sleep.last[asyncio.current_task()]
    return "ok", sleep.last[asyncio.current_task()]


# --- latency -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("mean_ms", "p99_ms"), [(1200, 3000), (200, 2000), (50, 60)])
def test_lognormal_latency_has_the_configured_mean_and_p99(mean_ms: int, p99_ms: int) -> None:
    draw = latency_sampler(Settings(mock_latency_ms=mean_ms, mock_latency_p99_ms=p99_ms))
    rng = random.Random(7)
    samples = sorted(draw(rng) * 1000 for _ in range(50_000))
    assert statistics.fmean(samples) == pytest.approx(mean_ms, rel=0.05)
    assert samples[int(0.99 * len(samples))] == pytest.approx(p99_ms, rel=0.05)


def test_p99_equal_to_the_mean_is_a_constant_latency() -> None:
    draw = latency_sampler(Settings(mock_latency_ms=300, mock_latency_p99_ms=300))
    rng = random.Random(1)
    assert {round(draw(rng), 9) for _ in range(100)} == {0.3}


def test_latency_is_clamped() -> None:
    draw = latency_sampler(
        Settings(
            mock_latency_ms=1000, mock_latency_p99_ms=8000,
            mock_latency_min_ms=400, mock_latency_max_ms=2500,
        )
    )
    rng = random.Random(3)
    samples = [draw(rng) for _ in range(20_000)]
    assert min(samples) == 0.4
    assert max(samples) == 2.5


def test_latency_is_fixed_without_a_p99() -> None:
    draw = latency_sampler(Settings(mock_latency_ms=250))
    rng = random.Random(0)
    assert {draw(rng) for _ in range(100)} == {0.25}
    clamped = latency_sampler(Settings(mock_latency_ms=250, mock_latency_max_ms=100))
    assert clamped(rng) == 0.1


# --- determinism -------------------------------------------------------------------------------

CHAOS: dict[str, Any] = {
    "mock_latency_ms": 800, "mock_latency_p99_ms": 4000,
    "mock_failure_rate": 0.3, "mock_seed": 42, "ai_timeout_s": 30,
}


async def outcomes_by_attempt(
    order: list[tuple[int, int]], settings: dict[str, Any], *, concurrent: bool = False
) -> dict[tuple[int, int], tuple[str, float]]:
    """Outcome per (request, attempt), the calls being made in ``order``."""
    mock, sleep = backend(**settings)
    requests = [chunk_request(f"{TEXT} Clause {i}.") for i in range(20)]
    calls = (outcome(mock, sleep, requests[key]) for key, _ in order)
    if concurrent:
        results = await asyncio.gather(*calls)
    else:
        results = [await call for call in calls]
    return dict(zip(order, results, strict=True))


async def test_same_seed_gives_the_same_outcomes_in_any_order() -> None:
    key_major = [(key, attempt) for key in range(20) for attempt in range(3)]
    reversed_attempt_major = [(key, attempt) for attempt in range(3) for key in reversed(range(20))]
    first = await outcomes_by_attempt(key_major, CHAOS)
    second = await outcomes_by_attempt(reversed_attempt_major, CHAOS)
    third = await outcomes_by_attempt(reversed_attempt_major, CHAOS, concurrent=True)
    assert first == second == third
    assert {kind for kind, _ in first.values()} > {"ok"}  # the test exercises failures too
    assert len({delay for _, delay in first.values()}) > 10  # and varied latencies


async def test_a_different_seed_gives_different_outcomes() -> None:
    order = [(key, attempt) for key in range(20) for attempt in range(3)]
    other_seed = {**CHAOS, "mock_seed": 43}
    assert await outcomes_by_attempt(order, CHAOS) != await outcomes_by_attempt(order, other_seed)


async def test_retries_of_one_request_get_fresh_draws() -> None:
    mock, sleep = backend(mock_latency_ms=800, mock_latency_p99_ms=4000)
    for _ in range(5):
        await mock.complete(chunk_request())
    assert len(set(sleep.delays)) == 5


# --- failures ----------------------------------------------------------------------------------


async def test_failure_rate_and_kinds() -> None:
    mock, sleep = backend(mock_failure_rate=0.3, mock_latency_ms=100, mock_seed=5)
    kinds: Counter[str] = Counter()
    for i in range(2000):
        kind, _ = await outcome(mock, sleep, chunk_request(f"Request number {i}. {TEXT}"))
        kinds[kind] += 1
    failures = 2000 - kinds.pop("ok")
    assert 0.25 * 2000 <= failures <= 0.35 * 2000
    assert set(kinds) == {"ProviderTimeout", "ProviderRateLimited", "ProviderUnavailable", "MalformedReply"}
    for count in kinds.values():
        assert count == pytest.approx(failures / 4, rel=0.25)


async def test_failures_use_only_the_configured_kinds() -> None:
    mock, sleep = backend(mock_failure_rate=0.5, mock_failure_kinds="429, 500")
    kinds = {(await outcome(mock, sleep, chunk_request(f"{i} {TEXT}")))[0] for i in range(200)}
    assert kinds == {"ok", "ProviderRateLimited", "ProviderUnavailable"}


@pytest.mark.parametrize(
    ("kind", "error", "delay_s"),
    [
        ("timeout", ProviderTimeout, 12.5),
        ("429", ProviderRateLimited, 0.1),
        ("500", ProviderUnavailable, 1.0),
        ("malformed", MalformedReply, 1.0),
    ],
)
async def test_each_failure_kind(kind: str, error: type[AnalysisError], delay_s: float) -> None:
    mock, sleep = backend(
        mock_failure_rate=1, mock_failure_kinds=kind, mock_latency_ms=1000,
        mock_retry_after_s=2.5, ai_timeout_s=12.5,
    )
    with pytest.raises(error) as caught:
        await mock.complete(chunk_request())
    assert caught.value.retryable is True
    assert sleep.delays == [pytest.approx(delay_s)]
    if kind == "429":
        assert caught.value.retry_after_s == 2.5


async def test_malformed_answers_always_fail_validation() -> None:
    mock, _ = backend(mock_failure_rate=1, mock_failure_kinds="malformed")
    for i in range(100):
        with pytest.raises(MalformedReply, match="invalid JSON at line 1") as caught:
            if i % 2:
                await mock.complete(chunk_request(f"Variant {i}. {TEXT}"))
            else:
                await mock.complete(document_request(i))
        assert isinstance(caught.value.__cause__, ValidationError)


# --- answers -----------------------------------------------------------------------------------


async def test_chunk_answer_comes_from_the_data() -> None:
    mock, sleep = backend(mock_latency_ms=250)
    request = chunk_request()
    reply = await mock.complete(request)
    findings = reply.value
    assert isinstance(findings, ChunkFindings)
    assert findings.summary == (
        "The supplier agreement renews automatically every January. "
        "Either party may terminate the agreement with ninety days of written notice. "
        "Invoices are payable within thirty days of delivery."
    )
    assert findings.topics[0] == "agreement"
    assert "invoices" in findings.topics
    assert len(findings.topics) == 5
    assert all(len(topic) >= 5 for topic in findings.topics)
    assert findings.sentiment is Sentiment.NEUTRAL
    assert findings.action_items == []
    assert sleep.delays == [0.25]
    assert reply.prompt_tokens == (len(request.system) + len(request.user)) // 4
    assert reply.completion_tokens > 0


async def test_chunk_without_sentences_falls_back_to_a_prefix() -> None:
    mock, _ = backend()
    table = " | ".join(f"cell{i}" for i in range(400))
    reply = await mock.complete(chunk_request(table))
    assert reply.value.summary == table[:200]


def document_request(seed: int = 0) -> ChatRequest[DocumentFindings]:
    partials = [
        {"summary": f"Part {i} covers payment terms. It has details.", "topics": ["payment", f"part {i}"]}
        for i in range(seed % 3 + 1)
    ]
    data = json.dumps(partials)
    return ChatRequest(
        system="Reduce the findings.", user=data, data=data, schema=DocumentFindings,
        max_output_tokens=800, purpose="reduce",
    )


async def test_document_answer_reduces_partial_findings() -> None:
    mock, _ = backend()
    partials = [
        {"summary": f"Section {i} is about renewals. More detail.", "topics": ["Renewal", f"section {i}"]}
        for i in range(7)
    ]
    partials[3]["topics"] = ["renewal", "Termination", "termination"]
    data = json.dumps(partials)
    request = ChatRequest(
        system="Reduce.", user=data, data=data, schema=DocumentFindings, max_output_tokens=800,
    )
    findings = (await mock.complete(request)).value
    assert isinstance(findings, DocumentFindings)
    assert findings.summary == " ".join(f"Section {i} is about renewals." for i in range(5))
    assert findings.topics[:2] == ["Renewal", "Termination"]
    assert len(findings.topics) == 8
    assert findings.sentiment is Sentiment.NEUTRAL


async def test_an_unknown_schema_is_a_programming_error() -> None:
    class Other(BaseModel):
        x: int

    mock, _ = backend()
    request = ChatRequest(system="s", user="u", data="d", schema=Other, max_output_tokens=10)
    with pytest.raises(NotImplementedError):
        await mock.complete(request)


async def test_it_is_a_chat_backend() -> None:
    mock: ChatBackend = MockBackend(Settings())
    assert (mock.provider, mock.model) == ("mock", "mock-1")
    await mock.close()


# --- a provider's rate limit -------------------------------------------------------------------


def limited(clock: FakeTime, **settings: Any) -> tuple[MockBackend, FakeSleep]:
    sleep = FakeSleep()
    return MockBackend(Settings(**settings), sleep=sleep, clock=clock.clock), sleep


async def call_with_headers(
    mock: MockBackend, request: ChatRequest[ChunkFindings]
) -> tuple[str, dict[str, str]]:
    """A call's outcome and the headers it answered with."""
    seen: dict[str, str] = {}
    try:
        await mock.complete(request, seen.update)
    except AnalysisError as exc:
        return type(exc).__name__, seen
    return "ok", seen


async def test_calls_within_the_limit_succeed_and_carry_openai_s_headers() -> None:
    clock = FakeTime()
    mock, _ = limited(clock, mock_limit_requests_per_s=5, mock_limit_tokens_per_min=60_000)
    outcomes = []
    for i in range(20):  # exactly at the limit
        clock.now = i * 0.2
        outcomes.append(await call_with_headers(mock, chunk_request(f"{i} {TEXT}")))
    assert {kind for kind, _ in outcomes} == {"ok"}
    limits = ProviderLimits.parse(outcomes[0][1])
    assert limits is not None and limits.requests == LimitSnapshot(5, 4, 0.2)
    assert limits.tokens is not None and limits.tokens.limit == 60_000
    request = chunk_request(f"0 {TEXT}")
    charged = (len(request.system) + len(request.user)) // 4 + request.max_output_tokens
    assert limits.tokens.remaining == 60_000 - charged  # the prompt and the answer's cap, on arrival
    assert set(outcomes[0][1]) == {f"x-ratelimit-{part}-{kind}" for part in ("limit", "remaining", "reset")
                                   for kind in ("requests", "tokens")}


async def test_only_calls_over_the_limit_get_429_with_the_wait_until_they_fit() -> None:
    clock = FakeTime()
    mock, _ = limited(clock, mock_limit_requests_per_s=5)
    burst = [await call_with_headers(mock, chunk_request(f"{i} {TEXT}")) for i in range(5)]
    assert [kind for kind, _ in burst] == ["ok"] * 5  # a bucket of one second's worth

    with pytest.raises(ProviderRateLimited) as caught:
        await mock.complete(chunk_request(f"5 {TEXT}"))
    assert caught.value.retry_after_s == pytest.approx(0.2)

    kind, headers = await call_with_headers(mock, chunk_request(f"6 {TEXT}"))
    assert kind == "ProviderRateLimited"
    assert ProviderLimits.parse(headers) == ProviderLimits(LimitSnapshot(5, 0, 1.0), None)
    clock.now = 0.2
    assert (await call_with_headers(mock, chunk_request(f"7 {TEXT}")))[0] == "ok"


async def test_a_refused_call_leaves_the_random_failures_of_accepted_calls_unchanged() -> None:
    settings = {"mock_failure_rate": 0.3, "mock_failure_kinds": "500,malformed", "mock_seed": 9}
    requests = [chunk_request(f"{i} {TEXT}") for i in range(30)]
    free, _ = limited(FakeTime(), **settings)
    expected = [(await call_with_headers(free, r))[0] for r in requests]

    clock = FakeTime()
    busy, _ = limited(clock, mock_limit_requests_per_s=10, **settings)
    got = []
    for request in requests:
        while (outcome_kind := (await call_with_headers(busy, request))[0]) == "ProviderRateLimited":
            clock.now += 0.05
        got.append(outcome_kind)

    assert got == expected
    assert {"ProviderUnavailable", "MalformedReply"} <= set(got)


async def test_failed_answers_carry_the_headers_too_but_timeouts_none() -> None:
    for kind, headers_expected in (("500", True), ("malformed", True), ("429", True), ("timeout", False)):
        mock, _ = limited(FakeTime(), mock_limit_requests_per_s=5, mock_failure_rate=1,
                          mock_failure_kinds=kind)
        outcome_kind, headers = await call_with_headers(mock, chunk_request())
        assert outcome_kind != "ok"
        assert (ProviderLimits.parse(headers) is not None) is headers_expected, kind


async def test_without_a_limit_no_headers_are_sent() -> None:
    mock, _ = backend()
    assert await call_with_headers(mock, chunk_request()) == ("ok", {})
