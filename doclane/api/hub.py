"""Fan-out of ``document.status`` to each connected client of the right owner.

The hub tails the topic once per gateway process and hands each event to the
queues of that owner's clients. A pushed event is only a hint: each client's
:func:`follow` loop catches up from the store first, fills any gap it notices
from the store, and drops what it has already sent, so a client sees every
event of its owner exactly once, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

from doclane.infra.bus.base import EventBus
from doclane.infra.store.base import Store
from doclane.infra.supervise import supervised
from doclane.schemas.events import StatusEvent, Topics

__all__ = ["StatusHub"]

logger = logging.getLogger(__name__)

_QUEUE_SIZE = 256
_BATCH = 500
_GAP_WAIT_S = 30.0
_GAP_POLL_S = 0.05
_RECHECK_S = 15.0
_RESYNC = object()  # queued when a slow client overflowed: catch up from the store


class StatusHub:
    def __init__(self, bus: EventBus, store: Store, recheck_s: float = _RECHECK_S) -> None:
        self._bus = bus
        self._store = store
        self._recheck_s = recheck_s
        self._clients: dict[str, set[asyncio.Queue[object]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    @property
    def client_count(self) -> int:
        return sum(len(qs) for qs in self._clients.values())

    def start(self) -> None:
        self._task = supervised(self._pump(), name="status-hub")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _pump(self) -> None:
        async for event in self._bus.tail(Topics.DOCUMENT_STATUS, StatusEvent):
            for queue in tuple(self._clients.get(event.owner, ())):
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    # Never block the hub on one slow client: it re-reads the store.
                    while not queue.empty():
                        queue.get_nowait()
                    queue.put_nowait(_RESYNC)

    async def now(self, owner: str) -> int:
        """The owner's current cursor: ``follow`` from it to get only what happens next.

        Read it before telling the client it is connected, so that nothing
        stored after that moment can be missed.
        """
        return await self._store.latest_cursor(owner)

    async def follow(self, owner: str, since: int) -> AsyncIterator[StatusEvent]:
        """The owner's status events after cursor ``since``, in order, forever."""
        queue: asyncio.Queue[object] = asyncio.Queue(_QUEUE_SIZE)
        self._clients[owner].add(queue)  # before catching up, so nothing falls between
        try:
            last = since
            behind = True
            while True:
                if behind:
                    async for event in self._catch_up(owner, last):
                        last = event.cursor
                        yield event
                    behind = False
                try:
                    item = await asyncio.wait_for(queue.get(), self._recheck_s)
                except TimeoutError:
                    # Quiet for a while: look at the store in case a publish was
                    # lost (a writer crashed between storing and publishing).
                    behind = True
                    continue
                if item is _RESYNC:
                    behind = True
                    continue
                if not isinstance(item, StatusEvent):
                    continue
                if item.cursor == last + 1:
                    last = item.cursor
                    yield item
                elif item.cursor > last + 1:
                    # A gap (an event published out of order or dropped): the store
                    # already holds it, because events are stored before publishing.
                    behind = True
        finally:
            self._clients[owner].discard(queue)
            if not self._clients[owner]:
                del self._clients[owner]

    async def _catch_up(self, owner: str, last: int) -> AsyncIterator[StatusEvent]:
        """Events after ``last`` from the store, in cursor order, never skipping one.

        Cursors have no gaps (deleted documents leave tombstones, which are not
        sent), but without transactions (MongoDB) a cursor is allocated a moment
        before its event is written, so a newer event can be visible first: a gap
        is an event still being written, and is waited for. Only a writer that
        crashed between the two steps leaves a gap for good; after
        ``_GAP_WAIT_S`` it is skipped.
        """
        loop = asyncio.get_running_loop()
        gap_since: float | None = None
        while True:
            batch = await self._store.status_events_since(owner, last, _BATCH)
            for event in batch:
                if event.cursor != last + 1 and not self._store.atomic_cursors:
                    gap_since = gap_since if gap_since is not None else loop.time()
                    if loop.time() - gap_since < _GAP_WAIT_S:
                        break  # wait for the missing event, then read again
                    logger.warning("skipping status cursors %d-%d of %s: never written",
                                   last + 1, event.cursor - 1, owner)
                gap_since = None
                last = event.cursor
                if not event.tombstone:
                    yield event
            else:
                if len(batch) < _BATCH:
                    return
                continue
            await asyncio.sleep(_GAP_POLL_S)
