"""The SQLite index's tables, and its connections used from the event loop (a thread per call)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlean  # type: ignore[import-untyped]

__all__ = ["ConnectionPool", "connect", "schema"]

T = TypeVar("T")


def schema(s: str) -> str:
    """The tables of one model (``s``: its slug, [a-z0-9_]); see ``doclane.infra.search.sqlite``."""
    return f"""
CREATE TABLE IF NOT EXISTS p_{s} (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    document_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    owner_key TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    doc_type TEXT,
    chunk_index INTEGER NOT NULL,
    passage_index INTEGER NOT NULL,
    section_path TEXT NOT NULL,
    page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL,
    text TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    vector BLOB NOT NULL,
    entities TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS p_{s}_document ON p_{s} (document_id);
CREATE INDEX IF NOT EXISTS p_{s}_owner ON p_{s} (owner);
CREATE VIRTUAL TABLE IF NOT EXISTS fts_{s} USING fts5(
    text, owner_key, content='p_{s}', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS p_{s}_ai AFTER INSERT ON p_{s} BEGIN
    INSERT INTO fts_{s} (rowid, text, owner_key) VALUES (new.rowid, new.text, new.owner_key);
END;
CREATE TRIGGER IF NOT EXISTS p_{s}_ad AFTER DELETE ON p_{s} BEGIN
    INSERT INTO fts_{s} (fts_{s}, rowid, text, owner_key)
    VALUES ('delete', old.rowid, old.text, old.owner_key);
END;
CREATE TABLE IF NOT EXISTS o_{s} (
    owner TEXT PRIMARY KEY,
    gen INTEGER NOT NULL,
    deletes INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS d_{s} (
    document_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    vector BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS d_{s}_owner ON d_{s} (owner);
CREATE TABLE IF NOT EXISTS c_{s} (
    text_sha256 TEXT PRIMARY KEY,
    vector BLOB NOT NULL
) WITHOUT ROWID;
"""  # noqa: S608 - the slug is [a-z0-9_] only


def connect(path: Path) -> sqlite3.Connection:
    """A connection for one thread at a time (``check_same_thread=False``), in autocommit mode."""
    # sqlean: a drop-in sqlite3 with a recent SQLite (3.50; the system's is 3.40).
    conn: sqlite3.Connection = sqlean.connect(
        str(path), timeout=30, check_same_thread=False, isolation_level=None
    )
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class ConnectionPool:
    """A fixed set of connections; a call borrows one and runs in a worker thread.

    A connection is used by one thread at a time, so ``check_same_thread=False`` is
    safe. SQLite releases the GIL while it works, so readers on separate
    connections run in parallel.
    """

    def __init__(self, connections: list[sqlite3.Connection]) -> None:
        self._all = connections
        self._idle: asyncio.Queue[sqlite3.Connection] = asyncio.Queue()
        for conn in connections:
            self._idle.put_nowait(conn)

    @classmethod
    async def open(cls, connect: Callable[[], sqlite3.Connection], size: int) -> ConnectionPool:
        connections: list[sqlite3.Connection] = []
        try:
            for _ in range(size):
                connections.append(await asyncio.to_thread(connect))
        except BaseException:
            for conn in connections:
                conn.close()
            raise
        return cls(connections)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` in a thread, with a connection no other call is using."""
        conn = await self._idle.get()
        task = asyncio.ensure_future(asyncio.to_thread(fn, conn, *args))
        try:
            return await asyncio.shield(task)
        finally:
            # A cancelled caller must not hand back a connection its thread still uses.
            if task.done():
                self._idle.put_nowait(conn)
            else:
                task.add_done_callback(lambda t: self._returned(t, conn))

    def _returned(self, task: asyncio.Future[Any], conn: sqlite3.Connection) -> None:
        if not task.cancelled():
            task.exception()  # retrieved: nobody awaits a cancelled caller's result
        self._idle.put_nowait(conn)

    async def close(self) -> None:
        # Wait until every borrowed connection is back, then close them all.
        for _ in self._all:
            conn = await self._idle.get()
            await asyncio.to_thread(conn.close)
        self._all = []
