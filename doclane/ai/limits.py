"""Pacing of AI calls: requests per second, tokens per minute, calls in flight, ``Retry-After``.

One :class:`AiLimiter` per process is shared by every concurrent call (chunk
analyses and document reductions alike). Calls are admitted one at a time in
arrival order (an ``asyncio.Lock`` is FIFO), so a big request is not starved
by a stream of small ones, and a call starts only when both buckets allow it:

* the request bucket refills ``requests_per_s`` a second and holds a single
  request plus 5 ms of credit: starts are evenly spaced, so no window of T
  seconds sees more than ``requests_per_s * (T + 0.005) + 1`` of them (no burst
  at start-up or after a quiet spell that the provider could count against
  us). The credit absorbs the event loop's late wake-ups (up to ~1 ms each);
  without it every late wake-up is lost for good and a saturated limiter
  delivers only ~98% of its rate at 20 calls/s;
* the token bucket refills ``tokens_per_min / 60`` a second and holds ten
  seconds' worth. A call is charged its estimate (prompt + the answer's cap) up
  front and settled with the provider's reported usage afterwards, so the
  long-run token rate is the real one. A failed call keeps its prompt's charge
  (a provider counts what it received) but gets the answer's cap back.

A ``429`` with ``Retry-After`` pauses every call of the process, not only the
one that was refused: the provider's limit is per account, not per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from doclane.infra.metrics import AI_LIMIT_WAIT_SECONDS
from doclane.infra.ratelimit import TokenBucket

__all__ = ["AiLimiter", "CallTicket"]

#: Seconds of tokens-per-minute the token bucket may hold (the burst).
_TOKEN_BURST_S = 10
#: Seconds of request credit the request bucket may hold beyond one request.
_WAKE_UP_CREDIT_S = 0.005


@dataclass
class CallTicket:
    """An admitted call; tell it what the call really cost."""

    used_tokens: int | None = None


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
        self._requests = TokenBucket(requests_per_s, 1 + requests_per_s * _WAKE_UP_CREDIT_S, clock)
        token_rate = tokens_per_min / 60
        self._tokens = TokenBucket(token_rate, token_rate * _TOKEN_BURST_S, clock)
        self._in_flight = asyncio.Semaphore(concurrency)
        self._admission = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0

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
            ticket = CallTicket()
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
            while True:
                wait = max(
                    self._paused_until - self._clock(),
                    self._requests.wait_s(1),
                    self._tokens.wait_s(tokens),
                )
                if wait <= 0:
                    self._requests.try_take(1)
                    # The whole estimate, even above the burst (the bucket goes into
                    # debt), so settling afterwards starts from what was really charged.
                    self._tokens.adjust(-tokens)
                    return self._clock() - start
                await self._sleep(wait)
