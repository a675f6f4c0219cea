"""The SQLite store counts a document's chunks without reading their text (big documents)."""

from __future__ import annotations

import sqlite3

from doclane.infra.store.sqlite import _COUNT_SQL, SqliteStore


async def test_counting_chunks_reads_only_the_covering_index(tmp_path):
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    await store.close()
    db = sqlite3.connect(tmp_path / "store.db")
    try:
        # The store's own query (a copy of it here would pass whatever the store ran).
        plan = " ".join(str(row[-1]) for row in db.execute(f"EXPLAIN QUERY PLAN {_COUNT_SQL}", ("d",)))
    finally:
        db.close()
    # A count that read the table's rows would read every chunk's text after each chunk result.
    assert "COVERING INDEX chunks_counted" in plan, plan
