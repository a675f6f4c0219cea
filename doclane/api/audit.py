"""A document's audit trail, read back from the topics (not from the store's projections)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status

from doclane.api.deps import CurrentUser, ServicesDep
from doclane.infra.bus.base import BusRecord, EventBus
from doclane.schemas.admin import ADMIN_ACTIONS_TOPIC, AuditEntry, AuditTrail
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import Topics

__all__ = ["AUDITED_TOPICS", "router"]

router = APIRouter(prefix="/documents", tags=["documents"])

#: Every topic that carries a document's events, with the model of its events.
AUDITED_TOPICS: dict[str, str] = {
    Topics.DOCUMENT_UPLOADED: "DocumentUploaded",
    **dict.fromkeys(Topics.CHUNK_READY, "ChunkReady"),
    Topics.CHUNK_ANALYZED: "ChunkAnalyzed",
    Topics.CHUNK_INDEXED: "ChunkIndexed",
    Topics.DOCUMENT_STATUS: "StatusEvent",
    Topics.DOCUMENT_DLQ: "DeadLetter",
    ADMIN_ACTIONS_TOPIC: "AdminAction",
}
#: Records are read from the document's creation on, less this much for clocks of
#: other hosts that run behind the gateway's.
_CLOCK_SKEW = timedelta(minutes=5)


async def _owned_or_admin(document_id: str, user: CurrentUser, services: ServicesDep) -> DocumentRecord:
    doc = await services.store.get_document(document_id)
    # Another user's document answers exactly like a missing one.
    if doc is None or (doc.owner != user.name and user.role != "admin"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No document with id '{document_id[:64]}'.")
    return doc


async def _read(bus: EventBus, topic: str, doc: DocumentRecord) -> list[BusRecord]:
    return [r async for r in bus.records(topic, key=doc.id, since=doc.created_at - _CLOCK_SKEW)]


def _entry(record: BusRecord) -> AuditEntry:
    payload: dict[str, Any] = json.loads(record.value)
    return AuditEntry(topic=record.topic, partition=record.partition, offset=record.offset,
                      timestamp=record.timestamp, key=record.key, type=AUDITED_TOPICS[record.topic],
                      payload=payload)


@router.get("/{document_id}/audit", responses={404: {"description": "No such document of yours"}})
async def audit_trail(
    doc: Annotated[DocumentRecord, Depends(_owned_or_admin)], services: ServicesDep,
) -> AuditTrail:
    """Every event of the document on every topic, in time order, with where it sits in the log."""
    found = await asyncio.gather(*(_read(services.bus, topic, doc) for topic in AUDITED_TOPICS))
    records = sorted((r for rs in found for r in rs),
                     key=lambda r: (r.timestamp is None, r.timestamp, r.topic, r.partition, r.offset))
    return AuditTrail(document_id=doc.id, count=len(records), events=[_entry(r) for r in records])
