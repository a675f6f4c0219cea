"""Contracts shared by every part of doclane: events, documents, analysis, API bodies."""

from doclane.schemas.analysis import ActionItem, ChunkAnalysis, DocumentAnalysis, Sentiment
from doclane.schemas.documents import (
    ChunkPublic,
    ChunkRecord,
    DocumentDetail,
    DocumentPublic,
    DocumentRecord,
)
from doclane.schemas.events import (
    SCHEMA_VERSION,
    ChunkAnalyzed,
    ChunkReady,
    DocumentStatus,
    DocumentUploaded,
    Event,
    Priority,
    Progress,
    Stage,
    StatusChange,
    StatusEvent,
    Topics,
    chunk_ready_topic,
)
from doclane.schemas.extraction import Chunk, ExtractedDocument, Section

__all__ = [
    "SCHEMA_VERSION",
    "ActionItem",
    "Chunk",
    "ChunkAnalysis",
    "ChunkAnalyzed",
    "ChunkPublic",
    "ChunkReady",
    "ChunkRecord",
    "DocumentAnalysis",
    "DocumentDetail",
    "DocumentPublic",
    "DocumentRecord",
    "DocumentStatus",
    "DocumentUploaded",
    "Event",
    "ExtractedDocument",
    "Priority",
    "Progress",
    "Section",
    "Sentiment",
    "Stage",
    "StatusChange",
    "StatusEvent",
    "Topics",
    "chunk_ready_topic",
]
