"""Document records as stored, and as shown by the API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from doclane.schemas.analysis import ChunkAnalysis, DocumentAnalysis
from doclane.schemas.enrichment import Classification, DocType, Entity, EntityRollup
from doclane.schemas.events import DocumentStatus, Priority, StatusEvent, Timestamp, utcnow
from doclane.schemas.experiments import ExperimentAssignment
from doclane.schemas.extraction import Chunk

__all__ = [
    "ChunkPublic",
    "ChunkRecord",
    "DocumentDetail",
    "DocumentPublic",
    "DocumentRecord",
]


class DocumentBase(BaseModel):
    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    priority: Priority = Priority.NORMAL
    status: DocumentStatus = DocumentStatus.PENDING
    created_at: Timestamp = Field(default_factory=utcnow)
    updated_at: Timestamp = Field(default_factory=utcnow)
    title: str | None = None
    page_count: int | None = None
    chunk_count: int | None = None
    encoding: str | None = None
    error: str | None = None
    error_category: str | None = None
    #: What kind of document this is (from the classifier), once extracted.
    doc_type: DocType | None = None
    classification: Classification | None = None
    #: Unique named entities with their counts, per label, once the document completed.
    entities: list[EntityRollup] | None = None
    #: The document's arm in each A/B experiment on model versions, set when it is extracted.
    experiments: list[ExperimentAssignment] | None = None
    #: The uploader chose ``priority``; otherwise the extractor may move the document to the
    #: lane its type and size call for.
    priority_explicit: bool = False


class DocumentRecord(DocumentBase):
    """A document as the store keeps it."""

    owner: str
    blob_key: str
    seq: int = 0
    analysis: DocumentAnalysis | None = None


class DocumentPublic(DocumentBase):
    """A document in listings."""


class DocumentDetail(DocumentPublic):
    """One document with its status history and analysis."""

    history: list[StatusEvent] = Field(default_factory=list)
    analysis: DocumentAnalysis | None = None


class ChunkRecord(Chunk):
    document_id: str
    analysis: ChunkAnalysis | None = None
    analyzed_at: Timestamp | None = None
    aggregated: bool = False
    #: When the indexer stored the chunk's passages in the search index.
    indexed_at: Timestamp | None = None
    #: The aggregator counted the chunk's indexing.
    index_aggregated: bool = False
    #: Named entities of the chunk's text (offsets into it), found by the indexer.
    entities: list[Entity] | None = None


class ChunkPublic(Chunk):
    analysis: ChunkAnalysis | None = None
    analyzed_at: Timestamp | None = None
    indexed_at: Timestamp | None = None
