"""The embedded event bus: durable topics and consumer groups on one SQLite file.

The log underneath (:mod:`doclane.infra.bus._embedded_log`) keeps each topic as an
append-only sequence of ``(offset, key, payload)`` records with contiguous offsets, and
each consumer group's committed offset per topic, so a restarted process resumes exactly
where its groups had committed.

A group's records are spread over ``concurrency`` lanes by a stable hash of the
key, like Kafka partitions: one key always lands in the same lane, so per-key
order holds while different keys run in parallel. The committed offset is the
low-water mark of finished records, so nothing after an unfinished record is
skipped on restart (records finished after it are redelivered; handlers are
idempotent). Consumers sleep on an ``asyncio.Condition`` until an append wakes
them: there is no polling.

Each record keeps the time it was appended (milliseconds, like Kafka's
timestamps) for audit trails and queue ages. Pauses are records on the control
topic of the same log, read back at start, so a paused group stays paused
across a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections import deque
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path

from doclane.infra.bus._control import GroupPaused, MemberStats, PauseGate
from doclane.infra.bus._embedded_log import EmbeddedLog, Record, now_ms
from doclane.infra.bus.base import (
    CONTROL_TOPIC,
    BusRecord,
    E,
    EventBus,
    GroupBacklog,
    Subscription,
    TopicBacklog,
)
from doclane.infra.disk import is_disk_full
from doclane.infra.supervise import supervised
from doclane.schemas.events import Event

__all__ = ["EmbeddedBus", "EmbeddedLog", "Record"]

logger = logging.getLogger(__name__)

class _GroupMember:
    """Runs one subscription: dispatch by key into lanes, commit low-water marks."""

    _READ_BATCH = 32
    _LANE_CAPACITY = 4

    def __init__(self, log: EmbeddedLog, sub: Subscription[E], gate: PauseGate) -> None:
        self._log = log
        self._sub = sub
        self.gate = gate
        self.stats = MemberStats()
        self._topics = list(sub.topics)
        weights = list(sub.weights) or [1] * len(self._topics)
        if len(weights) != len(self._topics):
            raise ValueError("one weight per topic")
        self._weights = dict(zip(self._topics, weights, strict=True))
        self._credits = dict(self._weights)
        self._positions: dict[str, int] = {}  # next offset to read into the buffer
        self._buffers: dict[str, deque[Record]] = {t: deque() for t in self._topics}
        self._inflight: dict[str, set[int]] = {t: set() for t in self._topics}
        #: The newest low-water mark per topic. The log holds it too unless the topic is in
        #: ``_committing`` (a lane is writing it) or a write failed (which ends the member).
        self._committed: dict[str, int] = {}
        self._committing: set[str] = set()
        self._lanes: list[asyncio.Queue[Record]] = [
            asyncio.Queue(self._LANE_CAPACITY) for _ in range(max(1, sub.concurrency))
        ]

    def _ready(self) -> list[str]:
        return [
            t for t in self._topics
            if self._buffers[t] or self._positions[t] < self._log.end_offset(t)
        ]

    def _pick(self, ready: list[str]) -> str:
        # Weighted round robin in priority order: an earlier topic is served
        # while it has credit; when every ready topic is out of credit, refill.
        for topic in ready:
            if self._credits[topic] > 0:
                self._credits[topic] -= 1
                return topic
        self._credits = dict(self._weights)
        self._credits[ready[0]] -= 1
        return ready[0]

    async def run(self) -> None:
        for topic in self._topics:
            pos = await self._log.committed(self._sub.group, topic)
            self._positions[topic] = self._committed[topic] = pos
        async with asyncio.TaskGroup() as tg:
            for i, lane in enumerate(self._lanes):
                tg.create_task(self._work(lane), name=f"{self._sub.group}-lane-{i}")
            tg.create_task(self._dispatch(), name=f"{self._sub.group}-dispatch")

    @property
    def group(self) -> str:
        return self._sub.group

    async def _dispatch(self) -> None:
        while True:
            await self.gate.wait_open()
            ready = self._ready()
            if not ready:
                await self._log.wait_until(lambda: bool(self._ready()))
                continue
            # One record per pick, so the weights hold per event; reads are batched.
            topic = self._pick(ready)
            buffer = self._buffers[topic]
            if not buffer:
                records = await self._log.read(topic, self._positions[topic], self._READ_BATCH)
                buffer.extend(records)
                self._positions[topic] = records[-1].offset + 1
            record = buffer.popleft()
            self._inflight[topic].add(record.offset)
            lane = self._lanes[zlib.crc32(record.key.encode()) % len(self._lanes)]
            await lane.put(record)

    async def _work(self, lane: asyncio.Queue[Record]) -> None:
        while True:
            record = await lane.get()
            # A record queued for this lane before a pause waits too: only handlers finish.
            await self.gate.wait_open()
            self.stats.started(record.topic)
            try:
                event = self._sub.model.model_validate_json(record.payload)
                await self._sub.handler(event)
            except asyncio.CancelledError:
                self.stats.finished(record.topic, handled=False)
                raise
            except Exception:
                logger.exception(
                    "handler of group %s failed on %s@%d; the event counts as handled",
                    self._sub.group, record.topic, record.offset,
                )
            self.stats.finished(record.topic)
            await self._done(record)

    async def _done(self, record: Record) -> None:
        inflight = self._inflight[record.topic]
        inflight.discard(record.offset)
        buffered = self._buffers[record.topic]
        low_water = min(
            min(inflight, default=self._positions[record.topic]),
            buffered[0].offset if buffered else self._positions[record.topic],
        )
        topic = record.topic
        written = self._committed[topic]  # in the log, unless a lane is writing it (see below)
        if low_water <= written:
            return
        self._committed[topic] = low_water
        if topic in self._committing:
            return  # the lane writing the offset now writes this one next
        # One offset write at a time per topic, always the newest: records finished
        # meanwhile ride along instead of each paying a write (a crash in between
        # redelivers them, and handlers are idempotent).
        self._committing.add(topic)
        try:
            waits = 0
            while (target := self._committed[topic]) > written:
                try:
                    await self._log.commit(self._sub.group, topic, target)
                except Exception as exc:
                    if not is_disk_full(exc):
                        raise
                    # The group must outlive a full disk: the offset is written once space returns.
                    waits += 1
                    logger.warning("group %s cannot commit %s@%d: the data directory is full; "
                                   "trying again", self._sub.group, topic, target)
                    await asyncio.sleep(min(5.0, 0.1 * 2 ** min(waits, 6)))
                    continue
                written = target
        finally:
            self._committing.discard(topic)


class EmbeddedBus(EventBus):
    """The :class:`EventBus` on an :class:`EmbeddedLog`, all in this process."""

    def __init__(self, path: Path) -> None:
        self.log = EmbeddedLog(path)
        self._subs: list[Subscription[Event]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._members: list[_GroupMember] = []
        self._gates: dict[str, PauseGate] = {}

    def subscribe(self, subscription: Subscription[E]) -> None:
        self._subs.append(subscription)  # type: ignore[arg-type]

    async def start(self) -> None:
        await self.log.open()
        paused = await self.paused_groups()
        for sub in self._subs:
            gate = self._gates.setdefault(sub.group, PauseGate())
            gate.set(sub.group in paused)
            member = _GroupMember(self.log, sub, gate)
            self._members.append(member)
            self._tasks.append(supervised(member.run(), name=f"group-{sub.group}"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._members.clear()
        await self.log.close()

    async def publish(self, topic: str, key: str, event: Event) -> None:
        await self.log.append(topic, key, event.model_dump_json())

    async def tail(self, topic: str, model: type[E]) -> AsyncIterator[E]:
        position = self.log.end_offset(topic)
        while True:
            after = position

            def arrived(after: int = after) -> bool:
                return self.log.end_offset(topic) > after

            await self.log.wait_until(arrived)
            for record in await self.log.read(topic, position, 500):
                position = record.offset + 1
                yield model.model_validate_json(record.payload)

    async def replay(self, topic: str, model: type[E]) -> AsyncIterator[E]:
        async for record in self.records(topic):
            yield model.model_validate_json(record.value)

    # --- operating the bus ---

    async def records(
        self, topic: str, *, key: str | None = None, since: datetime | None = None
    ) -> AsyncIterator[BusRecord]:
        end, position = self.log.end_offset(topic), 0
        since_ms = None if since is None else int(since.timestamp() * 1000)
        while position < end:
            records = await self.log.read_matching(topic, position, key=key, since_ms=since_ms)
            if not records:
                return
            for record in records:
                if record.offset >= end:
                    return
                position = record.offset + 1
                yield record.to_bus_record()

    async def backlog(self, group: str, topics: Sequence[str]) -> GroupBacklog:
        members = [m for m in self._members if m.group == group]
        done: dict[str, int] = {}
        for member in members:
            for topic, n in member.stats.done_last_min().items():
                done[topic] = done.get(topic, 0) + n
        now = now_ms()
        result = []
        for topic in topics:
            end, committed = self.log.end_offset(topic), await self.log.committed(group, topic)
            oldest = None
            if committed < end:
                ts = await self.log.timestamp_at(topic, committed)
                oldest = None if ts is None else max(0.0, (now - ts) / 1000)
            result.append(TopicBacklog(
                topic=topic, end=end, committed=committed,
                in_flight=sum(m.stats.in_flight.get(topic, 0) for m in members),
                oldest_waiting_s=oldest, done_last_min=done.get(topic, 0),
            ))
        return GroupBacklog(result, len(members), sum(m.gate.paused for m in members))

    async def set_paused(self, group: str, paused: bool) -> None:
        await self.publish(CONTROL_TOPIC, group, GroupPaused(group=group, paused=paused))
        self._gates.setdefault(group, PauseGate()).set(paused)

    async def paused_groups(self) -> set[str]:
        state: dict[str, bool] = {}
        async for event in self.replay(CONTROL_TOPIC, GroupPaused):
            state[event.group] = event.paused
        return {group for group, paused in state.items() if paused}
