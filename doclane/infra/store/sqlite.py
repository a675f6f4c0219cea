"""The embedded store: documents, status history, chunks and the result cache in one SQLite file.

Records are kept as JSON next to the columns that queries need. Every write is one
transaction run whole in the writer connection's thread (one hand-off, however many
statements); readers use their own connection and thread and, thanks to WAL, never
see half of a transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter
from pydantic_core import to_json

from doclane.infra._sqlite import ThreadConnection
from doclane.infra.store._sqlite import query_rows, row_count
from doclane.infra.store.base import ChunkCounts, ChunkPart, Store, projection
from doclane.infra.store.sqlite_records import SqliteRecords
from doclane.schemas.analysis import ChunkAnalysis
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.enrichment import Entity
from doclane.schemas.events import DocumentStatus, StatusChange, StatusEvent, utcnow
from doclane.schemas.extraction import Chunk

__all__ = ["SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_owner ON documents (owner, status, created_at);
CREATE TABLE IF NOT EXISTS status_events (
    document_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    owner TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (document_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS status_events_owner ON status_events (owner, cursor);
CREATE TABLE IF NOT EXISTS owner_cursors (
    owner TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks (
    document_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    data TEXT NOT NULL,
    analysis TEXT,
    analyzed_at TEXT,
    aggregated INTEGER NOT NULL DEFAULT 0,
    indexed_at TEXT,
    index_aggregated INTEGER NOT NULL DEFAULT 0,
    entities TEXT,
    PRIMARY KEY (document_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS token_versions (
    user TEXT PRIMARY KEY,
    version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dlq_redrives (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lane_moves (
    document_id TEXT PRIMARY KEY,
    priority TEXT NOT NULL,
    at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS interviews (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data TEXT NOT NULL,
    report TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS interviews_owner ON interviews (owner, created_at);
CREATE TABLE IF NOT EXISTS experiment_observations (
    experiment TEXT NOT NULL,
    document_id TEXT NOT NULL,
    unit INTEGER NOT NULL,
    version TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (experiment, document_id, unit, version)
) WITHOUT ROWID;
"""

_ENTITIES = TypeAdapter(list[Entity])
_CHUNK_FIELDS = "data, analysis, analyzed_at, aggregated, indexed_at, index_aggregated, entities"
#: The column that records the aggregator having counted each part of a chunk.
_MARK_COLUMNS: dict[ChunkPart, str] = {"analysis": "aggregated", "index": "index_aggregated"}
#: Columns of ``chunks`` newer than the first schema, with their definitions.
_CHUNK_COLUMNS_ADDED = {
    "indexed_at": "TEXT",
    "index_aggregated": "INTEGER NOT NULL DEFAULT 0",
    "entities": "TEXT",
}


def _projection_update(event: StatusEvent) -> tuple[str, list[object]]:
    """``UPDATE documents`` setting the fields a status event projects, in the stored JSON.

    The fields are set in place with ``json_set``: the document is neither parsed nor
    serialised again for each event (a finished document's JSON holds its whole analysis).
    """
    fields = projection(event)
    paths = ", ".join(f"'$.{name}', json(?)" for name in fields)
    params: list[object] = [event.status.value]
    params += [to_json(value).decode() for value in fields.values()]
    return f"UPDATE documents SET status = ?, data = json_set(data, {paths}) WHERE id = ?", params  # noqa: S608


def _tombstone(event: StatusEvent) -> StatusEvent:
    """What a deleted document's event leaves behind: its place in the cursors, no content."""
    return StatusEvent(
        document_id=event.document_id, owner=event.owner, seq=event.seq, cursor=event.cursor,
        status=event.status, stage=event.stage, timestamp=event.timestamp, tombstone=True,
    )


def _doc_head(db: sqlite3.Connection, document_id: str) -> tuple[str, DocumentStatus, int] | None:
    """The document's owner, status and ``seq``, without parsing its record."""
    rows = query_rows(db, "SELECT owner, status, json_extract(data, '$.seq') FROM documents WHERE id = ?",
                 (document_id,))
    if not rows:
        return None
    owner, status, seq = rows[0]
    return str(owner), DocumentStatus(status), int(seq or 0)


#: A document's chunk counts: answered from the ``chunks_counted`` covering index alone, never
#: from the rows with their text (which made counting after each chunk cost the document's size).
_COUNT_SQL = ("SELECT COALESCE(SUM(aggregated), 0), COALESCE(SUM(index_aggregated), 0), COUNT(*) "
              "FROM chunks WHERE document_id = ?")


def _counts(db: sqlite3.Connection, document_id: str) -> ChunkCounts:
    (row,) = query_rows(db, _COUNT_SQL, (document_id,))
    analyzed, indexed, total = (int(v) for v in row)
    return ChunkCounts(analyzed, indexed, total)


