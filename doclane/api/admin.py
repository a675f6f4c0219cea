"""Admin routes: queues, pausing stages, steering documents, dead letters (admin role only).

Every action is audited twice: as an :class:`~doclane.schemas.admin.AdminAction`
on the ``admin.actions`` topic (keyed by the document, so it is part of the
document's audit trail), and, for a document, as a status event with a detail
its owner sees on the stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status

from doclane.api.deps import AdminUser, ServicesDep, require_admin
from doclane.consumers import STAGE_GROUPS
from doclane.infra.metrics import QUEUE_DEPTH, QUEUE_LAG, QUEUE_OLDEST_WAITING_SECONDS
from doclane.infra.runtime import Services
from doclane.producers.uploads import retry_document
from doclane.schemas.admin import (
    ADMIN_ACTIONS_TOPIC,
    AdminAction,
    CancelRequest,
    DeadLetterItem,
    DeadLetterList,
    GroupQueues,
    PriorityChanged,
    PriorityRequest,
    QueuesResponse,
    RedriveResponse,
    StagePaused,
    TopicQueue,
)
from doclane.schemas.documents import DocumentPublic, DocumentRecord
from doclane.schemas.events import (
    ChunkReady,
    ChunkResult,
    DeadLetter,
    DocumentStatus,
    DocumentUploaded,
    Event,
    Priority,
    Stage,
    StatusChange,
    Topics,
    chunk_ready_topic,
    utcnow,
)
from doclane.schemas.extraction import Chunk

__all__ = ["export_queue_metrics", "router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

_LANES = {chunk_ready_topic(p): p for p in Priority}


def _group_of(stage: str) -> str:
    if stage not in STAGE_GROUPS:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"Unknown stage '{stage[:40]}'; choose one of {', '.join(STAGE_GROUPS)}.")
    return STAGE_GROUPS[stage][0]


async def _audit(services: Services, key: str, action: AdminAction) -> None:
    await services.bus.publish(ADMIN_ACTIONS_TOPIC, key, action)


# --- queues and stages ---


@router.get("/queues")
async def queues(services: ServicesDep) -> QueuesResponse:
    """Backlog of every stage's consumer group, per topic and priority lane."""
    stages = [s for s in STAGE_GROUPS if s != "index" or services.settings.search_enabled]
    backlogs = await asyncio.gather(
        *(services.bus.backlog(STAGE_GROUPS[s][0], STAGE_GROUPS[s][1]) for s in stages))
    paused = await services.bus.paused_groups()
    groups = []
    for stage, backlog in zip(stages, backlogs, strict=True):
        group = STAGE_GROUPS[stage][0]
        groups.append(GroupQueues(group=group, stage=stage, paused=group in paused, topics=[
            TopicQueue(topic=b.topic, lane=_LANES.get(b.topic), depth=b.depth, lag=b.lag,
                       in_flight=b.in_flight, oldest_waiting_s=b.oldest_waiting_s,
                       per_min=float(b.done_last_min), end_offset=b.end,
                       committed_offset=b.committed)
            for b in backlog.topics
        ], members=backlog.members, members_paused=backlog.members_paused))
    mode = "kafka" if services.settings.kafka_bootstrap is not None else "embedded"
    return QueuesResponse(mode=mode, groups=groups)


async def export_queue_metrics(services: Services, every_s: float) -> None:
    """Keep the queue gauges of ``/metrics`` at the figures of ``GET /admin/queues``, for
    Prometheus and Grafana (a scrape cannot wait for the broker; this task does)."""
    while True:
        try:
            answer = await queues(services)
        except Exception as exc:  # the broker may be restarting: keep the last figures, try again
            logger.warning("queue metrics not updated: %s", exc)
        else:
            for group in answer.groups:
                for topic in group.topics:
                    QUEUE_LAG.labels(group.group, topic.topic).set(topic.lag)
                    QUEUE_DEPTH.labels(group.group, topic.topic).set(topic.depth)
                    QUEUE_OLDEST_WAITING_SECONDS.labels(group.group, topic.topic).set(
                        topic.oldest_waiting_s or 0)
        await asyncio.sleep(every_s)


async def _set_paused(services: Services, admin: str, stage: str, paused: bool) -> StagePaused:
    group = _group_of(stage)
    await services.bus.set_paused(group, paused)
    await _audit(services, f"stage:{stage}", AdminAction(
        actor=admin, action="pause" if paused else "resume", stage=stage))
    return StagePaused(stage=stage, paused=paused)


