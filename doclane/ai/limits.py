"""Pacing of AI calls: requests per second, tokens per minute, calls in flight, and what the
provider says of its own limits.

One :class:`AiLimiter` per process is shared by every concurrent call (chunk
analyses and document reductions alike). Calls are admitted one at a time in
arrival order (an ``asyncio.Lock`` is FIFO), so a big request is not starved
by a stream of small ones, and a call starts only when both buckets allow it:

* the request bucket refills at the current request rate and holds a single
  request: starts are evenly spaced (no burst at start-up or after a quiet
  spell that the provider could count against us). A call that had to wait and
  was woken late may leave up to 100 ms of credit to the calls queued behind it,
  so the lateness of the event loop is caught up instead of lost (with 5 ms of
  credit a saturated limiter delivered ~98% of its rate at 20 calls/s on an idle
  machine, ~70-90% on a loaded one); a call admitted without waiting leaves
  none, so the credit never turns into a burst after a quiet spell, and starts
  never get ahead of the even schedule;
* the token bucket refills at the current token rate and holds ten seconds'
  worth. A call is charged its estimate (prompt + the answer's cap) up front
  and settled with the provider's reported usage afterwards, so the long-run
  token rate is the real one. A failed call keeps its prompt's charge (a
  provider counts what it received) but gets the answer's cap back.

**The rates adapt, never above the configured ones.** Each answer's
``x-ratelimit-*`` headers (:mod:`doclane.ai.provider_limits`) tell the provider's
refill rate, bounded from above by ``(limit - remaining) / reset``; the smallest
bound of the last answers is the provider's rate, and the limiter paces to it
when it is below the configured one. Pacing exactly at the provider's rate keeps
its bucket where it is; the bucket's headroom in the newest answer (newest by
when its call started) corrects what remains: below half full, the rate is
lowered in proportion (to a tenth at empty), so an estimate a little high, or
other clients of the same account, drain nothing for long. A ``429`` pauses every
call of the process for its ``Retry-After`` (the provider's limit is per account,
not per request); when the limit was really hit (no headers, or under 10% left)
the rate is also cut by 30% (once per round: calls started before the last cut
don't cut again) and grows back by 3% of the limit a second, so a provider that
sends no headers is found by additive increase and multiplicative decrease. A
``429`` that says the buckets still hold plenty (a random refusal) pauses but
cuts nothing, and other failures (5xx, timeouts, bad answers) change no rate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from doclane.ai.provider_limits import LimitSnapshot, ProviderLimits, TokenBucket
from doclane.infra.metrics import AI_LIMIT_WAIT_SECONDS

__all__ = ["AiLimiter", "CallTicket"]

logger = logging.getLogger(__name__)

#: Seconds of tokens-per-minute the token bucket may hold (the burst).
_TOKEN_BURST_S = 10
#: Seconds of request credit a late wake-up may leave to the calls queued behind it.
_WAKE_UP_CREDIT_S = 0.1
#: Provider snapshots whose refill bounds make the provider's rate (the smallest wins).
_BOUNDS_KEPT = 64
#: Below this share of the provider's bucket left, the rate is lowered in proportion ...
_FULL_PACE_HEADROOM = 0.5
#: ... down to this share of it when the bucket is empty.
_EMPTY_PACE = 0.1
#: A 429 with less than this share of a bucket left (or no headers) is the limit being hit.
_LIMIT_HIT_HEADROOM = 0.1
#: Multiplicative decrease on a 429 that hit the limit, and its floor.
_DECREASE = 0.7
_MIN_FACTOR = 0.05
#: Additive increase: share of the rate won back per second after a decrease.
_RECOVERY_PER_S = 0.03
#: The pace is logged when the provider's rate is learned or moves by more than this.
_LOG_CHANGE = 0.1


class CallTicket:
    """An admitted call; tell it what the call really cost and what the provider said."""

    def __init__(self, limiter: AiLimiter, admitted_at: float) -> None:
        self._limiter = limiter
        self._admitted_at = admitted_at
        self._limits: ProviderLimits | None = None
        #: Tokens the call really used (prompt + answer), from the provider's usage.
        self.used_tokens: int | None = None

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the provider's ``x-ratelimit-*`` headers of this call's answer (any status)."""
        limits = ProviderLimits.parse(headers)
        if limits is not None:
            self._limits = limits
            self._limiter._observe(limits, self._admitted_at)

    def rate_limited(self, retry_after_s: float | None) -> None:
        """The provider answered ``429``: pause the process, and slow down if the limit was hit."""
        if retry_after_s:
            self._limiter.pause(retry_after_s)
        limits = self._limits
        plenty = limits is not None and all(
            s.headroom >= _LIMIT_HIT_HEADROOM for s in (limits.requests, limits.tokens) if s is not None
        )
        if not plenty:
            self._limiter._decrease(self._admitted_at)


class _ProviderRate:
    """What the provider's headers say of one of its limits (requests or tokens)."""

    def __init__(self) -> None:
        self._bounds: deque[float] = deque(maxlen=_BOUNDS_KEPT)
        self._newest: LimitSnapshot | None = None
        self._newest_at = float("-inf")

    def observe(self, snapshot: LimitSnapshot, admitted_at: float) -> None:
        bound = snapshot.refill_bound_per_s
        if bound is not None:
            self._bounds.append(bound)
        if admitted_at >= self._newest_at:  # answers come back out of order
            self._newest, self._newest_at = snapshot, admitted_at

    @property
    def per_s(self) -> float | None:
        """The provider's refill rate (per second), ``None`` until an answer told it."""
        return min(self._bounds) if self._bounds else None

    @property
    def pace(self) -> float:
        """Share of the provider's rate to use, from the headroom its newest answer reported."""
        if self._newest is None:
            return 1.0
        headroom = self._newest.headroom
        if headroom >= _FULL_PACE_HEADROOM:
            return 1.0
        return _EMPTY_PACE + (1 - _EMPTY_PACE) * headroom / _FULL_PACE_HEADROOM


