"""The long-lived services a process needs, built from settings by one factory.

Building makes no connection; :func:`running` opens the store, starts the bus
with the consumer groups this process runs, and closes everything on exit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from doclane.ai.base import Analyzer
from doclane.ai.cache import AnalysisCache
from doclane.ai.classify.base import DocumentClassifier
from doclane.ai.embeddings import build_embedder
from doclane.ai.embeddings.base import Embedder
from doclane.ai.experiments import Experiments, parse_experiments
from doclane.ai.experiments.runner import analysis_settings
from doclane.ai.factory import build_analyzer
from doclane.ai.limits import AiLimiter
from doclane.infra.blobs import BlobStore
from doclane.infra.bus.base import EventBus
from doclane.infra.bus.embedded import EmbeddedBus
from doclane.infra.cpu import CpuPool
from doclane.infra.search import build_search_index
from doclane.infra.search.base import SearchIndex
from doclane.infra.settings import Settings
from doclane.infra.store.base import Store
from doclane.infra.store.sqlite import SqliteStore
from doclane.producers.status import StatusPublisher

__all__ = ["Services", "build_bus", "build_services", "build_store", "running"]

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    store: Store
    bus: EventBus
    blobs: BlobStore
    status: StatusPublisher
    analyzer: Analyzer
    #: Results of identical chunks and documents, so they are analysed once.
    cache: AnalysisCache
    #: CPU-heavy parsing runs here, never on the event loop.
    cpu_pool: CpuPool
    #: Turns passages and queries into vectors (the index holds this model's vectors only).
    embedder: Embedder
    #: Passages of every document for keyword, semantic and hybrid search.
    index: SearchIndex
    #: Says what kind of document an upload is; loaded by processes that extract
    #: (``None`` where the model could not be had: documents then get no type).
    classifier: DocumentClassifier | None = None
    #: The indexer finds named entities (the model is built; loaded in the CPU pool's workers).
    ner_enabled: bool = False
    #: A/B experiments on model versions (``DOCLANE_EXPERIMENTS``); ``None`` when none runs.
    experiments: Experiments | None = None
    #: Paces every AI call of the process (analysis, remote embeddings, interview replies).
    ai_limiter: AiLimiter | None = None


def build_bus(settings: Settings) -> EventBus:
    """Kafka when ``DOCLANE_KAFKA_BOOTSTRAP`` is set, else the embedded log."""
    if settings.kafka_bootstrap is not None:
        from doclane.infra.bus.kafka import KafkaBus

        return KafkaBus(
            settings.kafka_bootstrap,
            topic_prefix=settings.kafka_topic_prefix,
            partitions=settings.kafka_partitions,
            replication_factor=settings.kafka_replication_factor,
            connect_deadline_s=settings.connect_deadline_s,
        )
    return EmbeddedBus(settings.data_dir / "events.db")


def build_store(settings: Settings) -> Store:
    """MongoDB when ``DOCLANE_MONGO_URL`` is set, else the embedded SQLite store."""
    if settings.mongo_url is not None:
        from doclane.infra.store.mongo import MongoStore

        return MongoStore(settings.mongo_url.get_secret_value(), database=settings.mongo_database,
                          connect_deadline_s=settings.connect_deadline_s)
    return SqliteStore(settings.data_dir / "store.db")


def build_services(settings: Settings) -> Services:
    """Wire the adapters chosen by ``settings``; makes no connection."""
    store = build_store(settings)
    bus = build_bus(settings)
    pool = CpuPool(settings.extract_workers)
    # One limiter for every AI call of the process: analysis and remote embeddings alike.
    limiter = AiLimiter(settings.ai_requests_per_s, settings.ai_tokens_per_min, settings.ai_concurrency)
    analyzer = build_analyzer(settings, pool, limiter)
    embedder = build_embedder(settings, limiter)
    experiments = _build_experiments(settings, store, pool, limiter)
    return Services(
        settings=settings,
        store=store,
        bus=bus,
        blobs=BlobStore(settings.data_dir),
        status=StatusPublisher(store, bus),
        analyzer=analyzer,
        cache=AnalysisCache(store, analyzer, settings),
        cpu_pool=pool,
        embedder=embedder,
        index=build_search_index(settings, embedder.name, embedder.dim),
        experiments=experiments,
        ai_limiter=limiter,
    )


def _build_experiments(settings: Settings, store: Store, pool: CpuPool,
                       limiter: AiLimiter) -> Experiments | None:
    """The configured experiments (checked by the settings already), or ``None``."""
    configs = parse_experiments(settings.experiments, settings)
    if not configs:
        return None
    return Experiments(
        configs, settings, store,
        build_analyzer=lambda version: build_analyzer(analysis_settings(settings, version), pool, limiter),
        build_embedder=lambda version: build_embedder(
            settings.model_copy(update={"embeddings": "local", "embeddings_local_model": version}), limiter),
    )


@asynccontextmanager
async def running(services: Services, stages: Iterable[str]) -> AsyncIterator[Services]:
    """Open the store, start the bus with ``stages`` subscribed; close all on exit."""
    from doclane.consumers import register_stages  # consumers depend on Services

    await services.store.open()
    try:
        await services.index.open()
        try:
            stages = tuple(stages)
            if "extract" in stages:
                services.classifier = await _load_classifier(services.settings)
                if services.experiments is not None and services.classifier is not None:
                    await asyncio.to_thread(services.experiments.prepare_classifiers, services.classifier)
            if "index" in stages:
                services.ner_enabled = _ner_model_built(services.settings)
            register_stages(services, stages)
            if {"extract", "analyze"} & set(stages):
                services.cpu_pool.warm_up()
            await services.bus.start()
            try:
                yield services
            finally:
                await _close_bus(services)
        finally:
            await services.index.close()
    finally:
        services.cpu_pool.shutdown()
        await services.analyzer.close()
        await services.embedder.close()
        if services.experiments is not None:
            await services.experiments.close()
        await services.store.close()


async def _close_bus(services: Services) -> None:
    """Close the bus within the shutdown grace: a broker that went away must not keep a
    stopping process alive (an orchestrator's SIGKILL would follow anyway). Nothing is lost:
    what was not committed is redelivered to the group."""
    grace = services.settings.shutdown_grace_s
    try:
        await asyncio.wait_for(services.bus.close(), grace)
    except TimeoutError:
        logger.warning("the broker did not answer within %g s of the stop: leaving without committing; "
                       "events in flight will be redelivered to the group", grace)


async def _load_classifier(settings: Settings) -> DocumentClassifier | None:
    """The document classifier (trained first if missing and the training code is at hand)."""
    from doclane.ai.classify import ClassifierUnavailable, load_classifier

    try:
        return await asyncio.to_thread(load_classifier, settings)
    except ClassifierUnavailable as exc:
        logger.warning("documents will not be classified: %s", exc.reason)
        return None


def _ner_model_built(settings: Settings) -> bool:
    from doclane.ai.ner import model_path

    path = model_path(settings.models_dir)
    if (path / "meta.json").is_file():
        return True
    logger.warning("no entities will be extracted: the NER model is not built in %s; run `make models`",
                   path)
    return False