class SqliteStore(SqliteRecords, Store):
    atomic_cursors = True
    def __init__(self, path: Path) -> None:
        self._path = path
        # One connection writes, one reads (WAL lets them run at once); each in its own thread,
        # where a whole transaction is one hand-off (see doclane.infra._sqlite).
        self._writer = ThreadConnection(path, "store-writer")
        self._reader = ThreadConnection(path, "store-reader")

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        await self._writer.open("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
        await self._writer.run(self._create_schema)
        await self._reader.open()

    @staticmethod
    def _create_schema(db: sqlite3.Connection) -> None:
        db.executescript(_SCHEMA)
        # Columns added since a data directory was created (CREATE TABLE IF NOT EXISTS keeps old tables).
        have = {str(r[1]) for r in db.execute("PRAGMA table_info(chunks)")}
        for column, ddl in _CHUNK_COLUMNS_ADDED.items():
            if column not in have:
                db.execute(f"ALTER TABLE chunks ADD COLUMN {column} {ddl}")
        # What _COUNT_SQL reads (created here, after the columns it covers exist).
        db.execute("CREATE INDEX IF NOT EXISTS chunks_counted "
                   "ON chunks (document_id, aggregated, index_aggregated)")

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    # --- documents ---
    async def create_document(self, doc: DocumentRecord) -> None:
        await self._write(
            "INSERT INTO documents (id, owner, status, created_at, data) VALUES (?, ?, ?, ?, ?)",
            (doc.id, doc.owner, doc.status.value, doc.created_at.isoformat(), doc.model_dump_json()),
        )

    async def get_document(self, document_id: str) -> DocumentRecord | None:
        rows = await self._fetchall("SELECT data FROM documents WHERE id = ?", (document_id,))
        return DocumentRecord.model_validate_json(str(rows[0][0])) if rows else None

    async def list_documents(
        self, owner: str, status: DocumentStatus | None = None, limit: int = 100, offset: int = 0,
        doc_type: str | None = None,
    ) -> list[DocumentRecord]:
        sql = "SELECT data FROM documents WHERE owner = ?"
        params: list[object] = [owner]
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        if doc_type is not None:
            sql += " AND json_extract(data, '$.doc_type') = ?"
            params.append(doc_type)
        sql += " ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
        rows = await self._fetchall(sql, [*params, limit, offset])
        return [DocumentRecord.model_validate_json(str(r[0])) for r in rows]

    @staticmethod
    def _load(db: sqlite3.Connection, document_id: str) -> DocumentRecord | None:
        rows = query_rows(db, "SELECT data FROM documents WHERE id = ?", (document_id,))
        return DocumentRecord.model_validate_json(rows[0][0]) if rows else None

    @staticmethod
    def _save(db: sqlite3.Connection, doc: DocumentRecord) -> None:
        db.execute("UPDATE documents SET status = ?, data = ? WHERE id = ?",
                   (doc.status.value, doc.model_dump_json(), doc.id))

    async def update_document(self, document_id: str, **fields: object) -> None:
        def update(db: sqlite3.Connection) -> None:
            doc = self._load(db, document_id)
            if doc is None:
                return
            updated = doc.model_copy(update={**fields, "updated_at": utcnow()})
            self._save(db, DocumentRecord.model_validate(updated.model_dump()))

        await self._writer.transaction(update)

    async def delete_document(self, document_id: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            existed = row_count(db, "DELETE FROM documents WHERE id = ?", (document_id,)) > 0
            rows = query_rows(db, "SELECT data FROM status_events WHERE document_id = ?", (document_id,))
            db.executemany(
                "UPDATE status_events SET data = ? WHERE document_id = ? AND seq = ?",
                [(_tombstone(StatusEvent.model_validate_json(r[0])).model_dump_json(),
                  document_id, json.loads(r[0])["seq"]) for r in rows],
            )
            db.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
            return existed

        return await self._writer.transaction(delete)

    # --- status ---
    async def append_status(
        self, document_id: str, change: StatusChange, *, allow_after_terminal: bool = False
    ) -> StatusEvent | None:
        def append(db: sqlite3.Connection) -> StatusEvent | None:
            head = _doc_head(db, document_id)
            if head is None:
                return None
            owner, status, seq = head
            if status.terminal and not allow_after_terminal:
                return None
            (row,) = query_rows(
                db,
                "INSERT INTO owner_cursors (owner, value) VALUES (?, 1) "
                "ON CONFLICT (owner) DO UPDATE SET value = value + 1 RETURNING value",
                (owner,),
            )
            event = StatusEvent(document_id=document_id, owner=owner, seq=seq + 1,
                                cursor=int(row[0]), **dict(change))
            db.execute(
                "INSERT INTO status_events (document_id, seq, owner, cursor, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (document_id, event.seq, owner, event.cursor, event.model_dump_json()),
            )
            sql, params = _projection_update(event)
            db.execute(sql, [*params, document_id])
            return event

        return await self._writer.transaction(append)

    async def restore_status(self, event: StatusEvent) -> bool:
        def restore(db: sqlite3.Connection) -> bool:
            head = _doc_head(db, event.document_id)
            if head is None:
                return False
            inserted = row_count(
                db,
                "INSERT INTO status_events (document_id, seq, owner, cursor, data) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (event.document_id, event.seq, event.owner, event.cursor, event.model_dump_json()),
            ) > 0
            db.execute(
                "INSERT INTO owner_cursors (owner, value) VALUES (?, ?) "
                "ON CONFLICT (owner) DO UPDATE SET value = MAX(value, excluded.value)",
                (event.owner, event.cursor),
            )
            if event.seq >= head[2]:
                sql, params = _projection_update(event)
                db.execute(sql, [*params, event.document_id])
            return inserted

        return await self._writer.transaction(restore)

    async def status_history(self, document_id: str) -> list[StatusEvent]:
        if await self.get_document(document_id) is None:
            return []  # only tombstones are left of a deleted document
        rows = await self._fetchall(
            "SELECT data FROM status_events WHERE document_id = ? ORDER BY seq", (document_id,)
        )
        return [StatusEvent.model_validate_json(str(r[0])) for r in rows]

    async def status_events_since(
        self, owner: str, cursor: int, limit: int = 500
    ) -> list[StatusEvent]:
        rows = await self._fetchall(
            "SELECT data FROM status_events WHERE owner = ? AND cursor > ? ORDER BY cursor LIMIT ?",
            (owner, cursor, limit),
        )
        return [StatusEvent.model_validate_json(str(r[0])) for r in rows]

    async def latest_cursor(self, owner: str) -> int:
        rows = await self._fetchall("SELECT value FROM owner_cursors WHERE owner = ?", (owner,))
        return int(rows[0][0]) if rows else 0

    # --- chunks ---
    async def put_chunks(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        rows = [(document_id, c.index, Chunk.model_validate(c.model_dump()).model_dump_json())
                for c in chunks]

        def put(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT INTO chunks (document_id, idx, data) VALUES (?, ?, ?) "
                "ON CONFLICT (document_id, idx) DO NOTHING",
                rows,
            )

        await self._writer.transaction(put)

    def _chunk(self, document_id: str, row: tuple[object, ...]) -> ChunkRecord:
        data, analysis, analyzed_at, aggregated, indexed_at, index_aggregated, entities = row
        chunk = json.loads(str(data))
        return ChunkRecord(
            **chunk,
            document_id=document_id,
            analysis=ChunkAnalysis.model_validate_json(str(analysis)) if analysis else None,
            analyzed_at=analyzed_at,
            aggregated=bool(aggregated),
            indexed_at=indexed_at,
            index_aggregated=bool(index_aggregated),
            entities=_ENTITIES.validate_json(str(entities)) if entities else None,
        )

    async def list_chunks(self, document_id: str) -> list[ChunkRecord]:
        rows = await self._fetchall(
            f"SELECT {_CHUNK_FIELDS} FROM chunks WHERE document_id = ? ORDER BY idx",  # noqa: S608
            (document_id,),
        )
        return [self._chunk(document_id, r) for r in rows]

    async def save_chunk_analysis(
        self, document_id: str, index: int, analysis: ChunkAnalysis
    ) -> bool:
        return await self._write(
            "UPDATE chunks SET analysis = ?, analyzed_at = ? "
            "WHERE document_id = ? AND idx = ? AND analysis IS NULL",
            (analysis.model_dump_json(), utcnow().isoformat(), document_id, index),
        ) > 0

    async def save_chunk_entities(self, document_id: str, index: int, entities: Sequence[Entity]) -> None:
        await self._write(
            "UPDATE chunks SET entities = ? WHERE document_id = ? AND idx = ?",
            (_ENTITIES.dump_json(list(entities)).decode(), document_id, index),
        )

    async def mark_chunk_indexed(self, document_id: str, index: int) -> bool:
        return await self._write(
            "UPDATE chunks SET indexed_at = ? "
            "WHERE document_id = ? AND idx = ? AND indexed_at IS NULL",
            (utcnow().isoformat(), document_id, index),
        ) > 0

    async def chunk_has(self, document_id: str, index: int, part: ChunkPart) -> bool | None:
        column = "analysis" if part == "analysis" else "indexed_at"
        rows = await self._fetchall(
            f"SELECT {column} IS NOT NULL FROM chunks WHERE document_id = ? AND idx = ?",  # noqa: S608
            (document_id, index),
        )
        return bool(rows[0][0]) if rows else None

    async def count_chunks(self, document_id: str) -> ChunkCounts:
        return await self._reader.run(lambda db: _counts(db, document_id))

    async def mark_and_count_chunks(
        self, document_id: str, index: int, part: ChunkPart
    ) -> tuple[bool, ChunkCounts]:
        column = _MARK_COLUMNS[part]

        def mark_and_count(db: sqlite3.Connection) -> tuple[bool, ChunkCounts]:
            newly = row_count(
                db,
                f"UPDATE chunks SET {column} = 1 "  # noqa: S608 - column from a fixed table
                f"WHERE document_id = ? AND idx = ? AND {column} = 0",
                (document_id, index),
            ) > 0
            return newly, _counts(db, document_id)

        return await self._writer.transaction(mark_and_count)
