"""The SQLite store counts a document's chunks without reading their text (big documents)."""

from __future__ import annotations

import sqlite3

from doclane.infra.store.sqlite import SqliteStore


async def test_counting_chunks_reads_only_the_covering_index(tmp_path):
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    await store.close()
    db = sqlite3.connect(tmp_path / "store.db")
    try:
        plan = " ".join(str(row[-1]) for row in db.execute(
            "EXPLAIN QUERY PLAN SELECT COALESCE(SUM(aggregated), 0), COALESCE(SUM(index_aggregated), 0), "
            "COUNT(*) FROM chunks WHERE document_id = ?", ("d",)))
    finally:
        db.close()
    # A count that read the table's rows would read every chunk's text after each chunk result.
    assert "COVERING INDEX chunks_counted" in plan, plan
