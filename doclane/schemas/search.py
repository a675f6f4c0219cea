"""Search contracts: passages in the index, queries, hits, and the API's answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from doclane.schemas.enrichment import Entity

__all__ = [
    "Passage",
    "SearchHit",
    "SearchMode",
    "SearchQuery",
    "SearchResponse",
    "SimilarDocument",
    "SimilarResponse",
    "entity_key",
    "passage_entity_keys",
]


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    SEMANTIC = "semantic"
    KEYWORD = "keyword"


@dataclass
class Passage:
    """A piece of a chunk sized for the embedding model, with its vector, as indexed.

    ``id`` is ``{document_id}:{chunk_index}:{passage_index}``, so re-indexing a
    chunk overwrites its passages instead of adding copies. ``vector`` is float32,
    L2-normalised, of the index's dimension; ``model`` names the embedder that made it.
    """

    id: str
    document_id: str
    owner: str
    filename: str
    content_type: str
    chunk_index: int
    passage_index: int
    section_path: list[str]
    page_start: int
    page_end: int
    text: str
    model: str
    vector: npt.NDArray[np.float32]
    #: The document's class (invoice, resume, ...) once classification exists.
    doc_type: str | None = None
    #: sha256 of ``text``: the embedding cache key (with ``model``).
    text_sha256: str = field(default="")
    #: Keys (:func:`entity_key`) of the named entities mentioned in this passage.
    entities: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SearchQuery:
    """What to look for, and whose: ``owner`` is applied inside the index query."""

    owner: str
    text: str
    k: int = 10
    content_type: str | None = None
    document_id: str | None = None
    doc_type: str | None = None
    #: Only passages mentioning one of these entities (:func:`entity_key`s; empty: any passage).
    entities: tuple[str, ...] = ()


class SearchHit(BaseModel):
    document_id: str
    filename: str
    content_type: str
    section_path: list[str] = Field(default_factory=list)
    page_start: int = 1
    page_end: int = 1
    chunk_index: int = 0
    passage_index: int = 0
    text: str
    #: The passage with the query's words marked ``<mark>…</mark>`` (HTML-escaped text).
    highlight: str
    score: float
    #: The passage id, ``{document_id}:{chunk}:{passage}``.
    passage_id: str = ""


class SearchResponse(BaseModel):
    results: list[SearchHit]
    mode: SearchMode
    took_ms: float
    #: The embedding model the semantic half used (``None`` for keyword search).
    model: str | None = None


class SimilarDocument(BaseModel):
    document_id: str
    filename: str
    content_type: str
    score: float


class SimilarResponse(BaseModel):
    document_id: str
    results: list[SimilarDocument]


def entity_key(label: str, value: str) -> str:
    """How the index names an entity: its label and normalised value, case-folded."""
    return f"{label}:{' '.join(value.split()).casefold()}"


def passage_entity_keys(text: str, entities: list[Entity]) -> list[str]:
    """The keys of the chunk's ``entities`` that this passage of it mentions (sorted, unique).

    A passage is a window of its chunk's text: an entity belongs to it when its mention
    appears in the passage (compared case-insensitively).
    """
    folded = text.casefold()
    return sorted({entity_key(e.label.value, e.value) for e in entities if e.text.casefold() in folded})
