"""The pipeline's stages, and the consumer groups that run them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from doclane.consumers.aggregate import aggregate_give_up, handle_chunk_result
from doclane.consumers.analyze import analyze_give_up, handle_chunk_ready
from doclane.consumers.assess import handle_interview_event
from doclane.consumers.extract import extract_give_up, handle_uploaded
from doclane.consumers.index import handle_chunk_ready_for_index, index_give_up
from doclane.consumers.runner import StageSpec, run_with_fate
from doclane.infra.bus.base import Subscription
from doclane.infra.runtime import Services
from doclane.infra.settings import Settings
from doclane.schemas.events import (
    ChunkReady,
    ChunkResult,
    DocumentStatus,
    DocumentUploaded,
    Stage,
    Topics,
    chunk_ready_topic,
)
from doclane.schemas.interviews import InterviewEvent

__all__ = ["ASSESSOR_GROUP", "STAGES", "STAGE_GROUPS", "register_stages"]

#: Stage name → consumer group, as ``doclane worker <stage>`` names them.
STAGES = ("extract", "analyze", "index", "aggregate", "assess")
#: The interview reports' group (its events are about interviews, not documents).
ASSESSOR_GROUP = "assessor"
logger = logging.getLogger(__name__)
#: Deliveries per round when several priority lanes wait: high, normal, low.
PRIORITY_WEIGHTS = (6, 3, 1)


@dataclass(frozen=True)
class _Group:
    name: str
    topics: tuple[str, ...]
    model: type[Any]
    spec: StageSpec
    concurrency: Callable[[Settings], int]
    weights: tuple[int, ...] = ()


def _ai_attempts(settings: Settings) -> int:
    return settings.ai_max_attempts


_STAGES = {
    "extract": _Group(
        "extractor", (Topics.DOCUMENT_UPLOADED,), DocumentUploaded,
        StageSpec(
            Stage.EXTRACT, handle_uploaded, extract_give_up,
            topic_of=lambda e: Topics.DOCUMENT_UPLOADED,
            max_attempts=lambda s: s.stage_max_attempts,
            working_status=DocumentStatus.PROCESSING,
        ),
        lambda s: s.extract_concurrency,
    ),
    "analyze": _Group(
        "analyzer", Topics.CHUNK_READY, ChunkReady,
        StageSpec(
            Stage.ANALYZE, handle_chunk_ready, analyze_give_up,
            topic_of=lambda e: chunk_ready_topic(e.priority),
            max_attempts=_ai_attempts,
            working_status=DocumentStatus.ANALYZING,
            describe=lambda e: f"chunk {e.chunk.index + 1} of {e.chunk_count}",
        ),
        lambda s: s.analyze_concurrency, PRIORITY_WEIGHTS,
    ),
    "index": _Group(
        # The same chunk topics as the analyzer, as an independent group with its own offsets.
        "indexer", Topics.CHUNK_READY, ChunkReady,
        StageSpec(
            Stage.INDEX, handle_chunk_ready_for_index, index_give_up,
            topic_of=lambda e: chunk_ready_topic(e.priority),
            max_attempts=lambda s: s.stage_max_attempts,
            working_status=DocumentStatus.ANALYZING,
            describe=lambda e: f"indexing chunk {e.chunk.index + 1} of {e.chunk_count}",
        ),
        lambda s: s.index_concurrency, PRIORITY_WEIGHTS,
    ),
    "aggregate": _Group(
        # Both topics are keyed by document; the bus handles one key at a time across them.
        "aggregator", (Topics.CHUNK_ANALYZED, Topics.CHUNK_INDEXED), ChunkResult,
        StageSpec(
            Stage.AGGREGATE, handle_chunk_result, aggregate_give_up,
            topic_of=lambda e: Topics.CHUNK_INDEXED if e.part == "index" else Topics.CHUNK_ANALYZED,
            # The aggregator's one remote step is the document's reduce call.
            max_attempts=_ai_attempts,
            working_status=DocumentStatus.ANALYZING,
            describe=lambda e: f"the document summary (combining {e.chunk_count} chunk results)",
        ),
        lambda s: s.aggregate_concurrency,
    ),
}


#: Stage → its consumer group and the topics it reads, as :func:`register_stages` subscribes them.
STAGE_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{name: (group.name, tuple(group.topics)) for name, group in _STAGES.items()},
    "assess": (ASSESSOR_GROUP, (Topics.INTERVIEW_EVENTS,)),
}


def _logged(handler: Callable[[InterviewEvent, Services], Awaitable[None]],
            services: Services) -> Callable[[InterviewEvent], Awaitable[None]]:
    async def handle(event: InterviewEvent) -> None:
        try:
            await handler(event, services)
        except Exception:  # the report can be made again by ending the interview again
            logger.exception("interview %s: the report could not be made", event.session_id)

    return handle


def register_stages(services: Services, stages: Iterable[str]) -> None:
    """Subscribe the consumer groups of ``stages`` on the services' bus.

    The indexer is left out where search is turned off (``DOCLANE_SEARCH_ENABLED=false``).
    """
    for name in stages:
        if name == "index" and not services.settings.search_enabled:
            continue
        if name == "assess":
            group, topics = STAGE_GROUPS[name]
            services.bus.subscribe(Subscription(
                group=group, topics=list(topics), model=InterviewEvent,
                handler=_logged(handle_interview_event, services), concurrency=2))
            continue
        spec = _STAGES.get(name)
        if spec is None:
            raise ValueError(f"unknown stage {name!r}; choose from {', '.join(STAGES)}")
        services.bus.subscribe(Subscription(
            group=spec.name,
            topics=list(spec.topics),
            model=spec.model,
            handler=run_with_fate(spec.spec, services),
            concurrency=spec.concurrency(services.settings),
            weights=spec.weights,
        ))
