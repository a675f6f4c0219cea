"""The indexer stage: ``chunk.ready.<priority>`` → passages in the search index → ``chunk.indexed``.

It reads the same chunk topics as the analyzer, as its own consumer group with
its own offsets. Each chunk is cut into passages sized for the embedding model,
embedded (an identical passage is never embedded twice under the same model:
vectors are cached by text hash in the index) and written to the search index
with the chunk's section path and pages.
"""

from __future__ import annotations

import hashlib
import logging
import time

import numpy as np
import numpy.typing as npt

from doclane.ai.embeddings.passages import chunk_passages
from doclane.ai.experiments import observe_model
from doclane.ai.experiments.variants import DEFAULT_NER, extract_entities_as, neighbour_agreement
from doclane.exceptions import DoclaneError
from doclane.infra.metrics import CACHE_LOOKUPS
from doclane.infra.runtime import Services
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.enrichment import Entity
from doclane.schemas.events import ChunkIndexed, ChunkReady, Topics
from doclane.schemas.experiments import Component
from doclane.schemas.search import Passage, passage_entity_keys

__all__ = ["handle_chunk_ready_for_index", "index_give_up"]

logger = logging.getLogger(__name__)


async def handle_chunk_ready_for_index(event: ChunkReady, services: Services) -> None:
    """Index one chunk unless it already is, then announce it.

    The passages are written (idempotently, by id) and the chunk marked indexed
    before ``chunk.indexed`` is published, so a crash in between re-announces
    instead of embedding again.
    """
    store = services.store
    indexed = await store.chunk_has(event.document_id, event.chunk.index, "index")
    if indexed is None:  # the document was deleted meanwhile
        return
    passages = 0
    if not indexed:
        doc = await store.get_document(event.document_id)
        if doc is None or doc.status.terminal:
            return
        entities = await _entities(doc, event, services) if services.ner_enabled else []
        built = await _passages(doc, event, services, entities)
        if services.ner_enabled:
            await store.save_chunk_entities(doc.id, event.chunk.index, entities)
        await services.index.upsert(built)
        await store.mark_chunk_indexed(doc.id, event.chunk.index)
        if await store.get_document(doc.id) is None:
            # Deleted while we embedded: take back what we wrote after its passages were removed.
            await services.index.delete_document(doc.id)
            return
        passages = len(built)
    await _announce(event, services, passages=passages)


async def _passages(doc: DocumentRecord, event: ChunkReady, services: Services,
                    entities: list[Entity]) -> list[Passage]:
    embedder, index = services.embedder, services.index
    chunk = event.chunk
    texts = chunk_passages(chunk, embedder.passage_chars)
    hashes = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    vectors = await index.cached_vectors(hashes)
    missing = {h: t for h, t in zip(hashes, texts, strict=True) if h not in vectors}
    CACHE_LOOKUPS.labels("embedding", "hit").inc(len(set(hashes)) - len(missing))
    if missing:
        CACHE_LOOKUPS.labels("embedding", "miss").inc(len(missing))
        started = time.perf_counter()
        fresh = await embedder.embed(list(missing.values()))
        elapsed_ms = (time.perf_counter() - started) * 1000
        observe_model(Component.EMBEDDINGS, embedder.name, elapsed_ms)
        await _shadow_embeddings(doc, chunk.index, list(missing.values()), fresh, elapsed_ms, services)
        made = dict(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
        await index.cache_vectors(made)
        vectors |= made
    return [
        Passage(
            id=f"{doc.id}:{chunk.index}:{i}",
            document_id=doc.id,
            owner=doc.owner,
            filename=doc.filename,
            content_type=doc.content_type,
            chunk_index=chunk.index,
            passage_index=i,
            section_path=list(chunk.section_path),
            page_start=chunk.page_start,
            page_end=chunk.page_end,
            text=text,
            model=embedder.name,
            vector=vectors[digest],
            text_sha256=digest,
            doc_type=doc.doc_type,
            entities=passage_entity_keys(text, entities),
        )
        for i, (text, digest) in enumerate(zip(texts, hashes, strict=True))
    ]


async def _entities(doc: DocumentRecord, event: ChunkReady, services: Services) -> list[Entity]:
    """The chunk's named entities, found in the CPU pool, with the page and section of each.

    The NER version is the document's arm of an NER experiment if one runs (in shadow
    mode the other version runs too, measured and dropped), else the trained extractor.
    """
    chunk, models_dir = event.chunk, services.settings.models_dir
    experiments = services.experiments
    chosen = experiments.assignment(Component.NER, doc.id) if experiments is not None else None
    run = await services.cpu_pool.run(extract_entities_as, chosen.version if chosen else DEFAULT_NER,
                                      chunk.text, models_dir)
    observe_model(Component.NER, run.model_version, run.latency_ms)
    if experiments is not None and chosen is not None:
        shadow, error = None, None
        if chosen.shadow_version is not None:
            try:
                shadow = await services.cpu_pool.run(extract_entities_as, chosen.shadow_version,
                                                     chunk.text, models_dir)
                observe_model(Component.NER, shadow.model_version, shadow.latency_ms)
            except Exception as exc:  # a failing shadow is measured, never the document's failure
                error = f"{exc.__class__.__name__}: {exc}"
                observe_model(Component.NER, chosen.shadow_version, 0.0, failed=True)
        await experiments.record_ner(chosen, doc.id, doc.sha256, chunk.index, run, shadow, error)
    found = run.entities
    # Readers mark page breaks inside a section's text with form feeds.
    return [e.model_copy(update={
        "chunk_index": chunk.index,
        "page": min(chunk.page_start + chunk.text.count("\f", 0, e.start), chunk.page_end),
        "section_path": list(chunk.section_path),
    }) for e in found]


async def _shadow_embeddings(doc: DocumentRecord, unit: int, texts: list[str],
                             served: npt.NDArray[np.float32], served_ms: float, services: Services) -> None:
    """In an embeddings experiment's shadow share, embed the same texts with the candidate, timed;
    agreement is how often both models pick the same nearest passage (3+ passages)."""
    experiments = services.experiments
    chosen = experiments.assignment(Component.EMBEDDINGS, doc.id) if experiments is not None else None
    if experiments is None or chosen is None:
        return
    shadow_ms, failed, agreement = None, False, None
    if chosen.shadow_version is not None:
        candidate = experiments.embedder(chosen.shadow_version)
        started = time.perf_counter()
        try:
            agreement = neighbour_agreement(served, await candidate.embed(texts))
        except Exception:  # a failing shadow is measured, never the document's failure
            logger.exception("shadow embeddings %s failed", chosen.shadow_version)
            failed = True
        shadow_ms = (time.perf_counter() - started) * 1000
        observe_model(Component.EMBEDDINGS, candidate.name, shadow_ms, failed=failed)
    await experiments.record_run(chosen, doc.id, unit, served_ms=served_ms, shadow_ms=shadow_ms,
                                 shadow_failed=failed, agreement=agreement)


async def index_give_up(event: ChunkReady, services: Services, error: DoclaneError) -> None:
    # The aggregator owns the document's status in this phase: tell it, it fails the document.
    await _announce(event, services, error=error.reason, category=error.category)


async def _announce(event: ChunkReady, services: Services, *, passages: int = 0,
                    error: str | None = None, category: str | None = None) -> None:
    result = ChunkIndexed.of(event, error=error, category=category, passages=passages)
    await services.bus.publish(Topics.CHUNK_INDEXED, event.document_id, result)
