"""The extractor stage: ``document.uploaded`` → chunks on ``chunk.ready.<priority>``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from doclane.exceptions import DoclaneError
from doclane.extraction import chunk_document, extract
from doclane.infra.runtime import Services
from doclane.schemas.events import (
    ChunkReady,
    DocumentStatus,
    DocumentUploaded,
    Progress,
    Stage,
    StatusChange,
    chunk_ready_topic,
)
from doclane.schemas.extraction import Chunk

__all__ = ["extract_give_up", "handle_uploaded"]

logger = logging.getLogger(__name__)


class _NoChunks(DoclaneError):
    category = "no_text"


@dataclass(frozen=True)
class _Extracted:
    title: str | None
    page_count: int
    encoding: str | None
    chunks: list[Chunk]


def _extract_and_chunk(path: Path, content_type: str, max_chars: int, overlap: int) -> _Extracted:
    """Runs in the CPU pool: parse the file and cut it into chunks."""
    doc = extract(path, content_type)
    chunks = chunk_document(doc, max_chars=max_chars, overlap_chars=overlap)
    return _Extracted(doc.title, doc.page_count, doc.encoding, chunks)


async def handle_uploaded(event: DocumentUploaded, services: Services) -> None:
    """Extract one document and hand its chunks to the analyzers.

    Idempotent: a redelivered event reuses the stored chunks and only
    re-announces chunks that have no analysis yet.
    """
    store, settings = services.store, services.settings
    doc = await store.get_document(event.document_id)
    if doc is None or doc.status.terminal:
        return
    if doc.status is DocumentStatus.PENDING:
        await services.status.emit(
            doc.id, StatusChange(status=DocumentStatus.PROCESSING, stage=Stage.EXTRACT)
        )

    stored = {c.index: c for c in await store.list_chunks(doc.id)}
    chunks: list[Chunk] = list(stored.values())
    if not chunks:
        result = await services.cpu_pool.run(
            _extract_and_chunk,
            services.blobs.path(event.blob_key),
            event.content_type,
            settings.chunk_max_chars,
            settings.chunk_overlap_chars,
        )
        chunks = result.chunks
        if not chunks:
            raise _NoChunks("The document contains no text to analyse.")
        await store.update_document(
            doc.id,
            title=result.title,
            page_count=result.page_count,
            encoding=result.encoding,
            chunk_count=len(chunks),
        )
        await store.put_chunks(doc.id, chunks)

    if doc.status is not DocumentStatus.ANALYZING:
        await services.status.emit(
            doc.id,
            StatusChange(
                status=DocumentStatus.ANALYZING,
                stage=Stage.EXTRACT,
                progress=Progress(done=0, total=len(chunks)),
                detail=f"{len(chunks)} chunk(s) queued for analysis",
            ),
        )
    topic = chunk_ready_topic(event.priority)
    for chunk in chunks:
        record = stored.get(chunk.index)
        if record is not None and record.analysis is not None:
            continue
        await services.bus.publish(
            topic,
            f"{doc.id}:{chunk.index}",
            ChunkReady(
                document_id=doc.id,
                owner=doc.owner,
                chunk=Chunk.model_validate(chunk.model_dump()),
                chunk_count=len(chunks),
                priority=event.priority,
            ),
        )


async def extract_give_up(event: DocumentUploaded, services: Services, error: DoclaneError) -> None:
    await services.status.emit(
        event.document_id, StatusChange.failed(Stage.EXTRACT, error.reason, error.category)
    )
