"""The distributed search index: PostgreSQL with pgvector (HNSW) and full-text search.

Tables per model (``<slug>`` = the model name made safe, see ``model_slug``):

- ``p_<slug>``: one row per passage with ``embedding vector(dim)`` (HNSW index,
  ``vector_cosine_ops``) and ``tsv``, a generated ``tsvector`` column (GIN index) for
  ``to_tsquery('english', ...)`` / ``ts_rank_cd`` / ``ts_headline``;
- ``d_<slug>``: each document's mean vector, for ``similar_documents``;
- ``c_<slug>``: the embedding cache (text sha256 -> vector).

Owner filtering happens inside the query. An HNSW scan with a ``WHERE`` would
otherwise stop after ``ef_search`` neighbours, most of them another owner's, and
return fewer than asked; pgvector 0.8's ``hnsw.iterative_scan = strict_order`` keeps
scanning until enough of the owner's rows are found (up to ``hnsw.max_scan_tuples``).
If it still returns fewer than asked, or the query names one document, the search
runs again as an exact owner-first scan (the btree on owner, then a sort), so a
small owner among many never gets a short or wrong answer.

Keyword search runs all the query's words as one AND first, then drops the most
common word at a time (by the planner's own estimate, no counting), and ranks at
most ``RANK_CAP`` matches per step: ``ts_rank_cd`` reads each match's tsvector, so
ranking a common word's 50k matches took 400 ms. Queries of stopwords only find
nothing (the ``english`` configuration drops them), unlike the SQLite index.

Opening is safe when many processes start at once on a fresh database: creation
runs in one transaction under an advisory lock, and a lost race that still shows up
as "already exists" (another client creating the extension without our lock) is
retried. Unreachable servers are retried with backoff until ``connect_deadline_s``
(see ``doclane.infra.connect``).
"""

# Table names are built from model_slug() (only [a-z0-9_]); every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector_async
from psycopg import errors as pg_errors
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from doclane.infra.connect import DEFAULT_CONNECT_DEADLINE_S, redact_url, retry_connect
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
from doclane.infra.search.base import Vector
from doclane.schemas.search import Passage, SearchHit, SearchQuery, SimilarDocument

__all__ = ["PostgresSearchIndex"]

#: A server that does not answer a connection within this is retried.
_CONNECT_TIMEOUT_S = 10.0
#: Any constant will do; it only has to be the same in every doclane process.
_SCHEMA_LOCK = 0x646F636C616E65  # "doclane"
#: HNSW candidate list: pgvector's default of 40 found 94% of the exact top 10 at 100k
#: (bench/search_speed.py); a longer list costs little next to the 50 ms budget.
_MIN_EF_SEARCH = 128
#: Rows an iterative HNSW scan may visit before it gives up (pgvector's default is 20 000).
_MAX_SCAN_TUPLES = 200_000
#: ts_headline: about as long as an FTS5 snippet of the SQLite index.
_HEADLINE = f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords=48, MinWords=24, ShortWord=2"
# ts_headline would drop "<word>" as an HTML tag: brackets are swapped for private-use
# characters on the way in and restored before the text is escaped.
_BRACKETS = "\ue002\ue003"
_UNBRACKET = str.maketrans({"\ue002": "<", "\ue003": ">"})
_HIT_COLUMNS = (
    "id, document_id, filename, content_type, section_path, page_start, page_end, "
    "chunk_index, passage_index, text"
)
# The server's own errors that mean "try again": a sibling won a creation race, the
# server is starting or shutting down.
_RACES = (pg_errors.UniqueViolation, pg_errors.DuplicateObject, pg_errors.DuplicateTable,
          pg_errors.DeadlockDetected)


