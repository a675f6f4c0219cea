"""The aggregator stage: ``chunk.analyzed`` → progress, then the document's analysis.

Events are keyed by document id, so one document's chunk results arrive here
one at a time and in order; the aggregator is the only writer of a document's
status while it is being analysed.
"""

from __future__ import annotations

from doclane.exceptions import DoclaneError
from doclane.infra.runtime import Services
from doclane.schemas.events import ChunkAnalyzed, DocumentStatus, Progress, Stage, StatusChange

__all__ = ["aggregate_give_up", "handle_chunk_analyzed"]


async def handle_chunk_analyzed(event: ChunkAnalyzed, services: Services) -> None:
    store, status = services.store, services.status
    doc = await store.get_document(event.document_id)
    if doc is None or doc.status.terminal:
        return
    if event.error is not None:
        category = event.error_category or "analysis"
        await status.emit(doc.id, StatusChange.failed(Stage.ANALYZE, event.error, category))
        return
    newly_counted = await store.mark_chunk_aggregated(doc.id, event.chunk_index)
    done, total = await store.count_chunks(doc.id)
    if done < total:
        if newly_counted and _worth_reporting(done, total):
            await status.emit(
                doc.id,
                StatusChange(
                    status=DocumentStatus.ANALYZING,
                    stage=Stage.ANALYZE,
                    progress=Progress(done=done, total=total),
                ),
            )
        return
    # Every chunk is in (possibly on a redelivery after a crash): reduce and finish.
    chunks = await store.list_chunks(doc.id)
    pairs = [(c, c.analysis) for c in chunks if c.analysis is not None]
    analysis = await services.analyzer.reduce(pairs)
    await services.cache.put_document(doc.sha256, doc.content_type, analysis)
    await status.emit(
        doc.id,
        StatusChange(
            status=DocumentStatus.COMPLETED,
            stage=Stage.AGGREGATE,
            progress=Progress(done=total, total=total),
            analysis=analysis,
        ),
    )


#: Progress is reported in steps of about 1/PROGRESS_STEPS of the chunks.
PROGRESS_STEPS = 20


def _worth_reporting(done: int, total: int) -> bool:
    """Every chunk of a small document; about every 5% of a large one.

    Each progress event is a store write, a broker message and a frame to every
    client; a 1,000-chunk document needs 20 of them to draw a smooth bar, not 1,000.
    """
    step = max(1, total // PROGRESS_STEPS)
    return done == 1 or done % step == 0


async def aggregate_give_up(event: ChunkAnalyzed, services: Services, error: DoclaneError) -> None:
    await services.status.emit(
        event.document_id, StatusChange.failed(Stage.AGGREGATE, error.reason, error.category)
    )
