"""The embedded search index: FTS5 for words, an exact in-memory scan for vectors, one SQLite file.

Tables per model (``<slug>`` = the model name made safe, see ``model_slug``):

- ``p_<slug>``: one row per passage, its fields and its float32 vector (a blob);
- ``fts_<slug>``: FTS5 over the passage text (external content, kept by triggers),
  porter-stemmed; BM25 ranks, ``snippet()`` highlights;
- ``o_<slug>``: per owner, counters that writes bump, so that the in-memory
  vectors know when to catch up (see ``_vectors.py``);
- ``d_<slug>``: each document's mean vector, for ``similar_documents``;
- ``c_<slug>``: the embedding cache (text sha256 -> vector).

Vector search is an exact cosine scan of the owner's vectors held in memory
(``VectorCache``), not sqlite-vec. Measured at 100k passages of one owner, dim 384,
on 2 busy cores (``bench/search_speed.py`` measures the chosen path):

| vector path | p50 at 100k | exact |
|---|---|---|
| sqlite-vec ``vec0`` float, partition key on owner | 61-72 ms | yes |
| ``vec0`` int8 | 47 ms | no |
| ``vec0`` sign bits, 400 candidates re-ranked by cosine | 51-69 ms | recall@10 0.99 (MiniLM, 3k) |
| numpy over vectors read from SQLite per query | 257 ms (20 ms at 10k) | yes |
| numpy over the owner's matrix kept in memory | 8 ms | yes |

vec0 is brute force too, and its cost grows with k (the candidates a hybrid
search needs): it misses the 50 ms budget at 100k. The in-memory matrix costs
1.5 KB per passage (150 MB for 100k, bounded by ``vector_cache_mb``, least recently
used owners dropped first) and a first query per owner that reads its vectors.

The owner is a term of every full-text query (an ``owner_key`` column of the FTS
table), and the vector scan only ever reads the owner's rows: another owner's
passages are never ranked, so they can neither appear nor crowd out the caller's.

Keyword search runs all the query's words as one AND first, then drops the most
common word at a time (see ``relaxations``), ranking at most ``RANK_CAP`` matches a
step. On the search set (bench/search.py, odd/even query halves) this costs the
keyword mode some MRR against one BM25 OR query (0.600/0.418 vs 0.644/0.508) and
hybrid nothing (0.893/0.766 both); at 100k passages one OR query ranked up to 64k
matches of common words and took up to 145 ms.

Blocking SQLite calls run in threads (``asyncio.to_thread``): one writer connection
and a few reader connections, each used by one thread at a time; WAL lets readers
run beside the writer.
"""

# Table names are built from model_slug() (only [a-z0-9_]); every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import html
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from doclane.infra.search._common import (
    MARK_START,
    MARK_STOP,
    RANK_CAP,
    checked_vector,
    coordinated_score,
    marked_html,
    model_slug,
    query_words,
    relaxations,
)
from doclane.infra.search._sqlite_conn import ConnectionPool, connect, schema
from doclane.infra.search._vectors import VectorCache
from doclane.infra.search.base import Vector
from doclane.schemas.search import Passage, SearchHit, SearchQuery, SimilarDocument

__all__ = ["SqliteSearchIndex"]

#: Tokens in a keyword hit's snippet (FTS5 allows at most 64).
_SNIPPET_TOKENS = 48

_HIT_COLUMNS = (
    "p.id, p.document_id, p.filename, p.content_type, p.section_path, p.page_start, p.page_end, "
    "p.chunk_index, p.passage_index, p.text"
)


def _owner_key(owner: str) -> str:
    """The owner as one full-text token (any owner name becomes letters and digits)."""
    return "o" + hashlib.sha256(owner.encode()).hexdigest()[:24]


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
    if query.entities:  # passages that mention one of the entities
        sql += (f" AND EXISTS (SELECT 1 FROM json_each({alias}entities) "
                "WHERE value IN (SELECT value FROM json_each(?)))")
        params.append(json.dumps(list(query.entities)))
    return sql, params