@router.post("/stages/{stage}/pause", responses={404: {"description": "Unknown stage"}})
async def pause_stage(stage: str, admin: AdminUser, services: ServicesDep) -> StagePaused:
    """Stop the stage's members (in every process) from taking new records; handlers finish."""
    return await _set_paused(services, admin.name, stage, True)


@router.post("/stages/{stage}/resume", responses={404: {"description": "Unknown stage"}})
async def resume_stage(stage: str, admin: AdminUser, services: ServicesDep) -> StagePaused:
    """Let the stage's members take records again."""
    return await _set_paused(services, admin.name, stage, False)


# --- documents ---


async def _document(services: Services, document_id: str) -> DocumentRecord:
    doc = await services.store.get_document(document_id)
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No document with id '{document_id[:64]}'.")
    return doc


def _public(doc: DocumentRecord) -> DocumentPublic:
    return DocumentPublic.model_validate(doc.model_dump())


async def _current_stage(services: Services, document_id: str) -> Stage:
    history = await services.store.status_history(document_id)
    return history[-1].stage if history else Stage.UPLOAD


def _unfinished_or_409(doc: DocumentRecord, what: str) -> None:
    if doc.status.terminal:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"The document is already {doc.status.value}; only a document in "
                            f"progress can be {what}.")


@router.post("/documents/{document_id}/cancel",
             responses={404: {"description": "No such document"},
                        409: {"description": "The document has already finished"}})
async def cancel(document_id: str, admin: AdminUser, services: ServicesDep,
                 body: Annotated[CancelRequest | None, Body()] = None) -> DocumentPublic:
    """Stop a document's processing: it fails with category ``cancelled``."""
    doc = await _document(services, document_id)
    _unfinished_or_409(doc, "cancelled")
    reason = f"Cancelled by an administrator ({admin.name})" + (
        f": {body.reason}" if body and body.reason else ".")
    change = StatusChange.failed(await _current_stage(services, doc.id), reason, "cancelled")
    event = await services.status.emit(doc.id, change)
    if event is None:  # finished or deleted since it was read
        raise HTTPException(status.HTTP_409_CONFLICT, "The document finished before it could be cancelled.")
    await _audit(services, doc.id, AdminAction(actor=admin.name, action="cancel", document_id=doc.id,
                                               detail=reason))
    return _public(await _document(services, doc.id))


@router.post("/documents/{document_id}/retry", status_code=status.HTTP_202_ACCEPTED,
             responses={404: {"description": "No such document"},
                        409: {"description": "The document has not failed"}})
async def retry(document_id: str, admin: AdminUser, services: ServicesDep) -> DocumentPublic:
    """Process a failed (or cancelled) document again; finished chunks are kept."""
    doc = await _document(services, document_id)
    record = await retry_document(services, doc)
    await _audit(services, doc.id, AdminAction(actor=admin.name, action="retry", document_id=doc.id))
    return _public(record)


@router.post("/documents/{document_id}/priority",
             responses={404: {"description": "No such document"},
                        409: {"description": "The document has already finished"}})
async def set_priority(document_id: str, body: PriorityRequest, admin: AdminUser,
                       services: ServicesDep) -> PriorityChanged:
    """Move a document's remaining work to another priority lane."""
    doc = await _document(services, document_id)
    _unfinished_or_409(doc, "moved to another lane")
    if body.priority is doc.priority:
        return PriorityChanged(document=_public(doc), requeued=0)
    store, new = services.store, body.priority
    # An administrator's choice, like an uploader's, wins over the lane the type would give.
    await store.update_document(doc.id, priority=new, priority_explicit=True)
    # From now on, copies published on the old lane are skipped (consumers.runner).
    await store.move_lane(doc.id, new)
    requeued = await _requeue(services, doc.model_copy(update={"priority": new}))
    detail = f"Moved from the {doc.priority.value} to the {new.value} priority lane by an administrator"
    await services.status.emit(doc.id, StatusChange(
        status=doc.status, stage=await _current_stage(services, doc.id),
        detail=f"{detail}; {requeued} item(s) requeued."))
    await _audit(services, doc.id, AdminAction(actor=admin.name, action="priority", document_id=doc.id,
                                               detail=f"{doc.priority.value} -> {new.value}"))
    return PriorityChanged(document=_public(await _document(services, doc.id)), requeued=requeued)


