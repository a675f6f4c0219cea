"""The pipeline's stages, and the consumer groups that run them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from doclane.consumers.aggregate import aggregate_give_up, handle_chunk_analyzed
from doclane.consumers.analyze import analyze_give_up, handle_chunk_ready
from doclane.consumers.extract import extract_give_up, handle_uploaded
from doclane.consumers.runner import GiveUp, StageHandler, run_with_fate
from doclane.infra.bus.base import Subscription
from doclane.infra.runtime import Services
from doclane.infra.settings import Settings
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


@dataclass(frozen=True)
class _Stage:
    group: str
    stage: Stage
    topics: tuple[str, ...]
    model: type[Any]
    handler: StageHandler[Any]
    give_up: GiveUp[Any]
    topic_of: Callable[[Any], str]
    concurrency: Callable[[Settings], int]
    weights: tuple[int, ...] = ()


_STAGES = {
    "extract": _Stage(
        "extractor", Stage.EXTRACT, (Topics.DOCUMENT_UPLOADED,), DocumentUploaded,
        handle_uploaded, extract_give_up, lambda e: Topics.DOCUMENT_UPLOADED,
        lambda s: s.extract_concurrency,
    ),
    "analyze": _Stage(
        "analyzer", Stage.ANALYZE, Topics.CHUNK_READY, ChunkReady,
        handle_chunk_ready, analyze_give_up, lambda e: chunk_ready_topic(e.priority),
        lambda s: s.analyze_concurrency, PRIORITY_WEIGHTS,
    ),
    "aggregate": _Stage(
        "aggregator", Stage.AGGREGATE, (Topics.CHUNK_ANALYZED,), ChunkAnalyzed,
        handle_chunk_analyzed, aggregate_give_up, lambda e: Topics.CHUNK_ANALYZED,
        lambda s: s.aggregate_concurrency,
    ),
}


def register_stages(services: Services, stages: Iterable[str]) -> None:
    """Subscribe the consumer groups of ``stages`` on the services' bus."""
    for name in stages:
        spec = _STAGES.get(name)
        if spec is None:
            raise ValueError(f"unknown stage {name!r}; choose from {', '.join(STAGES)}")
        services.bus.subscribe(Subscription(
            group=spec.group,
            topics=list(spec.topics),
            model=spec.model,
            handler=run_with_fate(spec.stage, spec.topic_of, spec.handler, spec.give_up, services),
            concurrency=spec.concurrency(services.settings),
            weights=spec.weights,
        ))
