"""Token buckets: a steady rate with bursts, per process.

They limit uploads per user (:class:`KeyedLimiter`) and pace AI calls
(:class:`doclane.ai.limits.AiLimiter`). Limits are per process: with several
gateways or analyzer workers, divide the rate among them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import LRUCache

__all__ = ["KeyedLimiter", "TokenBucket"]


class TokenBucket:
    """``rate_per_s`` tokens a second, holding at most ``burst``."""

    def __init__(self, rate_per_s: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self._rate = rate_per_s
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now

    def wait_s(self, tokens: float = 1) -> float:
        """How long until ``tokens`` could be taken (0 if now), without taking them."""
        self._refill()
        if tokens <= self._tokens:
            return 0.0
        return (min(tokens, self._burst) - self._tokens) / self._rate

    def adjust(self, tokens: float) -> None:
        """Give back (positive) or charge (negative) tokens after the fact.

        A charge may leave the bucket in debt (below zero): later takers then
        wait until the refill has paid it back, so the rate still holds.
        """
        self._refill()
        self._tokens = min(self._burst, self._tokens + tokens)

    def try_take(self, tokens: float = 1) -> float:
        """Take ``tokens`` if there are enough and return 0; else how long to wait, in seconds.

        Asking for more than ``burst`` waits for a full bucket and empties it, so one
        oversized request is paced rather than refused forever.
        """
        wait = self.wait_s(tokens)
        if wait == 0:
            self._tokens -= min(tokens, self._burst)
        return wait


class KeyedLimiter:
    """One :class:`TokenBucket` per key (e.g. per user), the least recently used dropped first."""

    def __init__(self, rate_per_s: float, burst: float, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate_per_s, burst, clock
        self._buckets: LRUCache[str, TokenBucket] = LRUCache(max_keys)

    def try_take(self, key: str, tokens: float = 1) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, self._clock)
        return bucket.try_take(tokens)