class SqliteSearchIndex:
    """The :class:`~doclane.infra.search.base.SearchIndex` on one SQLite file."""

    def __init__(
        self, path: Path, model: str, dim: int, *, readers: int = 2, vector_cache_mb: int = 512
    ) -> None:
        self.path = path
        self.model = model
        self.dim = dim
        self._s = model_slug(model)
        self._vectors = VectorCache(self._s, dim, vector_cache_mb * 1024 * 1024)
        self._readers_n = readers
        self._writer: ConnectionPool | None = None
        self._readers: ConnectionPool | None = None

    # --- lifecycle ---
    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        writer = await ConnectionPool.open(lambda: connect(self.path), 1)
        try:
            await writer.run(self._create)
            self._readers = await ConnectionPool.open(lambda: connect(self.path), self._readers_n)
        except BaseException:
            await writer.close()
            raise
        self._writer = writer

    def _create(self, db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode = WAL")
        # BEGIN IMMEDIATE takes the write lock first: processes opening a fresh file at once
        # create the tables one after another (busy_timeout waits) instead of failing.
        try:
            db.executescript(f"BEGIN IMMEDIATE;\n{schema(self._s)}\nCOMMIT;")
            self._add_missing_columns(db)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _add_missing_columns(self, db: sqlite3.Connection) -> None:
        """Columns added since an index file was created (CREATE TABLE IF NOT EXISTS keeps old tables)."""
        have = {str(r[1]) for r in db.execute(f"PRAGMA table_info(p_{self._s})").fetchall()}
        if "entities" in have:
            return
        try:
            db.execute(f"ALTER TABLE p_{self._s} ADD COLUMN entities TEXT NOT NULL DEFAULT '[]'")
        except Exception as exc:  # sqlean's own OperationalError: a sibling process added it first
            if "duplicate column" not in str(exc):
                raise

    async def close(self) -> None:
        for pool in (self._readers, self._writer):
            if pool is not None:
                await pool.close()
        self._readers = self._writer = None
        self._vectors.forget()

    def _pools(self) -> tuple[ConnectionPool, ConnectionPool]:
        if self._writer is None or self._readers is None:
            raise RuntimeError("the search index is not open")
        return self._writer, self._readers

    # --- writes ---
    async def upsert(self, passages: Sequence[Passage]) -> None:
        if not passages:
            return
        rows = [(p, checked_vector(p, self.model, self.dim)) for p in passages]
        await self._pools()[0].run(self._upsert, rows)

    def _upsert(self, db: sqlite3.Connection, rows: list[tuple[Passage, Vector]]) -> None:
        s = self._s
        written: Counter[str] = Counter()
        replaced: Counter[str] = Counter()
        db.execute("BEGIN IMMEDIATE")
        try:
            for p, vector in rows:
                old = db.execute(f"SELECT rowid, owner FROM p_{s} WHERE id = ?", (p.id,)).fetchone()
                if old is not None:
                    db.execute(f"DELETE FROM p_{s} WHERE rowid = ?", (old[0],))
                    replaced[old[1]] += 1
                db.execute(
                    f"INSERT INTO p_{s} (id, document_id, owner, owner_key, filename, content_type, "
                    "doc_type, chunk_index, passage_index, section_path, page_start, page_end, text, "
                    "text_sha256, vector, entities) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (p.id, p.document_id, p.owner, _owner_key(p.owner), p.filename, p.content_type,
                     p.doc_type, p.chunk_index, p.passage_index, json.dumps(p.section_path), p.page_start,
                     p.page_end, p.text, p.text_sha256, vector.tobytes(), json.dumps(p.entities)),
                )
                written[p.owner] += 1
            for document_id in {p.document_id for p, _ in rows}:
                self._refresh_document(db, document_id)
            self._bump(db, written.keys() | replaced.keys(), replaced)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _bump(self, db: sqlite3.Connection, owners: Iterable[str], deleted: Mapping[str, int]) -> None:
        """Tell the in-memory vectors (of every process) that these owners' rows changed."""
        db.executemany(
            f"INSERT INTO o_{self._s} (owner, gen, deletes) VALUES (?, 1, ?) "
            "ON CONFLICT (owner) DO UPDATE SET gen = gen + 1, deletes = deletes + excluded.deletes",
            [(owner, int(deleted.get(owner, 0) > 0)) for owner in owners],
        )

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
            owners = Counter(r[0] for r in db.execute(
                f"SELECT owner FROM p_{s} WHERE document_id = ?", (document_id,)).fetchall())
            db.execute(f"DELETE FROM p_{s} WHERE document_id = ?", (document_id,))
            db.execute(f"DELETE FROM d_{s} WHERE document_id = ?", (document_id,))
            self._bump(db, owners, owners)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return sum(owners.values())

    # --- reads ---
    async def keyword_search(
        self, query: SearchQuery, limit: int, *, highlight: bool = True
    ) -> list[SearchHit]:
        words = query_words(query.text)
        if not words or limit <= 0:
            return []
        return await self._pools()[1].run(self._keyword, query, words, limit, highlight)

    def _keyword(
        self, db: sqlite3.Connection, query: SearchQuery, words: list[str], limit: int, highlight: bool
    ) -> list[SearchHit]:
        s = self._s
        where, params = _filters(query, "p.")

        # The owner is a term of the full-text query itself: FTS5 intersects the owner's
        # list with the words' lists, so another owner's rows are never ranked (a join
        # on the owner column made ranking a common word 3.5 times slower).
        owner = f'owner_key : "{_owner_key(query.owner)}"'
        join = f" JOIN p_{s} AS p ON p.rowid = fts_{s}.rowid" if where else ""

        def ranked(subset: list[str], want: int) -> list[tuple[int, float]]:
            # Rank first, snippets later for the winners only: in one query SQLite would
            # compute snippet() for every matching row before sorting.
            words_expr = " AND ".join(f'"{w}"' for w in subset)
            # At most RANK_CAP matches, the newest, are ranked (see RANK_CAP).
            return db.execute(
                f"SELECT rowid, rank FROM (SELECT fts_{s}.rowid AS rowid, bm25(fts_{s}, 1.0, 0.0) AS rank "
                f"FROM fts_{s}{join} WHERE fts_{s} MATCH ?{where} ORDER BY fts_{s}.rowid DESC "
                f"LIMIT {RANK_CAP}) ORDER BY rank LIMIT ?",
                [f"{owner} AND text : ({words_expr})", *params, want],
            ).fetchall()

        # All the words first, as search engines do; when that finds too few, fewer words,
        # the most common dropped first (see relaxations). bm25() is lower-is-better.
        best: dict[int, float] = {r[0]: coordinated_score(len(words), -r[1]) for r in ranked(words, limit)}
        if len(best) < limit and len(words) > 1:
            matches = {w: db.execute(f"SELECT count(*) FROM fts_{s} WHERE fts_{s} MATCH ?",
                                     [f'{owner} AND text : "{w}"']).fetchone()[0] for w in words}
            for subset in relaxations(words, matches):
                for rowid, rank in ranked(subset, limit + len(best)):
                    if rowid not in best and len(best) < limit:
                        best[rowid] = coordinated_score(len(subset), -rank)
                if len(best) >= limit:
                    break
        if not best:
            return []
        if not highlight:
            rows = db.execute(
                f"SELECT {_HIT_COLUMNS}, NULL, p.rowid FROM p_{s} AS p "
                "WHERE p.rowid IN (SELECT value FROM json_each(?))",
                [json.dumps(list(best))],
            ).fetchall()
            plain = {r[11]: r for r in rows}
            return [_hit(plain[rowid], html.escape(plain[rowid][9], quote=False), score)
                    for rowid, score in best.items() if rowid in plain]
        rows = db.execute(
            f"SELECT {_HIT_COLUMNS}, snippet(fts_{s}, 0, ?, ?, '…', {_SNIPPET_TOKENS}), p.rowid "
            f"FROM fts_{s} JOIN p_{s} AS p ON p.rowid = fts_{s}.rowid "
            f"WHERE fts_{s} MATCH ? AND fts_{s}.rowid IN (SELECT value FROM json_each(?))",
            [MARK_START, MARK_STOP, "text : ({})".format(" OR ".join(f'"{w}"' for w in words)),
             json.dumps(list(best))],
        ).fetchall()
        by_rowid = {r[11]: r for r in rows}
        return [_hit(by_rowid[rowid], marked_html(by_rowid[rowid][10]), score)
                for rowid, score in best.items() if rowid in by_rowid]

    async def vector_search(self, query: SearchQuery, vector: Vector, limit: int) -> list[SearchHit]:
        if limit <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        if q.shape != (self.dim,):
            raise ValueError(f"the query vector has {q.shape[0]} dims; this index holds {self.dim}")
        return await self._pools()[1].run(self._vector, query, q, limit)

    def _vector(self, db: sqlite3.Connection, query: SearchQuery, q: Vector, limit: int) -> list[SearchHit]:
        among = None
        if query.entities:  # the owner's passages mentioning one of the entities
            where, params = _filters(SearchQuery(owner=query.owner, text="", entities=query.entities), "")
            among = np.array([r[0] for r in db.execute(
                f"SELECT rowid FROM p_{self._s} WHERE owner = ?{where}", [query.owner, *params]).fetchall()],
                dtype=np.int64)
        best = self._vectors.search(db, query.owner, q, limit, content_type=query.content_type,
                                    doc_type=query.doc_type, document_id=query.document_id, among=among)
        if not best:
            return []
        rows = {r[10]: r for r in db.execute(
            f"SELECT {_HIT_COLUMNS}, p.rowid FROM p_{self._s} AS p "
            "WHERE p.rowid IN (SELECT value FROM json_each(?))",
            (json.dumps([rowid for rowid, _ in best]),),
        ).fetchall()}
        # The text escaped, unmarked: hybrid.search marks the query's words in the hits it
        # returns (marking all the candidates here would be wasted on most of them).
        # A row deleted since the scan is left out.
        return [_hit(rows[rowid], html.escape(rows[rowid][9], quote=False), score)
                for rowid, score in best if rowid in rows]

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
