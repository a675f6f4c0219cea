"""The analyzer stage: ``chunk.ready.<priority>`` → ``chunk.analyzed``."""

from __future__ import annotations

import time

from doclane.ai.experiments import observe_model
from doclane.ai.experiments.runner import analysis_version
from doclane.exceptions import DoclaneError
from doclane.infra.runtime import Services
from doclane.schemas.events import ChunkAnalyzed, ChunkReady, Topics
from doclane.schemas.experiments import Component

__all__ = ["analyze_give_up", "handle_chunk_ready"]


async def handle_chunk_ready(event: ChunkReady, services: Services) -> None:
    """Analyse one chunk unless it already has an analysis, then announce it.

    The analysis is stored before ``chunk.analyzed`` is published, so a crash
    in between re-announces the stored result instead of analysing again. An
    identical chunk analysed before under the same configuration is taken from
    the cache without calling the provider.
    """
    store = services.store
    analysed = await store.chunk_has(event.document_id, event.chunk.index, "analysis")
    if analysed is None:  # the document was deleted meanwhile
        return
    if not analysed:
        doc = await store.get_document(event.document_id)
        if doc is None or doc.status.terminal:
            return
        chunk = event.chunk
        experiments = services.experiments
        chosen = experiments.assignment(Component.ANALYSIS, doc.id) if experiments is not None else None
        if experiments is not None and chosen is not None:  # an A/B experiment on the analysis
            analysis = await experiments.analyze_chunk(chosen, doc.id, chunk)
        else:
            started = time.perf_counter()
            analysis = await services.cache.chunk_analysis(
                chunk, lambda: services.analyzer.analyze_chunk(chunk)
            )
            elapsed_ms = (time.perf_counter() - started) * 1000
            observe_model(Component.ANALYSIS, analysis_version(analysis), elapsed_ms)
        await store.save_chunk_analysis(event.document_id, event.chunk.index, analysis)
    await _announce(event, services)


async def analyze_give_up(event: ChunkReady, services: Services, error: DoclaneError) -> None:
    # The aggregator owns the document's analysing phase: tell it, it fails the document.
    await _announce(event, services, error=error.reason, category=error.category)


async def _announce(event: ChunkReady, services: Services, error: str | None = None,
                    category: str | None = None) -> None:
    result = ChunkAnalyzed.of(event, error=error, category=category)
    await services.bus.publish(Topics.CHUNK_ANALYZED, event.document_id, result)
