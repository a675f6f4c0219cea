"""What every adapter shares to operate groups: pause records, member reports, member stats."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from doclane.schemas.events import Event

__all__ = ["DONE_WINDOW_S", "GroupPaused", "MemberReport", "MemberStats", "PauseGate"]

#: The window of "finished over the last minute".
DONE_WINDOW_S = 60.0


class GroupPaused(Event):
    """A group was paused or resumed (on the control topic, keyed by group)."""

    group: str
    paused: bool


class MemberReport(Event):
    """What one group member holds and finished, per (un-prefixed) topic."""

    member: str
    group: str
    in_flight: dict[str, int]
    done_last_min: dict[str, int]
    paused: bool = False


class MemberStats:
    """A member's records in handlers and finish times, per topic."""

    def __init__(self) -> None:
        self.in_flight: dict[str, int] = {}
        self._done: dict[str, deque[float]] = {}

    def started(self, topic: str) -> None:
        self.in_flight[topic] = self.in_flight.get(topic, 0) + 1

    def finished(self, topic: str, *, handled: bool = True) -> None:
        """A record left its handler; ``handled`` unless it was cancelled."""
        self.in_flight[topic] = max(0, self.in_flight.get(topic, 0) - 1)
        if handled:
            self._done.setdefault(topic, deque()).append(time.monotonic())

    def done_last_min(self) -> dict[str, int]:
        horizon = time.monotonic() - DONE_WINDOW_S
        for times in self._done.values():
            while times and times[0] < horizon:
                times.popleft()
        return {topic: len(times) for topic, times in self._done.items()}


class PauseGate:
    """Open unless the group is paused; members wait on it before starting a record."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    def set(self, paused: bool) -> None:
        if paused:
            self._open.clear()
        else:
            self._open.set()

    async def wait_open(self) -> None:
        await self._open.wait()
