"""The embedded event log's storage: append-only topics and committed group offsets in SQLite.

Each topic is an append-only sequence of ``(offset, key, payload)`` records; offsets start
at 0 and are contiguous per topic. Consumer groups keep their committed offset (the next
record to read) per topic in the same database, so a restarted process resumes exactly where
its groups had committed. Each record keeps the time it was appended (milliseconds, like
Kafka's timestamps). The bus on top is :class:`doclane.infra.bus.embedded.EmbeddedBus`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from doclane.infra._sqlite import ThreadConnection
from doclane.infra.bus.base import BusRecord

__all__ = ["EmbeddedLog", "Record", "now_ms"]

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


def now_ms() -> int:
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
        self._pending.append((topic, offset, key, payload, now_ms(), done))
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
