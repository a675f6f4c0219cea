"""The store interface every database adapter implements (SQLite, MongoDB).

The store is the truth for a document's state: its record, its status history
(contiguous ``seq`` per document, contiguous ``cursor`` per owner), its chunks
and their analyses. Every write is idempotent so a redelivered event is harmless.
It also keeps a small result cache keyed by content hash, which outlives documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from doclane.schemas.analysis import ChunkAnalysis
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.enrichment import Entity
from doclane.schemas.events import DocumentStatus, Priority, StatusChange, StatusEvent
from doclane.schemas.experiments import ExperimentObservation
from doclane.schemas.extraction import Chunk
from doclane.schemas.interviews import InterviewReport, InterviewSession

__all__ = ["ChunkCounts", "ChunkPart", "Store", "projection"]

#: The two things that happen to every chunk before its document can complete.
ChunkPart = Literal["analysis", "index"]


class ChunkCounts(NamedTuple):
    """How many of a document's chunks the aggregator has counted, per part."""

    analyzed: int
    indexed: int
    total: int

    @property
    def done(self) -> int:
        """Chunks that count as finished for progress: analysed *and* indexed, at most."""
        return min(self.analyzed, self.indexed)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.analyzed >= self.total and self.indexed >= self.total

    def without_indexing(self) -> ChunkCounts:
        """The counts of a deployment that indexes nothing: every chunk counts as indexed."""
        return self._replace(indexed=self.total)


