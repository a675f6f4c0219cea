"""SQLite connections used from the event loop: each call runs in a thread, one per connection."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ConnectionPool"]

T = TypeVar("T")


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
