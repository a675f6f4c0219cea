"""The embedded search index: FTS5 for words, sqlite-vec for vectors, in one SQLite file.

Tables per model (``<slug>`` = the model name made safe, see ``model_slug``):

- ``p_<slug>``: one row per passage, its fields and its float32 vector (a blob);
- ``fts_<slug>``: FTS5 over the passage text (external content, kept by triggers),
  porter-stemmed; BM25 ranks, ``snippet()`` highlights;
- ``vec_<slug>``: a sqlite-vec ``vec0`` table of the vectors' *signs* (1 bit per
  dimension), partitioned by owner, with content type / document / doc type as
  metadata columns so filters apply during the scan;
- ``d_<slug>``: each document's mean vector, for ``similar_documents``;
- ``c_<slug>``: the embedding cache (text sha256 -> vector).

Why bits and a re-rank (measured at 100k passages of one owner, dim 384, 2 cores;
``bench/search_speed.py`` reproduces the chosen path): an exact float ``vec0`` KNN
takes 61-72 ms, int8 47 ms, and an exact numpy scan of vectors read from SQLite
257 ms (20 ms at 10k) — all over or near the 50 ms budget. A numpy scan of vectors
held in memory takes 8 ms but costs 150 MB per 100k passages and goes stale when
another process writes. Hamming distance over the 48-byte sign vectors scans 100k in
~8 ms; the best ``max(400, 20 x limit)`` candidates are then re-ranked by exact cosine
on their float vectors, so scores are exact cosines and the order is exact among
candidates (recall against an exact scan is reported by the bench).

The owner is the vec0 partition key and a ``WHERE`` term of every full-text query:
another owner's passages are never scanned, so they cannot crowd out the caller's.

Blocking SQLite calls run in threads (``asyncio.to_thread``): one writer connection
and a few reader connections, each used by one thread at a time; WAL lets readers
run beside the writer.
"""

# Table names are built from model_slug() (only [a-z0-9_]); every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sqlean  # type: ignore[import-untyped]
import sqlite_vec  # type: ignore[import-untyped]

from doclane.infra.search._common import (
    MARK_START,
    MARK_STOP,
    checked_vector,
    mark_words,
    marked_html,
    model_slug,
    query_words,
)
from doclane.infra.search._sqlite_conn import ConnectionPool
from doclane.infra.search.base import Vector
from doclane.schemas.search import Passage, SearchHit, SearchQuery, SimilarDocument

__all__ = ["SqliteSearchIndex"]

#: Candidates the bit scan hands to the exact re-rank, per result asked (at least _MIN).
_OVERSAMPLE = 20
_MIN_CANDIDATES = 400
_MAX_CANDIDATES = 4096  # vec0's k limit
#: Tokens in a keyword hit's snippet (FTS5 allows at most 64).
_SNIPPET_TOKENS = 48

_HIT_COLUMNS = (
    "p.id, p.document_id, p.filename, p.content_type, p.section_path, p.page_start, p.page_end, "
    "p.chunk_index, p.passage_index, p.text"
)