class Store(Protocol):
    #: True when a status event's cursor is allocated and the event written in one
    #: transaction, so an owner's cursors never show a gap. False when a newer
    #: event can become visible a moment before an older one.
    atomic_cursors: bool

    async def open(self) -> None:
        """Connect and create tables/indexes."""

    async def close(self) -> None: ...

    # --- documents ---
    async def create_document(self, doc: DocumentRecord) -> None: ...

    async def get_document(self, document_id: str) -> DocumentRecord | None: ...

    async def list_documents(
        self, owner: str, status: DocumentStatus | None = None, limit: int = 100, offset: int = 0,
        doc_type: str | None = None,
    ) -> list[DocumentRecord]:
        """The owner's documents, newest first; only those of ``status`` / ``doc_type`` if given."""

    async def update_document(self, document_id: str, **fields: object) -> None:
        """Set metadata fields (title, page_count, chunk_count, encoding, doc_type, classification)."""

    async def delete_document(self, document_id: str) -> bool:
        """Remove the record, its history and its chunks; False if it did not exist.

        The history's events become content-free tombstones that keep their
        cursors, so the owner's cursor sequence stays gapless for streams (a gap
        then always means an event still being written).
        """

    # --- status ---
    async def append_status(
        self, document_id: str, change: StatusChange, *, allow_after_terminal: bool = False
    ) -> StatusEvent | None:
        """Record a status event and project it onto the document, atomically.

        Returns the stored event, or ``None`` when the document no longer exists
        or is already terminal (and ``allow_after_terminal`` is false).
        """

    async def restore_status(self, event: StatusEvent) -> bool:
        """Put back an event read from the ``document.status`` topic (``doclane replay``).

        Inserts it if the store lacks it, projects it onto the document when it
        is the newest, and keeps the counters ahead of it. Events of documents
        that no longer exist are ignored. True if the event was missing.
        """

    async def status_history(self, document_id: str) -> list[StatusEvent]: ...

    async def status_events_since(
        self, owner: str, cursor: int, limit: int = 500
    ) -> list[StatusEvent]:
        """The owner's status events with ``cursor`` greater than the given one, in order."""

    async def latest_cursor(self, owner: str) -> int:
        """The owner's newest status cursor (0 when the owner has no events)."""

    # --- chunks ---
    async def put_chunks(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        """Store a document's chunks; re-storing the same chunks keeps their analyses."""

    async def list_chunks(self, document_id: str) -> list[ChunkRecord]: ...

    async def save_chunk_analysis(
        self, document_id: str, index: int, analysis: ChunkAnalysis
    ) -> bool:
        """Keep the first analysis of a chunk; True if this call stored it."""

    async def save_chunk_entities(self, document_id: str, index: int, entities: Sequence[Entity]) -> None:
        """Keep the chunk's named entities (replacing any stored before)."""

    async def mark_chunk_indexed(self, document_id: str, index: int) -> bool:
        """Record that the chunk's passages are in the search index; True the first time."""

    async def chunk_has(self, document_id: str, index: int, part: ChunkPart) -> bool | None:
        """Whether the chunk's analysis (``part="analysis"``) or its indexing (``"index"``) is
        stored; ``None`` when the chunk is not (its document deleted). What a stage reads
        before working on a chunk: no text, analysis or entities are loaded."""

    async def count_chunks(self, document_id: str) -> ChunkCounts:
        """Chunks the aggregator counted as analysed and as indexed, and the total."""

    async def mark_and_count_chunks(
        self, document_id: str, index: int, part: ChunkPart
    ) -> tuple[bool, ChunkCounts]:
        """Count this part of the chunk for the aggregator, once, then :meth:`count_chunks`.

        In one round trip where the database allows. The flag is True if this call counted
        the part (False when it was counted before, or the chunk is not stored).
        """

    # --- sessions ---
    async def token_version(self, user: str) -> int:
        """The user's token version (0 at first): tokens issued under an older one are revoked."""

    async def revoke_tokens(self, user: str) -> int:
        """Revoke every token of ``user`` issued so far; the new token version.

        Kept in the store, not in a gateway's memory, so every gateway refuses the
        revoked tokens at once.
        """

    # --- result cache ---
    # Analysis results keyed by content hash (``"chunk:<sha256>"``, ``"doc:<sha256>"``).
    # Entries belong to no document and hold nothing of an owner's beyond those
    # results, so ``delete_document`` leaves them in place.
    async def cache_get(self, key: str) -> dict[str, Any] | None:
        """The value cached under ``key``, or None."""

    async def cache_put(self, key: str, value: dict[str, Any]) -> None:
        """Cache ``value`` under ``key``; the first value stored for a key is kept.

        Results for the same key are interchangeable, so a concurrent second
        writer is harmless. ``value`` is a JSON-compatible dict (no datetimes).
        Entries are not removed when a document is deleted: they are keyed by
        content hash and hold no owner data beyond analysis results.
        """


    # --- A/B experiments: what each model version did, per document (doclane.ai.experiments) ---
    async def record_experiment_observation(self, observation: ExperimentObservation) -> None:
        """Keep one measurement, replacing any of the same experiment, document, unit and version.

        Idempotent, so a redelivered chunk measured twice counts once.
        """

    async def experiment_observations(self, experiment: str,
                                      limit: int = 100_000) -> list[ExperimentObservation]:
        """The experiment's measurements (at most ``limit``, newest documents first not guaranteed)."""


    # --- admin ---
    async def mark_redriven(self, letter_id: str) -> bool:
        """Record that dead letter ``letter_id`` was sent back; False if it already was."""

    async def redriven_letters(self) -> set[str]:
        """The ids of every dead letter sent back so far."""

    async def move_lane(self, document_id: str, priority: Priority) -> datetime:
        """Record that the document's remaining chunks move to ``priority``'s lane now.

        Returns the time of the move: chunk events of another lane published before
        it are stale (see :func:`doclane.consumers.runner.run_with_fate`).
        """

    async def lane_move(self, document_id: str) -> tuple[Priority, datetime] | None:
        """The document's last lane move, if it was ever moved."""


    # --- interviews (doclane.interviews): one record per session, its report beside it ---
    async def save_interview(self, session: InterviewSession) -> None:
        """Create or replace the session (the whole record: plan, transcript, stats)."""

    async def get_interview(self, session_id: str) -> InterviewSession | None: ...

    async def list_interviews(self, owner: str, limit: int = 50, offset: int = 0) -> list[InterviewSession]:
        """The owner's sessions, newest first."""

    async def delete_interview(self, session_id: str) -> bool:
        """Remove the session and its report; False if there was none."""

    async def save_interview_report(self, session_id: str, report: InterviewReport) -> bool:
        """Keep the session's report; False (nothing written) if the session is gone."""

    async def get_interview_report(self, session_id: str) -> InterviewReport | None: ...


def projection(event: StatusEvent) -> dict[str, Any]:
    """The document fields a status event sets, as plain values: every store projects these."""
    fields: dict[str, Any] = {
        "seq": event.seq, "status": event.status, "updated_at": event.timestamp,
    }
    if event.status is DocumentStatus.FAILED:
        fields |= {"error": event.detail, "error_category": event.error_category}
    elif not event.status.terminal:
        fields |= {"error": None, "error_category": None}
    if event.analysis is not None:
        fields["analysis"] = event.analysis.model_dump()
    if event.entities is not None:
        fields["entities"] = [e.model_dump() for e in event.entities]
    return fields
