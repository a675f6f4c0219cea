"""Token buckets: a steady rate with bursts, per process.

The same bucket will pace AI calls (issue: AI analysis); here it limits uploads
per user. Limits are per process: with several gateways, divide the rate.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

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

    def try_take(self, tokens: float = 1) -> float:
        """Take ``tokens`` if there are enough and return 0; else how long to wait, in seconds.

        Asking for more than ``burst`` can never succeed; it waits for a full bucket.
        """
        self._refill()
        if tokens <= self._tokens:
            self._tokens -= tokens
            return 0.0
        return (min(tokens, self._burst) - self._tokens) / self._rate


class KeyedLimiter:
    """One :class:`TokenBucket` per key (e.g. per user), the least recently used dropped first."""

    def __init__(self, rate_per_s: float, burst: float, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate_per_s, burst, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._max_keys = max_keys

    def try_take(self, key: str, tokens: float = 1) -> float:
        bucket = self._buckets.pop(key, None) or TokenBucket(self._rate, self._burst, self._clock)
        self._buckets[key] = bucket
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return bucket.try_take(tokens)
