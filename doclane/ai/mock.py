"""A simulated AI chat service, for load and chaos tests.

:class:`MockBackend` implements :class:`~doclane.ai.backend.ChatBackend` without
a network: each call waits a simulated latency (fixed, or lognormal with a
configured mean and 99th percentile, clamped), then either fails the way a real
provider does (a timeout, an HTTP 429 with ``Retry-After``, an HTTP 500, or a
truncated JSON answer) or returns a plausible answer. The ``mock_*`` settings
choose the latency, the failure rate and the failure kinds.

With ``mock_limit_requests_per_s`` and/or ``mock_limit_tokens_per_min`` it also
behaves like a real provider's rate limit (:class:`~doclane.ai.provider_limits.ProviderBucket`):
a request that exceeds it is answered ``429`` with the exact ``Retry-After``, and
every answer, refused or not, carries OpenAI's ``x-ratelimit-*`` headers. A refused
request takes nothing from the buckets and draws no fate (its attempt number is not
used up), so the random failures stay those of the accepted calls.

Outcomes are deterministic per ``(mock_seed, request, attempt number)``: the
n-th call this process makes with a given system and user message always draws
the same latency and the same fate, whatever the interleaving of concurrent
calls, so a chaos run can be replayed.

Answers are built cheaply (the first sentences and the most frequent words of
the data, no real analysis) so the mock measures the pipeline around it, at
tens of calls per second on a couple of cores, rather than itself. Every answer,
good or malformed, goes through the same schema validation as a real one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from doclane.ai._text import STOPWORDS, split_sentences, words
from doclane.ai.backend import ChatReply, ChatRequest, HeaderSink, T
from doclane.ai.exceptions import (
    MalformedReply,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from doclane.ai.provider_limits import ProviderBucket
from doclane.infra.settings import Settings
from doclane.schemas.analysis import ChunkFindings, DocumentFindings

__all__ = ["MockBackend", "latency_sampler"]

#: A refused (429) request is answered after this share of its drawn latency.
_REFUSAL_LATENCY_SHARE = 0.1
#: The 99th percentile of the standard normal distribution.
_Z99 = 2.3263478740408408
#: Only the start of a chunk is read for the summary, and a bounded prefix for topics:
#: the mock must stay cheap whatever the chunk size.
_SUMMARY_WINDOW_CHARS = 2_000
_TOPICS_WINDOW_CHARS = 20_000
#: Longer "sentences" (tables, text without punctuation) fall back to a plain prefix.
_MAX_SUMMARY_CHARS = 600
_FALLBACK_SUMMARY_CHARS = 200
_CHUNK_TOPICS = 5
_DOCUMENT_TOPICS = 8
_REDUCED_SUMMARIES = 5
_JUSTIFICATION = "Simulated answer."


def latency_sampler(settings: Settings) -> Callable[[random.Random], float]:
    """Return a function drawing one call's latency, in seconds, from ``rng``.

    Without ``mock_latency_p99_ms`` (or with a zero mean) the latency is the
    fixed ``mock_latency_ms``. Otherwise it is lognormal with mean
    ``mock_latency_ms`` and 99th percentile ``mock_latency_p99_ms``. Either way
    it is clamped to ``[mock_latency_min_ms, mock_latency_max_ms]``.
    """
    low_ms = float(settings.mock_latency_min_ms)
    high_ms = math.inf if settings.mock_latency_max_ms is None else float(settings.mock_latency_max_ms)

    def clamp_s(ms: float) -> float:
        return min(max(ms, low_ms), high_ms) / 1000

    mean_ms = float(settings.mock_latency_ms)
    p99_ms = settings.mock_latency_p99_ms
    if p99_ms is None or mean_ms <= 0:
        fixed_s = clamp_s(mean_ms)
        return lambda _rng: fixed_s

    # For a lognormal, mean = e^(mu + sigma²/2) and p99 = e^(mu + z·sigma), so
    # ln(p99/mean) = z·sigma - sigma²/2. Of the two roots, the smaller one is the
    # distribution whose p99 lies above its mean in the usual, right-skewed way.
    log_ratio = math.log(p99_ms / mean_ms) if p99_ms > mean_ms else 0.0
    sigma = _Z99 - math.sqrt(max(_Z99 * _Z99 - 2 * log_ratio, 0.0))
    mu = math.log(mean_ms) - sigma * sigma / 2

    def draw(rng: random.Random) -> float:
        return clamp_s(rng.lognormvariate(mu, sigma))

    return draw


class MockBackend:
    """A chat service that answers after a simulated delay, or fails on purpose."""

    provider = "mock"
    model = "mock-1"

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        limits = (settings.mock_limit_requests_per_s, settings.mock_limit_tokens_per_min)
        self._limit = ProviderBucket(*limits, clock=clock) if any(limits) else None
        self._latency = latency_sampler(settings)
        self._failure_rate = settings.mock_failure_rate
        self._failure_kinds = settings.mock_failure_kind_list
        # Calls seen per request digest: the attempt number of the next identical call.
        self._attempts: dict[bytes, int] = {}
        self._refusals = 0

    async def complete(self, request: ChatRequest[T], on_headers: HeaderSink | None = None) -> ChatReply[T]:
        """Wait, then answer ``request`` or raise a simulated provider error."""
        answer = _answer_builder(request.schema)  # an unknown schema fails on every call
        prompt_tokens = (len(request.system) + len(request.user)) // 4
        answered: HeaderSink = on_headers or (lambda _headers: None)
        headers: dict[str, str] = {}
        if self._limit is not None:
            verdict = self._limit.take(prompt_tokens + request.max_output_tokens)
            headers = verdict.headers
            if not verdict.allowed:
                await self._sleep(self._latency(self._refusal_rng()) * _REFUSAL_LATENCY_SHARE)
                answered(headers)
                raise ProviderRateLimited(verdict.retry_after_s)
        rng = self._rng_for(request)
        latency_s = self._latency(rng)
        # Always draw, so a different failure rate leaves the other draws unchanged.
        failing = rng.random() < self._failure_rate
        if failing:
            kind = rng.choice(self._failure_kinds)
            if kind == "timeout":  # no answer, so no headers either
                timeout_s = self._settings.ai_timeout_s
                await self._sleep(timeout_s)
                raise ProviderTimeout(timeout_s)
            if kind == "429":
                await self._sleep(latency_s * _REFUSAL_LATENCY_SHARE)
                answered(headers)
                raise ProviderRateLimited(self._settings.mock_retry_after_s)
            if kind == "500":
                await self._sleep(latency_s)
                answered(headers)
                raise ProviderUnavailable("HTTP 500 Internal Server Error (simulated)")
        await self._sleep(latency_s)
        answered(headers)
        text = json.dumps(answer(request.data), ensure_ascii=False)
        if failing:  # "malformed": the answer stops mid-way, as when output runs out
            text = text[: rng.randrange(1, len(text))]
        value = _validate(request.schema, text)
        return ChatReply(value=value, prompt_tokens=prompt_tokens, completion_tokens=len(text) // 4)

    async def close(self) -> None:
        """Nothing to release."""

    def _refusal_rng(self) -> random.Random:
        """Latency of refusals: seeded, apart from the accepted calls' draws."""
        self._refusals += 1
        return random.Random(f"{self._settings.mock_seed}:refusal:{self._refusals}")  # noqa: S311

    def _rng_for(self, request: ChatRequest[T]) -> random.Random:
        digest = hashlib.sha256(f"{request.system}\0{request.user}".encode()).digest()
        attempt = self._attempts.get(digest, 0)
        self._attempts[digest] = attempt + 1
        # A simulation, not security: a seeded, reproducible generator is the point.
        return random.Random(f"{self._settings.mock_seed}:{digest.hex()}:{attempt}")  # noqa: S311