def _schema(s: str, bits: int) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS p_{s} (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    document_id TEXT NOT NULL,
    owner TEXT NOT NULL,
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
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS p_{s}_document ON p_{s} (document_id);
CREATE INDEX IF NOT EXISTS p_{s}_owner ON p_{s} (owner, document_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts_{s} USING fts5(
    text, content='p_{s}', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS p_{s}_ai AFTER INSERT ON p_{s} BEGIN
    INSERT INTO fts_{s} (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS p_{s}_ad AFTER DELETE ON p_{s} BEGIN
    INSERT INTO fts_{s} (fts_{s}, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE VIRTUAL TABLE IF NOT EXISTS vec_{s} USING vec0(
    owner TEXT PARTITION KEY,
    content_type TEXT,
    document_id TEXT,
    doc_type TEXT,
    coarse BIT[{bits}]
);
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
"""


def _connect(path: Path) -> sqlite3.Connection:
    # sqlean is a drop-in sqlite3 that may load extensions (the stdlib build here cannot).
    conn: sqlite3.Connection = sqlean.connect(
        str(path), timeout=30, check_same_thread=False, isolation_level=None
    )
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _hit(row: Sequence[Any], highlight: str, score: float) -> SearchHit:
    pid, document_id, filename, content_type, section_path, p0, p1, chunk, passage, text = row[:10]
    return SearchHit(
        passage_id=pid, document_id=document_id, filename=filename, content_type=content_type,
        section_path=json.loads(section_path), page_start=p0, page_end=p1, chunk_index=chunk,
        passage_index=passage, text=text, highlight=highlight, score=score,
    )


def _filters(query: SearchQuery, alias: str) -> tuple[str, list[object]]:
    sql, params = "", list[object]()
    for column, value in (("content_type", query.content_type), ("document_id", query.document_id),
                          ("doc_type", query.doc_type)):
        if value is not None:
            sql += f" AND {alias}{column} = ?"
            params.append(value)
    return sql, params


class SqliteSearchIndex:
    """The :class:`~doclane.infra.search.base.SearchIndex` on one SQLite file."""

    def __init__(self, path: Path, model: str, dim: int, *, readers: int = 2) -> None:
        self.path = path
        self.model = model
        self.dim = dim
        self._s = model_slug(model)
        self._bits = -(-dim // 8) * 8  # vec0 bit vectors are whole bytes
        self._readers_n = readers
        self._writer: ConnectionPool | None = None
        self._readers: ConnectionPool | None = None

    # --- lifecycle ---
    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        writer = await ConnectionPool.open(lambda: _connect(self.path), 1)
        try:
            await writer.run(self._create)
            self._readers = await ConnectionPool.open(lambda: _connect(self.path), self._readers_n)
        except BaseException:
            await writer.close()
            raise
        self._writer = writer

    def _create(self, db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode = WAL")
        # BEGIN IMMEDIATE takes the write lock first: processes opening a fresh file at once
        # create the tables one after another (busy_timeout waits) instead of failing.
        try:
            db.executescript(f"BEGIN IMMEDIATE;\n{_schema(self._s, self._bits)}\nCOMMIT;")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        for pool in (self._readers, self._writer):
            if pool is not None:
                await pool.close()
        self._readers = self._writer = None

    def _pools(self) -> tuple[ConnectionPool, ConnectionPool]:
        if self._writer is None or self._readers is None:
            raise RuntimeError("the search index is not open")
        return self._writer, self._readers

    # --- writes ---
    def _bits_of(self, vector: Vector) -> bytes:
        return np.packbits(vector > 0, bitorder="little").tobytes().ljust(self._bits // 8, b"\0")

    async def upsert(self, passages: Sequence[Passage]) -> None:
        if not passages:
            return
        rows = [(p, checked_vector(p, self.model, self.dim)) for p in passages]
        await self._pools()[0].run(self._upsert, rows)

    def _upsert(self, db: sqlite3.Connection, rows: list[tuple[Passage, Vector]]) -> None:
        s = self._s
        db.execute("BEGIN IMMEDIATE")
        try:
            for p, vector in rows:
                old = db.execute(f"SELECT rowid FROM p_{s} WHERE id = ?", (p.id,)).fetchone()
                if old is not None:
                    db.execute(f"DELETE FROM p_{s} WHERE rowid = ?", old)
                    db.execute(f"DELETE FROM vec_{s} WHERE rowid = ?", old)
                cur = db.execute(
                    f"INSERT INTO p_{s} (id, document_id, owner, filename, content_type, doc_type, "
                    "chunk_index, passage_index, section_path, page_start, page_end, text, text_sha256, "
                    "vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (p.id, p.document_id, p.owner, p.filename, p.content_type, p.doc_type,
                     p.chunk_index, p.passage_index, json.dumps(p.section_path), p.page_start,
                     p.page_end, p.text, p.text_sha256, vector.tobytes()),
                )
                db.execute(
                    f"INSERT INTO vec_{s} (rowid, owner, content_type, document_id, doc_type, coarse) "
                    "VALUES (?, ?, ?, ?, ?, vec_bit(?))",
                    (cur.lastrowid, p.owner, p.content_type, p.document_id, p.doc_type or "",
                     self._bits_of(vector)),
                )
            for document_id in {p.document_id for p, _ in rows}:
                self._refresh_document(db, document_id)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _refresh_document(self, db: sqlite3.Connection, document_id: str) -> None:
        """Recompute a document's mean vector from its passages (or drop it when none is left)."""
        s = self._s
        found = db.execute(
            f"SELECT owner, filename, content_type, vector FROM p_{s} WHERE document_id = ?",
            (document_id,),
        ).fetchall()
        if not found:
            db.execute(f"DELETE FROM d_{s} WHERE document_id = ?", (document_id,))
            return
        matrix = np.frombuffer(b"".join(r[3] for r in found), dtype=np.float32).reshape(-1, self.dim)
        mean = matrix.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        mean = mean / norm if norm > 0 else mean
        owner, filename, content_type = found[0][:3]
        db.execute(
            f"INSERT OR REPLACE INTO d_{s} (document_id, owner, filename, content_type, vector) "
            "VALUES (?, ?, ?, ?, ?)",
            (document_id, owner, filename, content_type, mean.astype(np.float32).tobytes()),
        )

    async def delete_document(self, document_id: str) -> int:
        return await self._pools()[0].run(self._delete_document, document_id)

    def _delete_document(self, db: sqlite3.Connection, document_id: str) -> int:
        s = self._s
        db.execute("BEGIN IMMEDIATE")
        try:
            rowids = db.execute(f"SELECT rowid FROM p_{s} WHERE document_id = ?", (document_id,)).fetchall()
            db.executemany(f"DELETE FROM vec_{s} WHERE rowid = ?", rowids)
            db.execute(f"DELETE FROM p_{s} WHERE document_id = ?", (document_id,))
            db.execute(f"DELETE FROM d_{s} WHERE document_id = ?", (document_id,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return len(rowids)

    # --- reads ---
    async def keyword_search(self, query: SearchQuery, limit: int) -> list[SearchHit]:
        words = query_words(query.text)
        if not words or limit <= 0:
            return []
        return await self._pools()[1].run(self._keyword, query, words, limit)

    def _keyword(
        self, db: sqlite3.Connection, query: SearchQuery, words: list[str], limit: int
    ) -> list[SearchHit]:
        s = self._s
        # Any of the words (OR): BM25 puts passages holding more of them, and rarer ones, first.
        match = " OR ".join(f'"{w}"' for w in words)
        where, params = _filters(query, "p.")
        rows = db.execute(
            f"SELECT {_HIT_COLUMNS}, snippet(fts_{s}, 0, ?, ?, '…', {_SNIPPET_TOKENS}), "
            f"bm25(fts_{s}) AS rank "
            f"FROM fts_{s} JOIN p_{s} AS p ON p.rowid = fts_{s}.rowid "
            f"WHERE fts_{s} MATCH ? AND p.owner = ?{where} ORDER BY rank LIMIT ?",
            [MARK_START, MARK_STOP, match, query.owner, *params, limit],
        ).fetchall()
        # bm25() is lower-is-better and negative; flip it so that higher is better.
        return [_hit(r, marked_html(r[10]), -float(r[11])) for r in rows]

    async def vector_search(self, query: SearchQuery, vector: Vector, limit: int) -> list[SearchHit]:
        if limit <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        if q.shape != (self.dim,):
            raise ValueError(f"the query vector has {q.shape[0]} dims; this index holds {self.dim}")
        return await self._pools()[1].run(self._vector, query, q, limit)

    def _vector(self, db: sqlite3.Connection, query: SearchQuery, q: Vector, limit: int) -> list[SearchHit]:
        s = self._s
        candidates = min(_MAX_CANDIDATES, max(_MIN_CANDIDATES, _OVERSAMPLE * limit))
        where, params = _filters(query, "")
        near = db.execute(
            f"SELECT rowid FROM vec_{s} WHERE coarse MATCH vec_bit(?) AND k = ? AND owner = ?{where}",
            [self._bits_of(q), candidates, query.owner, *params],
        ).fetchall()
        if not near:
            return []
        ids = [r[0] for r in near]
        rows = db.execute(
            f"SELECT {_HIT_COLUMNS}, p.vector FROM p_{s} AS p "
            f"WHERE p.rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        ).fetchall()
        matrix = np.frombuffer(b"".join(r[10] for r in rows), dtype=np.float32).reshape(-1, self.dim)
        scores = matrix @ q
        order = np.argsort(-scores, kind="stable")[:limit]
        words = query_words(query.text)
        return [_hit(rows[i], mark_words(rows[i][9], words), float(scores[i])) for i in order]

    async def similar_documents(self, owner: str, document_id: str, k: int) -> list[SimilarDocument]:
        return await self._pools()[1].run(self._similar, owner, document_id, k)

    def _similar(self, db: sqlite3.Connection, owner: str, document_id: str, k: int) -> list[SimilarDocument]:
        s = self._s
        # Documents are few next to passages: an exact scan of the owner's mean vectors.
        rows = db.execute(
            f"SELECT document_id, filename, content_type, vector FROM d_{s} WHERE owner = ?", (owner,)
        ).fetchall()
        target = next((r for r in rows if r[0] == document_id), None)
        others = [r for r in rows if r[0] != document_id]
        if target is None or not others or k <= 0:
            return []
        q = np.frombuffer(target[3], dtype=np.float32)
        matrix = np.frombuffer(b"".join(r[3] for r in others), dtype=np.float32).reshape(-1, self.dim)
        scores = matrix @ q
        order = np.argsort(-scores, kind="stable")[:k]
        return [SimilarDocument(document_id=others[i][0], filename=others[i][1],
                                content_type=others[i][2], score=float(scores[i])) for i in order]

    async def count(self, owner: str | None = None, document_id: str | None = None) -> int:
        sql, params = f"SELECT count(*) FROM p_{self._s} WHERE 1", []
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        if document_id is not None:
            sql += " AND document_id = ?"
            params.append(document_id)
        rows = await self._pools()[1].run(lambda db: db.execute(sql, params).fetchall())
        return int(rows[0][0])

    # --- embedding cache ---
    async def cached_vectors(self, text_sha256: Sequence[str]) -> dict[str, Vector]:
        keys = list(dict.fromkeys(text_sha256))
        if not keys:
            return {}

        def read(db: sqlite3.Connection) -> list[tuple[str, bytes]]:
            return db.execute(
                f"SELECT text_sha256, vector FROM c_{self._s} "
                "WHERE text_sha256 IN (SELECT value FROM json_each(?))",
                (json.dumps(keys),),
            ).fetchall()

        rows = await self._pools()[1].run(read)
        return {key: np.frombuffer(blob, dtype=np.float32).copy() for key, blob in rows}

    async def cache_vectors(self, vectors: Mapping[str, Vector]) -> None:
        if not vectors:
            return
        rows = [(key, np.asarray(v, dtype=np.float32).reshape(-1).tobytes()) for key, v in vectors.items()]

        def write(db: sqlite3.Connection) -> None:
            # INSERT OR IGNORE keeps the first vector stored for a hash.
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(f"INSERT OR IGNORE INTO c_{self._s} (text_sha256, vector) VALUES (?, ?)", rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        await self._pools()[0].run(write)
