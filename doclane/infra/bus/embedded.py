"""The embedded event log: durable topics and consumer groups on one SQLite file.

Each topic is an append-only sequence of ``(offset, key, payload)`` records;
offsets start at 0 and are contiguous per topic. Consumer groups keep their
committed offset (the next record to read) per topic in the same database, so a
restarted process resumes exactly where its groups had committed.

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
import functools
import logging
import sqlite3
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from doclane.infra._sqlite import ThreadConnection
from doclane.infra.bus._control import GroupPaused, MemberStats, PauseGate
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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    topic TEXT NOT NULL,
    "offset" INTEGER NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    ts INTEGER,
    PRIMARY KEY (topic, "offset")
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    committed INTEGER NOT NULL,
    PRIMARY KEY (grp, topic)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    offset: int
    key: str
    payload: str
    #: Milliseconds since the epoch when appended; ``None`` in logs older than timestamps.
    ts: int | None = None

    def to_bus_record(self) -> BusRecord:
        when = None if self.ts is None else datetime.fromtimestamp(self.ts / 1000, UTC)
        return BusRecord(self.topic, 0, self.offset, when, self.key, self.payload)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _insert_events(rows: list[tuple[str, int, str, str, int]], conn: sqlite3.Connection) -> None:
    conn.executemany('INSERT INTO events (topic, "offset", key, payload, ts) VALUES (?, ?, ?, ?, ?)', rows)


class EmbeddedLog:
    """Append-only topics with committed group offsets, in one SQLite file.

    Appends are group-committed: every append made while a write is in flight joins
    the next one, so many publishers share one transaction (and one thread hand-off)
    instead of paying one each. An append returns once its record is durable.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: ThreadConnection | None = None
        self._ends: dict[str, int] = {}
        #: The offset the next append of each topic takes (ahead of ``_ends`` while a write is due).
        self._next: dict[str, int] = {}
        self._pending: list[tuple[str, int, str, str, int, asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._appended = asyncio.Condition()

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # NORMAL survives a process crash (kill -9); only an OS crash may lose
        # the last transactions, which is the usual trade for WAL speed.
        db = ThreadConnection(self._path, "event-log")
        await db.open("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")

        def prepare(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            conn.executescript(_SCHEMA)
            columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(events)")}
            if "ts" not in columns:  # a log written before records kept their time
                conn.execute("ALTER TABLE events ADD COLUMN ts INTEGER")
            return [(str(t), int(last)) for t, last in
                    conn.execute('SELECT topic, MAX("offset") FROM events GROUP BY topic')]

        self._ends = {topic: last + 1 for topic, last in await db.run(prepare)}
        self._next = dict(self._ends)
        self._db = db

    async def close(self) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher  # appends already made are written, not dropped
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def _conn(self) -> ThreadConnection:
        if self._db is None:
            raise RuntimeError("the event log is not open")
        return self._db

    def end_offset(self, topic: str) -> int:
        """The offset the next record of ``topic`` will get."""
        return self._ends.get(topic, 0)

    async def append(self, topic: str, key: str, payload: str) -> int:
        """Append durably and wake every waiting consumer; returns the offset."""
        self._conn  # noqa: B018 - fail now, not in the flusher, when the log is closed
        offset = self._next.get(topic, 0)
        self._next[topic] = offset + 1
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((topic, offset, key, payload, _now_ms(), done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="event-log-writer")
        # Shielded: a cancelled publisher does not cancel the write other appends share.
        return await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            rows = [(topic, offset, key, payload, ts) for topic, offset, key, payload, ts, _ in batch]
            try:
                await self._conn.transaction(functools.partial(_insert_events, rows))
            except BaseException as exc:
                # Offsets stay contiguous: the appends queued behind the failed ones fail too.
                failed, self._pending = batch + self._pending, []
                self._next = dict(self._ends)
                for *_, done in failed:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
                if not isinstance(exc, Exception):
                    raise
                return
            for topic, offset, *_, done in batch:
                self._ends[topic] = offset + 1
                if not done.done():
                    done.set_result(offset)
            async with self._appended:
                self._appended.notify_all()

    async def read(self, topic: str, from_offset: int, limit: int = 100) -> list[Record]:
        """Records of ``topic`` from ``from_offset`` on, oldest first (replay)."""
        rows = await self._conn.run(lambda conn: conn.execute(
            'SELECT "offset", key, payload, ts FROM events WHERE topic = ? AND "offset" >= ? '
            'ORDER BY "offset" LIMIT ?',
            (topic, from_offset, limit),
        ).fetchall())
        return [Record(topic, off, key, payload, ts) for off, key, payload, ts in rows]

    async def read_matching(
        self, topic: str, from_offset: int, *, key: str | None, since_ms: int | None,
        limit: int = 500,
    ) -> list[Record]:
        """Like :meth:`read`, only records of ``key`` (or its ``key:`` sub-keys) from ``since_ms`` on."""
        sql = 'SELECT "offset", key, payload, ts FROM events WHERE topic = ? AND "offset" >= ?'
        params: list[object] = [topic, from_offset]
        if key is not None:
            sql += " AND (key = ? OR substr(key, 1, ?) = ?)"
            params += [key, len(key) + 1, f"{key}:"]
        if since_ms is not None:
            sql += " AND (ts >= ? OR ts IS NULL)"  # a record without a time may be recent
            params.append(since_ms)
        sql += ' ORDER BY "offset" LIMIT ?'
        params.append(limit)
        rows = await self._conn.run(lambda conn: conn.execute(sql, params).fetchall())
        return [Record(topic, off, k, payload, ts) for off, k, payload, ts in rows]

    async def timestamp_at(self, topic: str, offset: int) -> int | None:
        rows = await self._conn.run(lambda conn: conn.execute(
            'SELECT ts FROM events WHERE topic = ? AND "offset" = ?', (topic, offset)).fetchall())
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Sleep until an append makes ``predicate`` true."""
        async with self._appended:
            await self._appended.wait_for(predicate)

    async def committed(self, group: str, topic: str) -> int:
        rows = await self._conn.run(lambda conn: conn.execute(
            "SELECT committed FROM group_offsets WHERE grp = ? AND topic = ?", (group, topic)
        ).fetchall())
        return int(rows[0][0]) if rows else 0

    async def commit(self, group: str, topic: str, offset: int) -> None:
        await self._conn.transaction(lambda conn: conn.execute(
            "INSERT INTO group_offsets (grp, topic, committed) VALUES (?, ?, ?) "
            "ON CONFLICT (grp, topic) DO UPDATE SET committed = excluded.committed",
            (group, topic, offset),
        ))


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
        now_ms = _now_ms()
        result = []
        for topic in topics:
            end, committed = self.log.end_offset(topic), await self.log.committed(group, topic)
            oldest = None
            if committed < end:
                ts = await self.log.timestamp_at(topic, committed)
                oldest = None if ts is None else max(0.0, (now_ms - ts) / 1000)
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