def _schema(s: str, dim: int) -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS vector",
        f"""CREATE TABLE IF NOT EXISTS p_{s} (
            id text PRIMARY KEY,
            document_id text NOT NULL,
            owner text NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL,
            doc_type text,
            chunk_index integer NOT NULL,
            passage_index integer NOT NULL,
            section_path text[] NOT NULL,
            page_start integer NOT NULL,
            page_end integer NOT NULL,
            -- Text and tsvector stay in the row (compressed), the vector goes to TOAST: full-text
            -- ranking reads every match's tsvector, and a TOAST fetch each made it 4x slower.
            -- (The HNSW index keeps its own copy of the vectors.) STORAGE here needs PG >= 16.
            text text STORAGE MAIN NOT NULL,
            text_sha256 text NOT NULL,
            embedding vector({dim}) STORAGE EXTERNAL NOT NULL,
            -- '<' and '>' out: the parser would read "<word>" as an HTML tag and skip the word.
            tsv tsvector STORAGE MAIN
                GENERATED ALWAYS AS (to_tsvector('english', translate(text, '<>', '  '))) STORED
        )""",
        f"CREATE INDEX IF NOT EXISTS p_{s}_owner ON p_{s} (owner, document_id)",
        f"CREATE INDEX IF NOT EXISTS p_{s}_document ON p_{s} (document_id)",
        f"CREATE INDEX IF NOT EXISTS p_{s}_tsv ON p_{s} USING gin (tsv)",
        f"CREATE INDEX IF NOT EXISTS p_{s}_hnsw ON p_{s} USING hnsw (embedding vector_cosine_ops)",
        # Entities each passage mentions (entity_key); added after the table, so older ones get it.
        f"ALTER TABLE p_{s} ADD COLUMN IF NOT EXISTS entities text[] NOT NULL DEFAULT '{{}}'",
        f"CREATE INDEX IF NOT EXISTS p_{s}_entities ON p_{s} USING gin (entities)",
        f"""CREATE TABLE IF NOT EXISTS d_{s} (
            document_id text PRIMARY KEY,
            owner text NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL,
            embedding vector({dim}) NOT NULL
        )""",
        f"CREATE INDEX IF NOT EXISTS d_{s}_owner ON d_{s} (owner)",
        f"""CREATE TABLE IF NOT EXISTS c_{s} (
            text_sha256 text PRIMARY KEY,
            embedding vector({dim}) NOT NULL
        )""",
    ]


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, (*_RACES, PoolTimeout)):
        return True
    if isinstance(exc, psycopg.OperationalError):
        # Wrong password (28xxx) or missing database (3D000) will not fix themselves.
        state = exc.sqlstate or ""
        return not (state.startswith("28") or state == "3D000")
    return False


def _hit(row: Sequence[Any], highlight: str, score: float) -> SearchHit:
    pid, document_id, filename, content_type, section_path, p0, p1, chunk, passage, text = row[:10]
    return SearchHit(
        passage_id=pid, document_id=document_id, filename=filename, content_type=content_type,
        section_path=list(section_path), page_start=p0, page_end=p1, chunk_index=chunk,
        passage_index=passage, text=text, highlight=highlight, score=score,
    )


def _filters(query: SearchQuery) -> tuple[str, dict[str, object]]:
    sql, params = "", dict[str, object]()
    for column, value in (("content_type", query.content_type), ("document_id", query.document_id),
                          ("doc_type", query.doc_type)):
        if value is not None:
            sql += f" AND {column} = %({column})s"
            params[column] = value
    if query.entities:  # passages that mention one of the entities (GIN index)
        sql += " AND entities && %(entities)s::text[]"
        params["entities"] = list(query.entities)
    return sql, params


