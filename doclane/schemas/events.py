"""Event contracts: topic names and the payload of every event on them.

Every payload carries ``schema_version`` so consumers can refuse or upgrade
events written by a newer or older producer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, PlainSerializer

from doclane.schemas.analysis import DocumentAnalysis
from doclane.schemas.enrichment import EntityRollup
from doclane.schemas.experiments import ExperimentAssignment
from doclane.schemas.extraction import Chunk

__all__ = [
    "SCHEMA_VERSION",
    "ChunkAnalyzed",
    "ChunkIndexed",
    "ChunkReady",
    "ChunkResult",
    "DeadLetter",
    "DocumentStatus",
    "DocumentUploaded",
    "Event",
    "Priority",
    "Progress",
    "Stage",
    "StatusChange",
    "StatusEvent",
    "Timestamp",
    "Topics",
    "chunk_ready_topic",
    "utcnow",
]

SCHEMA_VERSION = 1


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


#: A datetime written in JSON always with its fraction (``...:47.000000Z``, not ``...:47Z``), so
#: timestamps sort as text the way they sort in time.
Timestamp = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


def utcnow() -> datetime:
    """Now, in UTC, to the millisecond: the precision of BSON dates and Kafka timestamps,
    so a timestamp reads back from any store exactly as it was written."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Topics:
    """Topic names, defined once. Keys are document ids unless noted."""

    DOCUMENT_UPLOADED = "document.uploaded"
    #: Keyed ``{document_id}:{chunk_index}`` so one document's chunks spread
    #: across partitions (lanes) and are analysed in parallel.
    CHUNK_READY = tuple(f"chunk.ready.{p.value}" for p in Priority)  # high first
    CHUNK_ANALYZED = "chunk.analyzed"
    CHUNK_INDEXED = "chunk.indexed"
    DOCUMENT_STATUS = "document.status"
    DOCUMENT_DLQ = "document.dlq"
    #: Keyed by interview session id: every committed turn, and the end of the interview.
    INTERVIEW_EVENTS = "interview.events"


def chunk_ready_topic(priority: Priority) -> str:
    return f"chunk.ready.{priority.value}"


class DocumentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    ANALYZING = "analyzing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (DocumentStatus.COMPLETED, DocumentStatus.FAILED)


class Stage(StrEnum):
    UPLOAD = "upload"
    EXTRACT = "extract"
    ANALYZE = "analyze"
    INDEX = "index"
    AGGREGATE = "aggregate"


class Event(BaseModel):
    schema_version: int = SCHEMA_VERSION
    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    produced_at: Timestamp = Field(default_factory=utcnow)


class DocumentUploaded(Event):
    document_id: str
    owner: str
    filename: str
    content_type: str
    blob_key: str
    size_bytes: int
    sha256: str
    priority: Priority = Priority.NORMAL
    #: The uploader chose the priority (it then wins over the lane of the document's type).
    priority_explicit: bool = False


class ChunkReady(Event):
    document_id: str
    owner: str
    chunk: Chunk
    chunk_count: int
    priority: Priority = Priority.NORMAL


class ChunkResult(Event):
    """A stage finished one chunk (or gave up on it); keyed by document for the aggregator.

    The aggregator reads ``chunk.analyzed`` and ``chunk.indexed`` as this one model
    and tells them apart by ``part``.
    """

    part: Literal["analysis", "index"] = "analysis"
    document_id: str
    owner: str
    chunk_index: int
    chunk_count: int
    #: ``None`` when the step succeeded; otherwise a reason a person understands.
    error: str | None = None
    error_category: str | None = None

    @classmethod
    def of(cls, ready: ChunkReady, *, error: str | None = None, category: str | None = None,
           **fields: object) -> Self:
        """The result of handling ``ready``: its document and chunk, and the failure if any."""
        return cls.model_validate({
            "document_id": ready.document_id, "owner": ready.owner,
            "chunk_index": ready.chunk.index, "chunk_count": ready.chunk_count,
            "error": error, "error_category": category, **fields,
        })


class ChunkAnalyzed(ChunkResult):
    """The analyzer stored the chunk's analysis."""

    part: Literal["analysis", "index"] = "analysis"


class ChunkIndexed(ChunkResult):
    """The indexer stored the chunk's passages (with their vectors) in the search index."""

    part: Literal["analysis", "index"] = "index"
    passages: int = 0


class Progress(BaseModel):
    """Chunks done out of the total; ``done`` counts chunks both analysed and indexed."""

    done: int
    total: int
    analyzed: int | None = None
    indexed: int | None = None


class StatusChange(BaseModel):
    """What a stage says about a document; the store numbers it into a :class:`StatusEvent`."""

    status: DocumentStatus
    stage: Stage
    progress: Progress | None = None
    #: Failure reason (``failed``) or a short human note on the step.
    detail: str | None = None
    #: What went wrong: the failure reason, or the error an attempt is being retried after.
    error: str | None = None
    error_category: str | None = None
    #: The attempt a retry notice announces (2 = the first retry); ``None`` otherwise.
    attempt: int | None = None
    #: The document's type, from classification: on the events from extraction onwards.
    doc_type: str | None = None
    #: The document's unique named entities with their counts (on the final event).
    entities: list[EntityRollup] | None = None
    #: The document's arm in each A/B experiment (on the event that says it is analysed).
    experiments: list[ExperimentAssignment] | None = None
    analysis: DocumentAnalysis | None = None

    @classmethod
    def failed(cls, stage: Stage, reason: str, category: str) -> StatusChange:
        """The document failed at ``stage``, for a reason a person understands."""
        return cls(status=DocumentStatus.FAILED, stage=stage, detail=reason, error=reason,
                   error_category=category)


class StatusEvent(StatusChange, Event):
    """One transition or progress step of a document, in order.

    ``seq`` is contiguous per document (1, 2, 3, ...); ``cursor`` is contiguous
    per owner and is what stream clients resume from.
    """

    document_id: str
    owner: str
    seq: int
    cursor: int
    timestamp: Timestamp = Field(default_factory=utcnow)
    #: A placeholder left in the owner's cursor sequence by a deleted document:
    #: it holds no content and is never streamed, it only keeps cursors gapless.
    tombstone: bool = False


class DeadLetter(Event):
    """An event a stage gave up on, with why."""

    stage: Stage
    topic: str
    document_id: str | None
    error: str
    attempts: int
    payload: str
    #: What went wrong (the error's category; ``internal`` for an unexpected exception).
    category: str | None = None