class AiLimiter:
    def __init__(
        self,
        requests_per_s: float,
        tokens_per_min: float,
        concurrency: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._max_requests_per_s = requests_per_s
        self._max_tokens_per_s = tokens_per_min / 60
        self._requests = TokenBucket(requests_per_s, 1 + requests_per_s * _WAKE_UP_CREDIT_S, clock)
        self._tokens = TokenBucket(self._max_tokens_per_s, self._max_tokens_per_s * _TOKEN_BURST_S, clock)
        self._provider_requests = _ProviderRate()
        self._provider_tokens = _ProviderRate()
        self._in_flight = asyncio.Semaphore(concurrency)
        self._admission = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        # Additive increase, multiplicative decrease: the factor was ``_factor_at`` when
        # last cut, at ``_cut_at``, and has grown back by _RECOVERY_PER_S a second since.
        self._factor_at = 1.0
        self._cut_at = float("-inf")
        self._logged_rate: float | None = None

    @property
    def requests_per_s(self) -> float:
        """Call starts a second allowed now (at most the configured rate)."""
        return self._retune()[0]

    @property
    def tokens_per_min(self) -> float:
        """Tokens a minute allowed now (at most the configured rate)."""
        return self._retune()[1] * 60

    @property
    def provider_requests_per_s(self) -> float | None:
        """The provider's request rate as its headers tell it; ``None`` until they did."""
        return self._provider_requests.per_s

    def pause(self, seconds: float) -> None:
        """No call of this process starts for ``seconds`` (the provider's ``Retry-After``)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @asynccontextmanager
    async def call(self, estimated_tokens: int, output_tokens: int = 0) -> AsyncIterator[CallTicket]:
        """Wait for a slot and for the rate limits, then run the body as one call.

        ``estimated_tokens`` includes ``output_tokens``, the answer's cap.
        """
        async with self._in_flight:
            waited = await self._admit(estimated_tokens)
            AI_LIMIT_WAIT_SECONDS.observe(waited)
            ticket = CallTicket(self, self._clock())
            try:
                yield ticket
            finally:
                spent = ticket.used_tokens
                if spent is None:  # failed: the prompt was sent, no answer came back
                    spent = estimated_tokens - output_tokens
                self._tokens.adjust(estimated_tokens - spent)

    async def _admit(self, tokens: int) -> float:
        start = self._clock()
        async with self._admission:
            waited = False
            while True:
                self._retune()
                wait = max(
                    self._paused_until - self._clock(),
                    self._requests.wait_s(1),
                    self._tokens.wait_s(tokens),
                )
                if wait <= 0:
                    self._requests.adjust(-1)
                    if not waited:  # credit is for catching up late wake-ups, never a burst
                        self._requests.level = min(self._requests.level, 0.0)
                    # The whole estimate, even above the burst (the bucket goes into
                    # debt), so settling afterwards starts from what was really charged.
                    self._tokens.adjust(-tokens)
                    return self._clock() - start
                await self._sleep(wait)
                waited = True

    # --- adaptation ---

    def _factor(self) -> float:
        return min(1.0, self._factor_at + _RECOVERY_PER_S * (self._clock() - self._cut_at))

    def _decrease(self, admitted_at: float) -> None:
        if admitted_at <= self._cut_at:  # sent before the last cut: that cut answered it already
            return
        self._factor_at = max(_MIN_FACTOR, self._factor() * _DECREASE)
        self._cut_at = self._clock()
        logger.warning("the AI provider's limit was hit (HTTP 429): pacing at %.2f requests/s",
                       self._retune()[0])

    def _observe(self, limits: ProviderLimits, admitted_at: float) -> None:
        if limits.requests is not None:
            self._provider_requests.observe(limits.requests, admitted_at)
        if limits.tokens is not None:
            self._provider_tokens.observe(limits.tokens, admitted_at)
        provider = self._provider_requests.per_s
        if provider is not None and (self._logged_rate is None
                                     or abs(provider - self._logged_rate) > _LOG_CHANGE * self._logged_rate):
            self._logged_rate = provider
            logger.info("the AI provider allows about %.2f requests/s (configured: %.2f)",
                        provider, self._max_requests_per_s)

    def _retune(self) -> tuple[float, float]:
        """Set both buckets to the rates allowed now; return them (requests/s, tokens/s)."""
        factor = self._factor()
        rates = []
        for configured, provider, bucket, burst_s, least in (
            (self._max_requests_per_s, self._provider_requests, self._requests, _WAKE_UP_CREDIT_S, 1.0),
            (self._max_tokens_per_s, self._provider_tokens, self._tokens, _TOKEN_BURST_S, 0.0),
        ):
            ceiling = min(configured, provider.per_s or configured)
            rate = ceiling * provider.pace * factor
            bucket.retune(rate, least + rate * burst_s)
            rates.append(rate)
        return rates[0], rates[1]
