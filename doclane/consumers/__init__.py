"""The pipeline's stages, and the consumer groups that run them."""

from __future__ import annotations

from collections.abc import Iterable

from doclane.consumers.aggregate import aggregate_give_up, handle_chunk_analyzed
from doclane.consumers.analyze import analyze_give_up, handle_chunk_ready
from doclane.consumers.extract import extract_give_up, handle_uploaded
from doclane.consumers.runner import run_with_fate
from doclane.infra.bus.base import Subscription
from doclane.infra.runtime import Services
from doclane.schemas.events import (
    ChunkAnalyzed,
    ChunkReady,
    DocumentUploaded,
    Stage,
    Topics,
    chunk_ready_topic,
)

__all__ = ["STAGES", "register_stages"]

#: Stage name → consumer group, as ``doclane worker <stage>`` names them.
STAGES = ("extract", "analyze", "aggregate")
#: Deliveries per round when several priority lanes wait: high, normal, low.
PRIORITY_WEIGHTS = (6, 3, 1)


def register_stages(services: Services, stages: Iterable[str]) -> None:
    """Subscribe the consumer groups of ``stages`` on the services' bus."""
    bus, settings = services.bus, services.settings
    for stage in stages:
        if stage == "extract":
            bus.subscribe(Subscription(
                group="extractor",
                topics=[Topics.DOCUMENT_UPLOADED],
                model=DocumentUploaded,
                handler=run_with_fate(
                    Stage.EXTRACT, lambda e: Topics.DOCUMENT_UPLOADED,
                    handle_uploaded, extract_give_up, services,
                ),
                concurrency=settings.extract_concurrency,
            ))
        elif stage == "analyze":
            bus.subscribe(Subscription(
                group="analyzer",
                topics=list(Topics.CHUNK_READY),
                model=ChunkReady,
                handler=run_with_fate(
                    Stage.ANALYZE, lambda e: chunk_ready_topic(e.priority),
                    handle_chunk_ready, analyze_give_up, services,
                ),
                concurrency=settings.analyze_concurrency,
                weights=PRIORITY_WEIGHTS,
            ))
        elif stage == "aggregate":
            bus.subscribe(Subscription(
                group="aggregator",
                topics=[Topics.CHUNK_ANALYZED],
                model=ChunkAnalyzed,
                handler=run_with_fate(
                    Stage.AGGREGATE, lambda e: Topics.CHUNK_ANALYZED,
                    handle_chunk_analyzed, aggregate_give_up, services,
                ),
                concurrency=settings.aggregate_concurrency,
            ))
        else:
            raise ValueError(f"unknown stage {stage!r}; choose from {', '.join(STAGES)}")