class PostgresSearchIndex:
    """The :class:`~doclane.infra.search.base.SearchIndex` on PostgreSQL with pgvector."""

    def __init__(
        self, url: str, model: str, dim: int, *,
        connect_deadline_s: float = DEFAULT_CONNECT_DEADLINE_S, pool_size: int = 8,
    ) -> None:
        self.model = model
        self.dim = dim
        self._url = url
        self._s = model_slug(model)
        self._deadline_s = connect_deadline_s
        self._pool_size = pool_size
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]] | None = None

    # --- lifecycle ---
    async def open(self) -> None:
        self._pool = await retry_connect(
            self._open_once, what=f"PostgreSQL at {redact_url(self._url)}",
            deadline_s=self._deadline_s, transient=_transient,
            # Connecting has its own timeout; creating the schema may wait for a sibling's
            # advisory lock, so an attempt may use the whole deadline.
            attempt_timeout_s=self._deadline_s,
        )

    async def _open_once(self, budget_s: float) -> AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]]:
        timeout = max(1, int(min(budget_s, _CONNECT_TIMEOUT_S)))
        # The schema first, on a plain connection: the pool's connections register the
        # vector type, which needs the extension to exist already.
        async with await psycopg.AsyncConnection.connect(
            self._url, connect_timeout=timeout, autocommit=True
        ) as conn, conn.transaction():
            # One creator at a time: IF NOT EXISTS alone still races on the catalogs.
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _schema(self._s, self.dim):
                await conn.execute(statement)

        async def configure(conn: psycopg.AsyncConnection[TupleRow]) -> None:
            await register_vector_async(conn)
            # Filtered HNSW scans go on until enough of the owner's rows are found
            # (per session: a vector search is then one statement, not four).
            await conn.execute(
                "SELECT set_config('hnsw.iterative_scan', 'strict_order', false), "
                "set_config('hnsw.ef_search', %s, false), set_config('hnsw.max_scan_tuples', %s, false)",
                (str(_MIN_EF_SEARCH), str(_MAX_SCAN_TUPLES)),
            )

        pool: AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]] = AsyncConnectionPool(
            self._url, min_size=1, max_size=self._pool_size, open=False, configure=configure,
            kwargs={"autocommit": True, "connect_timeout": timeout},
        )
        try:
            await pool.open(wait=True, timeout=budget_s)
        except BaseException:
            await pool.close()
            raise
        return pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _conn(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[TupleRow]]:
        if self._pool is None:
            raise RuntimeError("the search index is not open")
        return self._pool.connection()

    async def _fetch(self, sql: str, params: Mapping[str, object] | Sequence[object]) -> list[TupleRow]:
        async with self._conn() as conn:
            cur = await conn.execute(sql, params)
            rows: list[TupleRow] = await cur.fetchall()
            return rows

    # --- writes ---
    async def upsert(self, passages: Sequence[Passage]) -> None:
        if not passages:
            return
        s = self._s
        rows = [(p.id, p.document_id, p.owner, p.filename, p.content_type, p.doc_type, p.chunk_index,
                 p.passage_index, list(p.section_path), p.page_start, p.page_end, p.text,
                 p.text_sha256, checked_vector(p, self.model, self.dim), list(p.entities)) for p in passages]
        documents = sorted({p.document_id for p in passages})
        async with self._conn() as conn, conn.transaction(), conn.cursor() as cur:
            await cur.executemany(
                f"INSERT INTO p_{s} (id, document_id, owner, filename, content_type, doc_type, "
                "chunk_index, passage_index, section_path, page_start, page_end, text, text_sha256, "
                "embedding, entities) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET document_id = excluded.document_id, "
                "owner = excluded.owner, filename = excluded.filename, "
                "content_type = excluded.content_type, doc_type = excluded.doc_type, "
                "chunk_index = excluded.chunk_index, passage_index = excluded.passage_index, "
                "section_path = excluded.section_path, page_start = excluded.page_start, "
                "page_end = excluded.page_end, text = excluded.text, "
                "text_sha256 = excluded.text_sha256, embedding = excluded.embedding, "
                "entities = excluded.entities",
                rows,
            )
            # The documents' mean vectors, recomputed from all their passages.
            await cur.execute(
                f"INSERT INTO d_{s} (document_id, owner, filename, content_type, embedding) "
                "SELECT document_id, min(owner), min(filename), min(content_type), "
                f"l2_normalize(avg(embedding)) FROM p_{s} WHERE document_id = ANY(%s) "
                "GROUP BY document_id ON CONFLICT (document_id) DO UPDATE SET "
                "owner = excluded.owner, filename = excluded.filename, "
                "content_type = excluded.content_type, embedding = excluded.embedding",
                (documents,),
            )

    async def delete_document(self, document_id: str) -> int:
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(f"DELETE FROM p_{self._s} WHERE document_id = %s", (document_id,))
            await conn.execute(f"DELETE FROM d_{self._s} WHERE document_id = %s", (document_id,))
            return int(cur.rowcount)

    # --- reads ---
    async def keyword_search(
        self, query: SearchQuery, limit: int, *, highlight: bool = True
    ) -> list[SearchHit]:
        words = query_words(query.text)
        if not words or limit <= 0:
            return []
        s = self._s
        where, params = _filters(query)
        best: dict[str, float] = {}
        async with self._conn() as conn:

            async def ranked(subset: list[str], want: int) -> list[TupleRow]:
                # At most RANK_CAP matches are ranked: ts_rank_cd reads each one's tsvector
                # (ranking all 50k passages holding a common word took 400 ms).
                cur = await conn.execute(
                    f"SELECT id, ts_rank_cd(tsv, q) AS rank FROM (SELECT id, tsv, q "
                    f"FROM p_{s}, to_tsquery('english', %(tsquery)s) AS q "
                    f"WHERE tsv @@ q AND owner = %(owner)s{where} LIMIT {RANK_CAP}) AS found "
                    "ORDER BY rank DESC, id LIMIT %(want)s",
                    {"tsquery": " & ".join(subset), "owner": query.owner, "want": want, **params},
                )
                return await cur.fetchall()

            # All the words first, as search engines do; when that finds too few, fewer
            # words, the most common dropped first (see relaxations).
            best = {r[0]: coordinated_score(len(words), float(r[1])) for r in await ranked(words, limit)}
            if len(best) < limit and len(words) > 1:
                matches = await self._match_counts(conn, words, query.owner)
                for subset in relaxations(words, matches):
                    for pid, rank in await ranked(subset, limit + len(best)):
                        if pid not in best and len(best) < limit:
                            best[pid] = coordinated_score(len(subset), float(rank))
                    if len(best) >= limit:
                        break
            if not best:
                return []
            # Headlines for the winners only (ts_headline costs ~0.2 ms a passage); every
            # query word is marked.
            headline = (
                "ts_headline('english', translate(text, '<>', %(brackets)s), "
                "to_tsquery('english', %(any)s), %(headline)s)" if highlight else "NULL"
            )
            cur = await conn.execute(
                f"SELECT {_HIT_COLUMNS}, {headline} FROM p_{s} WHERE id = ANY(%(ids)s)",
                {"brackets": _BRACKETS, "any": " | ".join(words), "headline": _HEADLINE, "ids": list(best)},
            )
            rows = {r[0]: r for r in await cur.fetchall()}

        def marked(row: TupleRow) -> str:
            if not highlight:
                return html.escape(row[9], quote=False)
            return marked_html(row[10].translate(_UNBRACKET))

        return [_hit(rows[pid], marked(rows[pid]), score) for pid, score in best.items() if pid in rows]

    async def _match_counts(self, conn: psycopg.AsyncConnection[TupleRow], words: list[str],
                            owner: str) -> dict[str, int]:
        """The owner's passages holding each word, counted up to RANK_CAP, in one round trip.

        (An EXPLAIN per word, for the planner's estimate, cost a round trip and a plan
        each: ~60 ms for a five-word query at 10k passages.)
        """
        cur = await conn.execute(
            f"SELECT w, (SELECT count(*) FROM (SELECT 1 FROM p_{self._s} "
            "WHERE tsv @@ to_tsquery('english', w) AND owner = %(owner)s "
            f"LIMIT {RANK_CAP}) AS m) FROM unnest(%(words)s::text[]) AS w",
            {"words": words, "owner": owner},
        )
        return {str(w): int(n) for w, n in await cur.fetchall()}

    async def vector_search(self, query: SearchQuery, vector: Vector, limit: int) -> list[SearchHit]:
        if limit <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        if q.shape != (self.dim,):
            raise ValueError(f"the query vector has {q.shape[0]} dims; this index holds {self.dim}")
        where, params = _filters(query)
        args = {"q": q, "owner": query.owner, "limit": limit, **params}
        select = (f"SELECT {_HIT_COLUMNS}, 1 - (embedding <=> %(q)s) AS score FROM p_{self._s} "
                  f"WHERE owner = %(owner)s{where} ")
        rows: list[TupleRow] = []
        if query.document_id is None:
            nearest = select + "ORDER BY embedding <=> %(q)s LIMIT %(limit)s"
            if 2 * limit <= _MIN_EF_SEARCH:
                rows = await self._fetch(nearest, args)
            else:  # a longer candidate list than the session's, for this query only
                async with self._conn() as conn, conn.transaction():
                    await conn.execute("SELECT set_config('hnsw.ef_search', %s, true)",
                                       (str(min(1000, 2 * limit)),))
                    rows = await (await conn.execute(nearest, args)).fetchall()
        if len(rows) < limit:
            # "+ 0" hides the ordering from the HNSW index: an exact scan of the owner's rows.
            rows = await self._fetch(select + "ORDER BY (embedding <=> %(q)s) + 0, id LIMIT %(limit)s", args)
        # The text escaped, unmarked: hybrid.search marks the query's words in the hits it
        # returns (marking all the candidates here would be wasted on most of them).
        return [_hit(r, html.escape(r[9], quote=False), float(r[10])) for r in rows]

    async def similar_documents(self, owner: str, document_id: str, k: int) -> list[SimilarDocument]:
        if k <= 0:
            return []
        s = self._s
        rows = await self._fetch(
            f"SELECT d.document_id, d.filename, d.content_type, 1 - (d.embedding <=> t.embedding) AS score "
            f"FROM d_{s} AS d, d_{s} AS t WHERE t.document_id = %(doc)s AND t.owner = %(owner)s "
            "AND d.owner = %(owner)s AND d.document_id <> %(doc)s "
            "ORDER BY d.embedding <=> t.embedding, d.document_id LIMIT %(k)s",
            {"doc": document_id, "owner": owner, "k": k},
        )
        return [SimilarDocument(document_id=r[0], filename=r[1], content_type=r[2], score=float(r[3]))
                for r in rows]

    async def count(self, owner: str | None = None, document_id: str | None = None) -> int:
        rows = await self._fetch(
            f"SELECT count(*) FROM p_{self._s} WHERE (%(owner)s::text IS NULL OR owner = %(owner)s) "
            "AND (%(doc)s::text IS NULL OR document_id = %(doc)s)",
            {"owner": owner, "doc": document_id},
        )
        return int(rows[0][0])

    # --- embedding cache ---
    async def cached_vectors(self, text_sha256: Sequence[str]) -> dict[str, Vector]:
        keys = list(dict.fromkeys(text_sha256))
        if not keys:
            return {}
        rows = await self._fetch(
            f"SELECT text_sha256, embedding FROM c_{self._s} WHERE text_sha256 = ANY(%s)", (keys,)
        )
        return {r[0]: np.asarray(r[1].to_numpy(), dtype=np.float32) for r in rows}

    async def cache_vectors(self, vectors: Mapping[str, Vector]) -> None:
        if not vectors:
            return
        rows = [(key, np.asarray(v, dtype=np.float32).reshape(-1)) for key, v in vectors.items()]
        async with self._conn() as conn, conn.cursor() as cur:
            # DO NOTHING keeps the first vector stored for a hash.
            await cur.executemany(
                f"INSERT INTO c_{self._s} (text_sha256, embedding) VALUES (%s, %s) "
                "ON CONFLICT (text_sha256) DO NOTHING",
                rows,
            )
