"""The extractor stage: ``document.uploaded`` → chunks on ``chunk.ready.<priority>``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from doclane.ai.classify import classification_text
from doclane.ai.classify.base import DocumentClassifier
from doclane.ai.experiments import observe_model
from doclane.ai.experiments.variants import ClassifierTrial, classify_trials
from doclane.ai.local import guess_title
from doclane.consumers.lanes import lane_for
from doclane.exceptions import DoclaneError
from doclane.extraction import chunk_document, extract
from doclane.infra.runtime import Services
from doclane.schemas.documents import ChunkRecord
from doclane.schemas.enrichment import Classification
from doclane.schemas.events import (
    ChunkReady,
    DocumentStatus,
    DocumentUploaded,
    Progress,
    Stage,
    StatusChange,
    chunk_ready_topic,
)
from doclane.schemas.experiments import Component
from doclane.schemas.extraction import Chunk

__all__ = ["extract_give_up", "handle_uploaded"]

logger = logging.getLogger(__name__)

#: Chunk events published at once (a 1,000-page PDF has about 2,000 chunks).
_PUBLISH_BATCH = 128


class _NoChunks(DoclaneError):
    category = "no_text"


@dataclass(frozen=True)
class _Extracted:
    title: str | None
    page_count: int
    encoding: str | None
    chunks: list[Chunk]
    classification: Classification | None
    #: Each classifier version run (the served one first; a shadowed candidate after it), timed.
    trials: list[ClassifierTrial]


def _extract_and_chunk(path: Path, content_type: str, max_chars: int, overlap: int,
                       classifiers: list[tuple[str, DocumentClassifier]], filename: str) -> _Extracted:
    """Runs in the CPU pool: parse the file, cut it into chunks, say what kind of document it is."""
    doc = extract(path, content_type)
    chunks = chunk_document(doc, max_chars=max_chars, overlap_chars=overlap)
    trials = []
    if classifiers and chunks:
        trials = classify_trials(classifiers, classification_text(doc), filename=filename,
                                 content_type=content_type)
    classification = trials[0].classification if trials else None
    # Without a title in the file's metadata, the one a reader would give it (first heading,
    # a Subject: line, a first line that reads like a title).
    return _Extracted(doc.title or guess_title(chunks), doc.page_count, doc.encoding, chunks,
                      classification, trials)


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

    experiments = services.experiments
    stored = {c.index: c for c in await store.list_chunks(doc.id)}
    # A run that died while storing the chunks (MongoDB's insert_many is not one transaction)
    # left only some: extract again; storing the ones already there changes nothing.
    complete = bool(stored) and len(stored) >= (doc.chunk_count or 0)
    chunks: list[Chunk] = list(stored.values()) if complete else []
    # A document in an analysis experiment is analysed by its arm's version, never from the
    # configured provider's results of identical content.
    in_analysis_experiment = experiments is not None and experiments.config(Component.ANALYSIS) is not None
    cached = (None if chunks or in_analysis_experiment
              else await services.cache.document(doc.sha256, doc.content_type))
    if not chunks:
        result = await services.cpu_pool.run(
            _extract_and_chunk,
            services.blobs.path(event.blob_key),
            event.content_type,
            settings.chunk_max_chars,
            settings.chunk_overlap_chars,
            _classifier_arms(services, doc.id),
            doc.filename,
        )
        chunks = result.chunks
        if not chunks:
            raise _NoChunks("The document contains no text to analyse.")
        classification = result.classification
        doc_type = classification.label if classification else None
        for trial in result.trials:  # labelled with the model's own version (threshold included)
            version = trial.classification.version if trial.classification else trial.name
            observe_model(Component.CLASSIFIER, version, trial.latency_ms, failed=trial.error is not None)
        if experiments is not None:
            await experiments.record_classifier(doc.id, doc.sha256, result.trials)
        # The uploader's (or an administrator's) choice wins; else the lane of the type and size.
        explicit = doc.priority_explicit or event.priority_explicit
        priority = doc.priority if explicit else lane_for(doc_type, result.page_count, doc.priority)
        await store.update_document(
            doc.id,
            title=result.title,
            page_count=result.page_count,
            encoding=result.encoding,
            chunk_count=len(chunks),
            doc_type=doc_type,
            classification=classification,
            priority=priority,
            experiments=experiments.assignments(doc.id) if experiments is not None else None,
        )
        doc = doc.model_copy(update={"doc_type": doc_type, "priority": priority})
        await store.put_chunks(doc.id, chunks)
    if cached is not None:
        # Identical content was analysed before with the same settings: its chunks'
        # analyses are reused (no AI call); they still go to the indexer, because
        # this document's passages must be searchable as its own.
        stored = await _reuse_cached_analyses(doc.id, chunks, services)

    if doc.status is not DocumentStatus.ANALYZING:
        counts = await store.count_chunks(doc.id)
        if not settings.search_enabled:
            counts = counts.without_indexing()
        await services.status.emit(
            doc.id,
            StatusChange(
                status=DocumentStatus.ANALYZING,
                stage=Stage.EXTRACT,
                progress=Progress(done=counts.done, total=len(chunks), analyzed=counts.analyzed,
                                  indexed=counts.indexed),
                detail=f"{len(chunks) - counts.done} of {len(chunks)} chunk(s) queued for "
                       "analysis and indexing" + (" (analysis reused from identical content)"
                                                   if cached is not None else ""),
                doc_type=doc.doc_type,
                experiments=experiments.assignments(doc.id) if experiments is not None else None,
            ),
        )
    # Chunks the aggregator has counted (a redelivery, or a retry after a failure) are not
    # sent again. A chunk analysed but not counted is (one whose analysis came from the cache
    # above, or whose announcement was lost): the analyzer re-announces a stored analysis
    # without analysing it again. If all are counted, the last one is re-announced so the
    # aggregator can finish.
    pending = [c for c in chunks if (r := stored.get(c.index)) is None or not r.aggregated
               or (settings.search_enabled and not r.index_aggregated)]
    # The uploader's priority, or the lane of the document's type and size (see lanes.py).
    topic = chunk_ready_topic(doc.priority)
    to_send = pending or chunks[-1:]
    # Sent a batch at a time, not one after another: the bus writes a batch's records
    # together (one commit on the embedded log, one round of produce requests on Kafka)
    # instead of waiting for each to be durable before sending the next.
    for start in range(0, len(to_send), _PUBLISH_BATCH):
        await asyncio.gather(*(
            services.bus.publish(
                topic,
                f"{doc.id}:{chunk.index}",
                ChunkReady(
                    document_id=doc.id,
                    owner=doc.owner,
                    chunk=Chunk.model_validate(chunk.model_dump()),
                    chunk_count=len(chunks),
                    priority=doc.priority,
                ),
            )
            for chunk in to_send[start:start + _PUBLISH_BATCH]
        ))


def _classifier_arms(services: Services, document_id: str) -> list[tuple[str, DocumentClassifier]]:
    """The classifier version(s) to run on the document: its experiment arm's, else the trained one."""
    trained = services.classifier
    if trained is None:
        return []
    if services.experiments is None:
        return [(trained.version, trained)]
    return services.experiments.classifier_arms(document_id, trained)


async def _reuse_cached_analyses(
    document_id: str, chunks: list[Chunk], services: Services
) -> dict[int, ChunkRecord]:
    """Store the cached analysis of every chunk that has one; the chunks as stored now."""
    for chunk in chunks:
        analysis = await services.cache.cached_chunk(chunk)
        if analysis is not None:
            await services.store.save_chunk_analysis(document_id, chunk.index, analysis)
    return {c.index: c for c in await services.store.list_chunks(document_id)}


async def extract_give_up(event: DocumentUploaded, services: Services, error: DoclaneError) -> None:
    await services.status.emit(
        event.document_id, StatusChange.failed(Stage.EXTRACT, error.reason, error.category)
    )
