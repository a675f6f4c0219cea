"""One SQLite connection in its own thread, where a whole transaction is one round trip.

An async driver that sends each statement to the connection's thread (``BEGIN``, each
``SELECT``/``UPDATE``, ``COMMIT``) pays a thread hand-off per statement, and the event
loop waits for each one while holding the write lock; on a loaded machine those
hand-offs, not SQLite, set the pace. Here a caller hands the thread a function that runs
the whole transaction, so a write costs one hand-off however many statements it has.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

__all__ = ["ThreadConnection"]

T = TypeVar("T")


class ThreadConnection:
    """A sqlite3 connection used only from one worker thread; each :meth:`run` is one hand-off."""

    def __init__(self, path: Path, name: str) -> None:
        self._path = path
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    async def open(self, *pragmas: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)

        def connect(_: sqlite3.Connection | None) -> sqlite3.Connection:
            # Autocommit: reads see the latest commit; writes say BEGIN themselves.
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            for pragma in pragmas:
                conn.execute(pragma)
            return conn

        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, connect, None)

    async def close(self) -> None:
        if self._executor is None:
            return
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` in the connection's thread (reads, or statements that need no transaction)."""
        if self._executor is None or self._conn is None:
            raise RuntimeError("the database is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, self._conn)

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back if it raises)."""
        return await self.run(lambda conn: _in_transaction(conn, fn))


def _in_transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        # A full disk can fail the COMMIT itself, or make SQLite roll back on its own: either
        # way the connection must leave the transaction, or every later BEGIN fails.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result
