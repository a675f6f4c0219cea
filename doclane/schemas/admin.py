"""The admin API's bodies, and the event every admin action leaves on ``admin.actions``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from doclane.schemas.documents import DocumentPublic
from doclane.schemas.events import Event, Priority, Timestamp

__all__ = [
    "ADMIN_ACTIONS_TOPIC",
    "AdminAction",
    "AuditEntry",
    "AuditTrail",
    "CancelRequest",
    "DeadLetterItem",
    "DeadLetterList",
    "GroupQueues",
    "PriorityChanged",
    "PriorityRequest",
    "QueuesResponse",
    "RedriveResponse",
    "StagePaused",
    "TopicQueue",
]

#: Every admin action is an event here, keyed by the document it is about (or
#: ``stage:<name>``, ``dlq:<id>``), so a document's audit trail shows them too.
ADMIN_ACTIONS_TOPIC = "admin.actions"

AdminActionKind = Literal["pause", "resume", "cancel", "retry", "priority", "redrive"]


class AdminAction(Event):
    """Who did what, to which stage, document or dead letter."""

    actor: str
    action: AdminActionKind
    stage: str | None = None
    document_id: str | None = None
    letter_id: str | None = None
    detail: str | None = None


class TopicQueue(BaseModel):
    """One consumer group on one topic (a priority lane, for the chunk topics)."""

    topic: str
    lane: Priority | None
    #: Records waiting to be taken (not finished and not in a handler).
    depth: int
    #: Records after the group's committed offsets.
    lag: int
    in_flight: int
    #: Age of the oldest record the group has not finished.
    oldest_waiting_s: float | None
    #: Records the group finished over the last minute.
    per_min: float
    #: Records ever published to the topic.
    end_offset: int
    committed_offset: int


class GroupQueues(BaseModel):
    group: str
    stage: str
    paused: bool
    topics: list[TopicQueue]
    #: Members running now (embedded: in this process; Kafka: those reporting), and how
    #: many of them have applied the pause (a pause reaches other processes in a moment).
    members: int
    members_paused: int


class QueuesResponse(BaseModel):
    mode: Literal["embedded", "kafka"]
    groups: list[GroupQueues]


class StagePaused(BaseModel):
    stage: str
    paused: bool


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CancelRequest(_Body):
    reason: str | None = Field(default=None, max_length=500,
                               description="Why, for the document's owner (optional).")


class PriorityRequest(_Body):
    priority: Priority


class PriorityChanged(BaseModel):
    document: DocumentPublic
    #: Events sent again on the new lane (chunks still to do, or the upload itself).
    requeued: int


class DeadLetterItem(BaseModel):
    id: str
    stage: str
    topic: str
    document_id: str | None
    error: str
    category: str | None
    attempts: int
    failed_at: Timestamp
    redriven: bool
    #: Where the dead letter sits on ``document.dlq``.
    partition: int
    offset: int


class DeadLetterList(BaseModel):
    items: list[DeadLetterItem]


class RedriveResponse(BaseModel):
    id: str
    redriven: bool


class AuditEntry(BaseModel):
    topic: str
    partition: int
    offset: int
    timestamp: Timestamp | None
    key: str
    #: The event's model: DocumentUploaded, ChunkReady, StatusEvent, AdminAction, ...
    type: str
    payload: dict[str, Any]


class AuditTrail(BaseModel):
    document_id: str
    count: int
    events: list[AuditEntry]
