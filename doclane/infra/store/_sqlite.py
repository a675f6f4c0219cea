"""What the parts of the SQLite store share: its two connections and one-statement helpers.

:class:`~doclane.infra.store.sqlite.SqliteStore` is put together from
:class:`~doclane.infra.store.sqlite_records.SqliteRecords` (tokens, the result cache,
experiments, admin marks and interviews) and its own documents, status history and chunks;
both reach the file through :class:`SqliteConnections`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from doclane.infra._sqlite import ThreadConnection

__all__ = ["SqliteConnections", "query_rows", "row_count"]


def query_rows(db: sqlite3.Connection, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in db.execute(sql, params).fetchall()]


def row_count(db: sqlite3.Connection, sql: str, params: Sequence[object] = ()) -> int:
    return db.execute(sql, params).rowcount


class SqliteConnections:
    """One connection writes, one reads (WAL lets them run at once); each in its own thread,
    where a whole transaction is one hand-off (see :mod:`doclane.infra._sqlite`)."""

    _writer: ThreadConnection
    _reader: ThreadConnection

    async def _fetchall(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return await self._reader.run(lambda db: query_rows(db, sql, params))

    async def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        """One statement in its own transaction; the rows it changed."""
        return await self._writer.transaction(lambda db: row_count(db, sql, params))
