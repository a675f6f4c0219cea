"""Exact cosine search over an owner's vectors held in memory, kept in step with the SQLite file.

Each owner's vectors are loaded once into one float32 matrix (with their rowids and
filter fields as small integer codes); a query is one matrix-vector product over
the owner's rows only, so it is exact and another owner's rows are never scored.

Staying fresh without rereading everything: every write transaction bumps the
owner's ``gen`` in the ``o_<slug>`` table, and ``deletes`` when it removed rows
(a deleted document, a passage replaced by id). Rowids only grow
(AUTOINCREMENT), so a changed ``gen`` alone means "rows were appended": only rows
past the last rowid seen are read and written into the matrix's spare capacity.
A changed ``deletes`` reloads the owner. Both are read in one read transaction,
so a writer in another process is seen at the next query.

Memory is bounded (least recently used owners are dropped first); an owner too big
for the budget is scanned straight from the file instead, slower but exact.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

__all__ = ["VectorCache"]

Vector = npt.NDArray[np.float32]
_NO_CODE = -1


@dataclass
class _Owner:
    """One owner's rows; arrays have spare capacity past ``n`` for appends."""

    dim: int
    gen: int = 0
    deletes: int = 0
    n: int = 0
    max_rowid: int = 0
    rowids: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    matrix: Vector = field(default_factory=lambda: np.empty((0, 0), np.float32))
    fields: npt.NDArray[np.int32] = field(default_factory=lambda: np.empty((0, 3), np.int32))
    codes: dict[str, int] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return int(self.rowids.nbytes + self.matrix.nbytes + self.fields.nbytes)

    def code(self, value: str | None) -> int:
        return self.codes.setdefault(value or "", len(self.codes))

    def append(self, rows: list[tuple[int, bytes, str, str | None, str]]) -> None:
        need = self.n + len(rows)
        if need > len(self.rowids):
            # Grow by doubling: appends are amortised, and readers holding views of the
            # first n rows are unaffected (old arrays stay alive while they use them).
            capacity = max(need, 2 * len(self.rowids), 256)
            rowids = np.empty(capacity, np.int64)
            matrix = np.empty((capacity, self.dim), np.float32)
            fields = np.empty((capacity, 3), np.int32)
            if self.n:
                rowids[: self.n] = self.rowids[: self.n]
                matrix[: self.n] = self.matrix[: self.n]
                fields[: self.n] = self.fields[: self.n]
            self.rowids, self.matrix, self.fields = rowids, matrix, fields
        for i, (rowid, blob, content_type, doc_type, document_id) in enumerate(rows, start=self.n):
            self.rowids[i] = rowid
            self.matrix[i] = np.frombuffer(blob, dtype=np.float32)
            self.fields[i] = (self.code(content_type), self.code(doc_type), self.code(document_id))
        self.n = need
        if rows:
            self.max_rowid = max(self.max_rowid, rows[-1][0])


class _Snapshot(NamedTuple):
    n: int
    rowids: npt.NDArray[np.int64]
    matrix: Vector
    fields: npt.NDArray[np.int32]
    codes: dict[str, int]


class VectorCache:
    """Owners' vector matrices for one model's tables, shared by the reader threads."""

    def __init__(self, slug: str, dim: int, budget_bytes: int) -> None:
        self._s = slug
        self._dim = dim
        #: By bytes held, least recently searched owner dropped first.
        self._owners: LRUCache[str, _Owner] = LRUCache(budget_bytes, getsizeof=lambda e: e.nbytes)
        self._lock = threading.Lock()

    def _rows(
        self, db: sqlite3.Connection, owner: str, after_rowid: int
    ) -> list[tuple[int, bytes, str, str | None, str]]:
        return db.execute(
            f"SELECT rowid, vector, content_type, doc_type, document_id FROM p_{self._s} "  # noqa: S608
            "WHERE owner = ? AND rowid > ? ORDER BY rowid",
            (owner, after_rowid),
        ).fetchall()

    def _current(self, db: sqlite3.Connection, owner: str) -> _Snapshot | None:
        """The owner's rows as of now: cached, refreshed, or (too big to keep) read afresh."""
        db.execute("BEGIN")
        try:
            state = db.execute(
                f"SELECT gen, deletes FROM o_{self._s} WHERE owner = ?", (owner,)  # noqa: S608
            ).fetchone()
            if state is None:
                return None
            gen, deletes = state
            with self._lock:
                entry = self._owners.get(owner)
                if entry is None or entry.deletes != deletes:
                    entry = _Owner(self._dim)
                if entry.gen != gen or entry.n == 0:
                    entry.append(self._rows(db, owner, entry.max_rowid))
                    entry.gen, entry.deletes = gen, deletes
                try:
                    self._owners[owner] = entry  # its size again: appends grow it
                except ValueError:  # bigger than the whole budget: used this once, not kept
                    self._owners.pop(owner, None)
                # Taken under the lock: another thread's append may swap in bigger arrays.
                return _Snapshot(entry.n, entry.rowids, entry.matrix, entry.fields, dict(entry.codes))
        finally:
            db.execute("COMMIT")

    def search(
        self, db: sqlite3.Connection, owner: str, q: Vector, limit: int,
        content_type: str | None = None, doc_type: str | None = None, document_id: str | None = None,
        among: npt.NDArray[np.int64] | None = None,
    ) -> list[tuple[int, float]]:
        """``(rowid, cosine)`` of the owner's best ``limit`` rows that pass the filters.

        ``among``: only these rowids (a filter the matrix holds no column for, e.g. entities).
        """
        view = self._current(db, owner)
        if view is None or view.n == 0:
            return []
        # Appends only write past n, and growing or reloading makes new arrays: the view holds.
        n, rowids, matrix, fields = view.n, view.rowids, view.matrix, view.fields
        scores = matrix[:n] @ q
        mask = np.ones(n, dtype=bool)
        for column, value in enumerate((content_type, doc_type, document_id)):
            if value is not None:
                mask &= fields[:n, column] == view.codes.get(value, _NO_CODE)
        if among is not None:
            mask &= np.isin(rowids[:n], among)
        candidates = np.flatnonzero(mask)
        if len(candidates) == 0:
            return []
        picked = scores[candidates]
        if len(picked) > limit:
            top = np.argpartition(-picked, limit - 1)[:limit]
            candidates, picked = candidates[top], picked[top]
        order = np.lexsort((rowids[candidates], -picked))
        return [(int(rowids[candidates[i]]), float(picked[i])) for i in order]

    def forget(self) -> None:
        with self._lock:
            self._owners.clear()