async def _requeue(services: Services, doc: DocumentRecord) -> int:
    """Publish the document's remaining work on its (new) lane; how many events."""
    chunks = await services.store.list_chunks(doc.id)
    if not chunks:  # not extracted yet: the extractor publishes on the lane of this event
        # A dict, so that fields newer than this code (an explicit-priority flag) are set too.
        await services.bus.publish(Topics.DOCUMENT_UPLOADED, doc.id, DocumentUploaded.model_validate({
            "document_id": doc.id, "owner": doc.owner, "filename": doc.filename,
            "content_type": doc.content_type, "blob_key": doc.blob_key,
            "size_bytes": doc.size_bytes, "sha256": doc.sha256, "priority": doc.priority,
            "priority_explicit": True,
        }))
        return 1
    indexing = services.settings.search_enabled
    pending = [c for c in chunks if c.analysis is None or (indexing and c.indexed_at is None)]
    for chunk in pending:
        await services.bus.publish(chunk_ready_topic(doc.priority), f"{doc.id}:{chunk.index}", ChunkReady(
            document_id=doc.id, owner=doc.owner, chunk=Chunk.model_validate(chunk.model_dump()),
            chunk_count=doc.chunk_count or len(chunks), priority=doc.priority))
    return len(pending)


# --- dead letters ---


async def _dead_letters(services: Services) -> list[DeadLetterItem]:
    redriven = await services.store.redriven_letters()
    items = []
    async for record in services.bus.records(Topics.DOCUMENT_DLQ):
        letter = DeadLetter.model_validate_json(record.value)
        items.append(DeadLetterItem(
            id=letter.event_id, stage=letter.stage.value, topic=letter.topic,
            document_id=letter.document_id, error=letter.error, category=letter.category,
            attempts=letter.attempts, failed_at=letter.produced_at, redriven=letter.event_id in redriven,
            partition=record.partition, offset=record.offset,
        ))
    return items


@router.get("/dlq")
async def dead_letters(
    services: ServicesDep,
    stage: Annotated[Stage | None, Query(description="Only dead letters of this stage.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="1-1000, newest first.")] = 200,
) -> DeadLetterList:
    """Events the stages gave up on, newest first, with the error and the attempts made."""
    items = [i for i in await _dead_letters(services) if stage is None or i.stage == stage.value]
    items.sort(key=lambda i: i.failed_at, reverse=True)
    return DeadLetterList(items=items[:limit])


def _original(letter: DeadLetter) -> tuple[str, Event]:
    """The dead letter's event as it is sent back (as a new publication), with its key."""
    data = json.loads(letter.payload)
    data.pop("event_id", None)
    data["produced_at"] = utcnow()
    if letter.topic.startswith("chunk.ready."):
        ready = ChunkReady.model_validate(data)
        return f"{ready.document_id}:{ready.chunk.index}", ready
    model: type[Event] = DocumentUploaded if letter.topic == Topics.DOCUMENT_UPLOADED else ChunkResult
    return letter.document_id or "", model.model_validate(data)


@router.post("/dlq/{letter_id}/redrive", status_code=status.HTTP_202_ACCEPTED,
             responses={404: {"description": "No such dead letter"},
                        409: {"description": "Already redriven"}})
async def redrive(letter_id: str, admin: AdminUser, services: ServicesDep) -> RedriveResponse:
    """Send a dead letter's event back to its topic (reopening its failed document)."""
    letter = None
    async for record in services.bus.records(Topics.DOCUMENT_DLQ):
        candidate = DeadLetter.model_validate_json(record.value)
        if candidate.event_id == letter_id:
            letter = candidate
            break
    if letter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No dead letter with id '{letter_id[:64]}'; "
                            "GET /admin/dlq lists them.")
    if not await services.store.mark_redriven(letter.event_id):
        raise HTTPException(status.HTTP_409_CONFLICT, "This dead letter was already redriven.")
    doc = await services.store.get_document(letter.document_id) if letter.document_id else None
    if doc is not None and doc.status is DocumentStatus.FAILED:
        # The stages skip failed documents: reopen it as a retry does, which also requeues
        # the chunks that were dropped when it failed.
        await retry_document(services, doc)
    key, event = _original(letter)
    await services.bus.publish(letter.topic, key, event)
    await _audit(services, letter.document_id or f"dlq:{letter.event_id}", AdminAction(
        actor=admin.name, action="redrive", document_id=letter.document_id, letter_id=letter.event_id,
        stage=letter.stage.value, detail=f"sent back to {letter.topic}"))
    return RedriveResponse(id=letter.event_id, redriven=True)
