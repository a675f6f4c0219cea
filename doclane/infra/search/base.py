"""The search-index interface every adapter implements (SQLite embedded, PostgreSQL + pgvector).

An index holds the passages of one embedding model: the model and its vector
dimension are given when the adapter is built, and vectors of another model are
never mixed into it (each model has its own tables). Every query filters by owner
inside the index, never by filtering a global top-k afterwards. Writes are
idempotent (passages are keyed by id), so a redelivered chunk is harmless.

Adapters return ranked lists; fusing keyword and vector rankings into hybrid
results happens once, above them (``doclane.infra.search.hybrid``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from doclane.schemas.search import Passage, SearchHit, SearchQuery, SimilarDocument

__all__ = ["SearchIndex"]

Vector = npt.NDArray[np.float32]


class SearchIndex(Protocol):
    #: The embedding model whose vectors this index holds, e.g. ``"minilm-l6-v2-int8"``.
    model: str
    dim: int

    async def open(self) -> None:
        """Connect and create what is missing (tables, indexes, extensions); safe when
        several processes open the same index at once."""

    async def close(self) -> None: ...

    async def upsert(self, passages: Sequence[Passage]) -> None:
        """Store passages (with vectors), replacing any with the same id."""

    async def delete_document(self, document_id: str) -> int:
        """Remove every passage of a document; the number removed."""

    async def keyword_search(
        self, query: SearchQuery, limit: int, *, highlight: bool = True
    ) -> list[SearchHit]:
        """Full-text ranking (BM25 / ts_rank) of the owner's passages, best first.

        ``score`` is the adapter's relevance, higher is better; ``highlight`` marks
        the matched words with ``<mark>``. An empty list when no word matches.
        With ``highlight=False`` the highlight is the escaped text, unmarked: hybrid
        search ranks many candidates and marks only the few it returns.
        """

    async def vector_search(self, query: SearchQuery, vector: Vector, limit: int) -> list[SearchHit]:
        """Nearest passages of the owner by cosine similarity (the score), best first."""

    async def similar_documents(self, owner: str, document_id: str, k: int) -> list[SimilarDocument]:
        """The owner's other documents closest to this one (by their passages' mean vector)."""

    async def count(self, owner: str | None = None, document_id: str | None = None) -> int:
        """Passages stored, for everyone or for one owner / document."""

    # --- embedding cache: identical text is never embedded twice under this model ---
    async def cached_vectors(self, text_sha256: Sequence[str]) -> dict[str, Vector]:
        """Vectors stored before for these text hashes (missing ones are absent)."""

    async def cache_vectors(self, vectors: Mapping[str, Vector]) -> None:
        """Keep vectors by text hash; the first stored for a hash is kept."""
