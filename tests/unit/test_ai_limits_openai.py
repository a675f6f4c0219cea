"""The ``openai`` provider reads the provider's rate-limit headers over real HTTP, and the limiter
adapts to them: an OpenAI-compatible fake server that enforces a limit, through the official SDK."""

from __future__ import annotations

from typing import TypeVar

import pytest

from doclane.ai.exceptions import AnalysisError, ProviderRateLimited, ProviderUnavailable
from doclane.ai.limits import AiLimiter
from doclane.ai.llm import LlmAnalyzer
from doclane.ai.openai_backend import OpenAIBackend
from doclane.ai.prompts import load_prompts
from doclane.schemas.extraction import Chunk
from tests.utils.fake_openai import Fail, FakeOpenAI, ratelimit_headers

CONFIGURED_RPS = 100
E = TypeVar("E", bound=AnalysisError)


def analyzer(server: FakeOpenAI, limiter: AiLimiter) -> LlmAnalyzer:
    backend = OpenAIBackend(model="gpt-test", api_key="test", base_url=server.base_url,
                            timeout_s=10, temperature=None)
    return LlmAnalyzer(backend, load_prompts("v1"), limiter, max_input_tokens=20_000, max_output_tokens=400)


def chunk(i: int) -> Chunk:
    return Chunk(index=i, text=f"Part {i}: the supplier renews the agreement every January.", section_path=[])


async def one_failed_call(fake: FakeOpenAI, failure: Fail, expected: type[E]) -> tuple[AiLimiter, E]:
    """One chunk analysis the server answers with ``failure``: the limiter after it, and the error."""
    fake.plan(failure)
    limiter = AiLimiter(CONFIGURED_RPS, 100_000_000, 8)
    llm = analyzer(fake, limiter)
    try:
        with pytest.raises(expected) as caught:
            await llm.analyze_chunk(chunk(0))
    finally:
        await llm.close()
    return limiter, caught.value


async def test_the_pace_comes_down_to_the_server_s_limit_before_it_refuses_anything(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.set_limits(requests_per_s=10)
    limiter = AiLimiter(CONFIGURED_RPS, 100_000_000, 8)
    llm = analyzer(fake_openai, limiter)
    try:
        for i in range(30):  # one after the other: unpaced, 30 calls would take well under 1 s
            await llm.analyze_chunk(chunk(i))
    finally:
        await llm.close()

    assert [r.status for r in fake_openai.requests] == [200] * 30  # not one 429
    assert limiter.provider_requests_per_s == pytest.approx(10, rel=0.2)
    assert limiter.requests_per_s <= 10 * 1.2


async def test_a_429_at_the_limit_cuts_the_pace(fake_openai: FakeOpenAI) -> None:
    limiter, error = await one_failed_call(
        fake_openai,
        Fail(429, retry_after_s=0.05, headers=ratelimit_headers(limit=20, remaining=0, reset_s=1)),
        ProviderRateLimited,
    )

    assert error.retry_after_s == pytest.approx(0.05)  # retry-after-ms, not the whole second
    # The provider refills 20 a second and is empty: a tenth of that, cut by 30%.
    assert limiter.provider_requests_per_s == pytest.approx(20)
    assert limiter.requests_per_s == pytest.approx(20 * 0.1 * 0.7, rel=0.05)


async def test_error_answers_are_read_too_and_a_5xx_cuts_nothing(fake_openai: FakeOpenAI) -> None:
    limiter, _ = await one_failed_call(
        fake_openai, Fail(500, headers=ratelimit_headers(limit=20, remaining=5, reset_s=0.75)),
        ProviderUnavailable,
    )

    # 20 a second, a quarter left: 55% of it, and no cut for a server error.
    assert limiter.requests_per_s == pytest.approx(20 * 0.55)


async def test_a_429_with_plenty_left_keeps_the_pace(fake_openai: FakeOpenAI) -> None:
    limiter, _ = await one_failed_call(
        fake_openai,
        Fail(429, retry_after_s=0.01, headers=ratelimit_headers(limit=1000, remaining=900, reset_s=0.5)),
        ProviderRateLimited,
    )

    assert limiter.requests_per_s == pytest.approx(CONFIGURED_RPS)  # the provider allows 200 a second
