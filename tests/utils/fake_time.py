"""A clock for code that takes ``clock`` and ``sleep`` callables: time moves only when it sleeps."""

from __future__ import annotations

import asyncio

__all__ = ["FakeTime"]

#: The least time a real sleep takes. Without it a wait of 1e-17 s (a float rounding left in
#: a token bucket) would not move the fake clock, and the sleeper would ask again forever.
TICK_S = 1e-9


class FakeTime:
    """A clock that only advances when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, TICK_S)
        await asyncio.sleep(0)  # still yield, so queued tasks interleave as they would
