"""The aggregator stage: ``chunk.analyzed`` + ``chunk.indexed`` → progress, then the document's analysis.

Both topics are keyed by document id and the group serialises a key across its
topics, so one document's chunk results arrive here one at a time; the
aggregator is the only writer of a document's status while it is being
analysed and indexed. A document completes when every chunk is analysed *and*
indexed.
"""

from __future__ import annotations

from doclane.exceptions import DoclaneError
from doclane.infra.runtime import Services
from doclane.infra.store.base import ChunkCounts
from doclane.schemas.enrichment import rollup
from doclane.schemas.events import ChunkResult, DocumentStatus, Progress, Stage, StatusChange
from doclane.schemas.experiments import Component

__all__ = ["aggregate_give_up", "handle_chunk_result"]

#: The stage a failed part of a chunk is reported under.
_PART_STAGE = {"analysis": Stage.ANALYZE, "index": Stage.INDEX}


async def handle_chunk_result(event: ChunkResult, services: Services) -> None:
    store, status = services.store, services.status
    document_id = event.document_id
    # The document itself is read only to finish it: the status store refuses events of a
    # deleted or finished document, and a deleted one has no chunks to count.
    if event.error is not None:
        category = event.error_category or event.part
        await status.emit(document_id, StatusChange.failed(_PART_STAGE[event.part], event.error, category))
        return
    newly_counted, counts = await store.mark_and_count_chunks(document_id, event.chunk_index, event.part)
    if not services.settings.search_enabled:
        counts = counts.without_indexing()
    if not counts.complete:
        if newly_counted and _progress_worth_reporting(counts, event.part):
            await status.emit(
                document_id,
                StatusChange(
                    status=DocumentStatus.ANALYZING,
                    stage=_PART_STAGE[event.part],
                    progress=_progress(counts),
                    detail=f"{counts.analyzed} of {counts.total} chunk(s) analysed, "
                           f"{counts.indexed} indexed",
                ),
            )
        return
    # Every chunk is in (possibly on a redelivery after a crash): reduce and finish.
    # An identical file analysed before under the same configuration needs no reduce call.
    doc = await store.get_document(document_id)
    if doc is None or doc.status.terminal:
        return
    chunks = await store.list_chunks(doc.id)
    pairs = [(c, c.analysis) for c in chunks if c.analysis is not None]
    experiments = services.experiments
    chosen = experiments.assignment(Component.ANALYSIS, doc.id) if experiments is not None else None
    detail = None
    if experiments is not None and chosen is not None:
        # In an A/B experiment on the analysis, the summary comes from the document's own arm,
        # and is not cached: a cached one would outlive the experiment with that arm's results.
        analyzer, _ = experiments.analyzer(chosen.version)
        analysis = await analyzer.reduce(pairs)
    elif (cached := await services.cache.document(doc.sha256, doc.content_type)) is not None:
        analysis = cached
        detail = ("Identical content was analysed before with the same settings; "
                  "the result was reused without AI calls.")
    else:
        analysis = await services.analyzer.reduce(pairs)
        await services.cache.put_document(doc.sha256, doc.content_type, analysis)
    await status.emit(
        doc.id,
        StatusChange(
            status=DocumentStatus.COMPLETED,
            stage=Stage.AGGREGATE,
            progress=_progress(counts),
            detail=detail,
            analysis=analysis,
            doc_type=doc.doc_type,
            entities=rollup([e for c in chunks for e in c.entities or ()]),
        ),
    )


def _progress(counts: ChunkCounts) -> Progress:
    return Progress(done=counts.done, total=counts.total, analyzed=counts.analyzed,
                    indexed=counts.indexed)


#: Progress is reported in steps of about 1/PROGRESS_STEPS of the chunks.
PROGRESS_STEPS = 20


def _progress_worth_reporting(counts: ChunkCounts, part: str) -> bool:
    """When the chunks done (analysed *and* indexed) moved to a reporting step.

    ``done`` is the lesser of the two counts, so it moved only if the part just
    counted was not ahead of the other one. Each event carries both counts, so
    the part that is ahead shows too; a stream never sees the same ``done`` twice.
    """
    mine = counts.analyzed if part == "analysis" else counts.indexed
    other = counts.indexed if part == "analysis" else counts.analyzed
    return mine <= other and _worth_reporting(counts.done, counts.total)


def _worth_reporting(done: int, total: int) -> bool:
    """Every chunk of a small document; about every 5% of a large one.

    Each progress event is a store write, a broker message and a frame to every
    client; a 1,000-chunk document needs 20 of them to draw a smooth bar, not 1,000.
    """
    step = max(1, total // PROGRESS_STEPS)
    return done == 1 or done % step == 0


async def aggregate_give_up(event: ChunkResult, services: Services, error: DoclaneError) -> None:
    await services.status.emit(
        event.document_id, StatusChange.failed(Stage.AGGREGATE, error.reason, error.category)
    )