def _validate(schema: type[T], text: str) -> T:
    try:
        return schema.model_validate_json(text)
    except ValidationError as exc:
        raise MalformedReply(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    """A short account of the first validation error, e.g. ``invalid JSON at line 1 column 57``."""
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return "invalid answer"
    first = errors[0]
    message = str(first["msg"])
    if first["type"] == "json_invalid":
        # "Invalid JSON: EOF while parsing a string at line 1 column 57"
        position = message.rfind(" at line ")
        what = f"invalid JSON{message[position:]}" if position >= 0 else "invalid JSON"
    else:
        location = ".".join(str(part) for part in first["loc"])
        what = f"{location}: {message}" if location else message
    return what if len(what) <= 100 else what[:99] + "…"


def _answer_builder(schema: type[BaseModel]) -> Callable[[str], dict[str, Any]]:
    if schema is ChunkFindings:
        return _chunk_answer
    if schema is DocumentFindings:
        return _document_answer
    raise NotImplementedError(f"MockBackend cannot answer with {schema.__name__}")


def _chunk_answer(data: str) -> dict[str, Any]:
    return {
        "summary": _leading_sentences(data, 3),
        "topics": _frequent_words(data[:_TOPICS_WINDOW_CHARS], _CHUNK_TOPICS),
        "sentiment": "neutral",
        "sentiment_justification": _JUSTIFICATION,
        "action_items": [],
    }


def _document_answer(data: str) -> dict[str, Any]:
    items = json.loads(data)
    if not isinstance(items, list):
        raise ValueError("MockBackend: the reduce data must be a JSON array of partial findings")
    findings = [item for item in items if isinstance(item, dict)]
    summaries = [
        _leading_sentences(item["summary"], 1)
        for item in findings[:_REDUCED_SUMMARIES]
        if isinstance(item.get("summary"), str)
    ]
    topics: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for item in findings:
        item_topics = item.get("topics")
        if not isinstance(item_topics, list):
            continue
        for topic in item_topics:
            if isinstance(topic, str) and topic.strip():
                key = topic.strip().lower()
                spelling.setdefault(key, topic.strip())
                topics[key] += 1
    return {
        "summary": " ".join(s for s in summaries if s) or "The document has no findings to summarise.",
        "topics": [spelling[key] for key, _ in topics.most_common(_DOCUMENT_TOPICS)],
        "sentiment": "neutral",
        "sentiment_justification": _JUSTIFICATION,
    }


def _leading_sentences(text: str, count: int) -> str:
    """The first ``count`` sentences of ``text``, or its first 200 characters."""
    flat = " ".join(text[:_SUMMARY_WINDOW_CHARS].split())
    summary = " ".join(split_sentences(flat)[:count])
    if len(summary) > _MAX_SUMMARY_CHARS or not summary:
        summary = flat[:_FALLBACK_SUMMARY_CHARS]
    return summary


def _frequent_words(text: str, count: int) -> list[str]:
    """The ``count`` most frequent words of 5+ letters that are not stopwords, by first use."""
    counts = Counter(w for w in words(text.lower()) if len(w) >= 5 and w not in STOPWORDS)
    return [word for word, _ in counts.most_common(count)]
