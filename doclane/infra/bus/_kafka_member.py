"""One Kafka consumer group member: ordered per partition, concurrent across them.

The fetch loop buffers records per assigned partition (pausing a partition
whose buffer is full, so memory stays bounded and nothing is skipped: a paused
partition is simply fetched again from its position later). The dispatcher
starts a handler for at most one record per partition at a time — Kafka keeps a
key in one partition, so per-key order holds — and for at most ``concurrency``
partitions at once, choosing the next partition by weighted round robin over
the subscription's topics (priority lanes) and least-recently-served within a
topic. Because a partition's records finish in order, the offset after its last
finished record is its low-water mark; a commit loop writes these marks after
the handlers returned, coalescing many finished records into one commit.

On a rebalance the revoked partitions stop being dispatched at once, their
in-flight handlers get :data:`REVOKE_GRACE_S` to finish (then are cancelled and
stay uncommitted), and what finished is committed before the group moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError

from doclane.infra.bus._control import MemberStats, PauseGate
from doclane.infra.bus.base import Subscription
from doclane.infra.supervise import supervised
from doclane.schemas.events import Event

__all__ = ["CONSUMER_ASSIGNORS", "CONSUMER_TIMEOUTS", "REVOKE_GRACE_S", "GroupMember"]

logger = logging.getLogger(__name__)

#: Group liveness. A member that dies stops heartbeating and is expelled after
#: ``session_timeout_ms`` (6 s, the broker's default minimum); the survivors hear
#: of the rebalance on their next heartbeat (every 2 s) and rejoin, so a dead
#: member's partitions move in about 8-10 s. ``rebalance_timeout_ms`` is how long
#: the coordinator waits for members to rejoin: it covers our revoke grace.
#: ``max_poll_interval_ms`` only trips if the event loop is blocked that long,
#: since the fetch loop calls ``getmany`` continuously even when all is paused.
CONSUMER_TIMEOUTS: dict[str, int] = {
    "session_timeout_ms": 6_000,
    "heartbeat_interval_ms": 2_000,
    "rebalance_timeout_ms": 15_000,
    "max_poll_interval_ms": 30_000,
}
#: Partition *n* of every topic of a subscription goes to the same member (topics
#: doclane creates all have the same partition count), so a key that appears on
#: several topics is handled by one member; see :meth:`GroupMember._key_turn`.
CONSUMER_ASSIGNORS = (RangePartitionAssignor,)
#: How long a revoked partition's in-flight handler may take before it is cancelled.
REVOKE_GRACE_S = 5.0

_POLL_MS = 1_000  # getmany long-poll; the broker answers as soon as data arrives
_MAX_RECORDS = 500
_BUFFER_HIGH = 256  # pause a partition with this many records buffered ...
_BUFFER_LOW = 64  # ... and resume it once it is down to this many
_RETRY_S = 1.0  # backoff after a failed fetch or commit


@dataclass(eq=False)
class _Partition:
    """What this member holds of one assigned partition."""

    tp: TopicPartition
    buffer: deque[ConsumerRecord[bytes, bytes]] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None  # the record being handled, if any
    done: int | None = None  # offset after the last finished record
    committed: int | None = None
    paused: bool = False
    served: int = 0  # dispatch clock of the last record started


class GroupMember(ConsumerRebalanceListener):  # type: ignore[misc]
    """Runs one :class:`Subscription` as a member of its consumer group."""

    def __init__(
        self, consumer: AIOKafkaConsumer, sub: Subscription[Any], topics: Sequence[str],
        gate: PauseGate | None = None,
    ) -> None:
        """``topics`` are the broker names of ``sub.topics``, in priority order; no record
        starts while ``gate`` is paused."""
        self._consumer = consumer
        self._sub = sub
        self.gate = gate or PauseGate()
        #: Records in handlers and finished, per broker topic name.
        self.stats = MemberStats()
        self._topics = list(topics)
        weights = list(sub.weights) or [1] * len(self._topics)
        if len(weights) != len(self._topics) or min(weights) < 1:
            raise ValueError("one positive weight per topic")
        self._weights = dict(zip(self._topics, weights, strict=True))
        self._credits = dict(self._weights)
        self._slots = max(1, sub.concurrency)
        self._parts: dict[TopicPartition, _Partition] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._clock = itertools.count(1)
        self._wake = asyncio.Event()  # records arrived or a handler finished
        self._commit_wanted = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._loops: list[asyncio.Task[None]] = []
        #: Keys being handled, with how many handlers hold or wait for each.
        self._keys: dict[bytes, tuple[asyncio.Lock, int]] = {}

    async def start(self) -> None:
        """Join the group and start fetching, dispatching and committing."""
        self._consumer.subscribe(topics=self._topics, listener=self)
        await self._consumer.start()
        name = self._sub.group
        self._loops = [
            supervised(self._fetch(), name=f"kafka-{name}-fetch"),
            supervised(self._dispatch(), name=f"kafka-{name}-dispatch"),
            supervised(self._commit_loop(), name=f"kafka-{name}-commit"),
        ]

    async def stop(self) -> None:
        """Stop dispatching, cancel in-flight handlers, commit what finished, leave."""
        for task in self._loops:
            task.cancel()
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*self._loops, *running, return_exceptions=True)
        self._loops.clear()
        await self._commit()
        await self._consumer.stop()  # leaves the group: the others take over at once

    @property
    def group(self) -> str:
        return self._sub.group

    def wake(self) -> None:
        """Look for records to start again (after a resume)."""
        self._wake.set()

    # --- rebalance listener (called by aiokafka's coordinator task) ---

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Popped first, so the dispatcher starts nothing more on these partitions.
        parts = [part for tp in revoked if (part := self._parts.pop(tp, None)) is not None]
        busy = [p.task for p in parts if p.task is not None]
        if busy:
            _, late = await asyncio.wait(busy, timeout=REVOKE_GRACE_S)
            for task in late:
                logger.warning("group %s: revoked, cancelling %s", self._sub.group, task.get_name())
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._commit(parts)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        for tp in assigned:
            self._parts.setdefault(tp, _Partition(tp))
        logger.info("group %s: assigned %s", self._sub.group, sorted(assigned))
        self._wake.set()

    # --- the three loops ---

    async def _fetch(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(
                    timeout_ms=_POLL_MS, max_records=_MAX_RECORDS
                )
            except KafkaError as exc:
                logger.warning("group %s: fetch failed (%s); retrying", self._sub.group, exc)
                await asyncio.sleep(_RETRY_S)
                continue
            for tp, records in batches.items():
                part = self._parts.get(tp)
                if part is None:  # revoked while the batch was on its way
                    continue
                part.buffer.extend(records)
                if len(part.buffer) >= _BUFFER_HIGH and not part.paused:
                    self._consumer.pause(tp)
                    part.paused = True
            if batches:
                self._wake.set()

    async def _dispatch(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while (len(self._running) < self._slots and not self.gate.paused
                   and (part := self._pick()) is not None):
                self._start(part)

    async def _commit_loop(self) -> None:
        while True:
            await self._commit_wanted.wait()
            self._commit_wanted.clear()
            if not await self._commit():
                await asyncio.sleep(_RETRY_S)
                self._commit_wanted.set()

    # --- helpers ---

    def _pick(self) -> _Partition | None:
        """The next partition to serve: weighted round robin over topics, in priority order."""
        ready: dict[str, list[_Partition]] = {}
        for part in self._parts.values():
            if part.task is None and part.buffer:
                ready.setdefault(part.tp.topic, []).append(part)
        if not ready:
            return None
        topics = [t for t in self._topics if t in ready]
        # An earlier topic is served while it has credit; when every ready
        # topic is out of credit, all credits are refilled.
        topic = next((t for t in topics if self._credits[t] > 0), None)
        if topic is None:
            self._credits = dict(self._weights)
            topic = topics[0]
        self._credits[topic] -= 1
        return min(ready[topic], key=lambda p: p.served)

    def _start(self, part: _Partition) -> None:
        record = part.buffer.popleft()
        part.served = next(self._clock)
        if part.paused and len(part.buffer) <= _BUFFER_LOW:
            self._consumer.resume(part.tp)
            part.paused = False
        name = f"{self._sub.group}:{part.tp.topic}[{part.tp.partition}]@{record.offset}"
        task = supervised(self._handle(part, record), name=name)
        self.stats.started(part.tp.topic)
        part.task = task
        self._running.add(task)
        # A callback, not a ``finally``: it also runs for a task cancelled before it started.
        task.add_done_callback(functools.partial(self._finished, part))

    def _finished(self, part: _Partition, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self.stats.finished(part.tp.topic, handled=not task.cancelled())
        if part.task is task:
            part.task = None
        self._wake.set()

    @contextlib.asynccontextmanager
    async def _key_turn(self, key: bytes) -> AsyncIterator[None]:
        """One handler at a time per key, across the subscription's topics.

        A key stays in one partition of a topic, but a subscription over several
        topics (the aggregator reads chunk.analyzed and chunk.indexed, both keyed by
        document) gets that key's records from as many partitions, which would
        otherwise run at once. With the range assignor, partition *n* of every topic
        goes to the same member, so serialising here serialises the key group-wide.
        """
        lock, users = self._keys.get(key) or (asyncio.Lock(), 0)
        self._keys[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._keys[key]
            if users == 1:
                del self._keys[key]
            else:
                self._keys[key] = (lock, users - 1)

    async def _handle(self, part: _Partition, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event: Event = self._sub.model.model_validate_json(record.value or b"")
            async with self._key_turn(record.key or b""):
                await self._sub.handler(event)
        except Exception:
            logger.exception(
                "handler of group %s failed on %s[%d]@%d; the event counts as handled",
                self._sub.group, record.topic, record.partition, record.offset,
            )
        # Reached only when the handler returned or raised, never when cancelled.
        part.done = record.offset + 1
        self._commit_wanted.set()

    async def _commit(self, parts: list[_Partition] | None = None) -> bool:
        """Commit the low-water marks that moved (of ``parts``, or of every assigned
        partition); False if the broker refused."""
        async with self._commit_lock:
            if parts is None:
                parts = list(self._parts.values())
            offsets = {p.tp: p.done for p in parts if p.done is not None and p.done != p.committed}
            if not offsets:
                return True
            try:
                await self._consumer.commit(offsets)
            except KafkaError as exc:
                # Not lost: the records are redelivered to whoever owns the partition next.
                logger.warning("group %s: commit of %s failed: %s", self._sub.group, offsets, exc)
                return False
            for part in parts:
                if part.tp in offsets:
                    part.committed = offsets[part.tp]
            return True
