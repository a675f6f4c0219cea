"""The status publisher: every status event is stored, then published.

Storing first gives the event its per-document ``seq`` and per-owner
``cursor`` atomically, so the history in the store is the truth and the
``document.status`` topic carries the same events, in the same order, as a
live feed. Callers emit a status before publishing the event that causally
follows it, which keeps each document's events in order on the topic.
"""

from __future__ import annotations

from doclane.infra.bus.base import EventBus
from doclane.infra.metrics import STATUS_EVENTS
from doclane.infra.store.base import Store
from doclane.schemas.events import StatusChange, StatusEvent, Topics

__all__ = ["StatusPublisher"]


class StatusPublisher:
    def __init__(self, store: Store, bus: EventBus) -> None:
        self._store = store
        self._bus = bus

    async def emit(self, document_id: str, change: StatusChange, *,
                   reopen: bool = False) -> StatusEvent | None:
        """Store and publish one status event; ``None`` if the document is gone or finished.

        ``reopen`` lets the event follow a terminal one (a retry of a failed document).
        """
        event = await self._store.append_status(document_id, change, allow_after_terminal=reopen)
        if event is not None:
            STATUS_EVENTS.labels(event.status.value).inc()
            await self._bus.publish(Topics.DOCUMENT_STATUS, document_id, event)
        return event
