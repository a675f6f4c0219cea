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
_GAP_STORE_CHECK_S = 0.5
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
        """The owner's status events after cursor ``since``, in cursor order, forever.

        Events come from the store when the client connects, falls behind or
        has been quiet for a while, and otherwise from the live feed. Cursors
        have no gaps (deleted documents leave tombstones, which are not sent),
        but without transactions (MongoDB) a cursor is allocated a moment before
        its event is written, so a newer event can arrive first: it is held back
        until the older one arrives, live or from the store. Only a writer that
        crashed between the two steps leaves a gap for good; after
        ``_GAP_WAIT_S`` it is skipped.
        """
        queue: asyncio.Queue[object] = asyncio.Queue(_QUEUE_SIZE)
        self._clients[owner].add(queue)  # before reading the store, so nothing falls between
        loop = asyncio.get_running_loop()
        last = since
        held: dict[int, StatusEvent] = {}  # events that arrived before an older one
        gap_since: float | None = None
        read_store = True
        try:
            while True:
                if read_store:
                    batch = await self._store.status_events_since(owner, last, _BATCH)
                    for event in batch:
                        held.setdefault(event.cursor, event)
                    read_store = len(batch) == _BATCH  # more to read after these
                while last + 1 in held:
                    event = held.pop(last + 1)
                    last = event.cursor
                    if not event.tombstone:
                        yield event
                for cursor in [c for c in held if c <= last]:
                    del held[cursor]
                if read_store:
                    continue
                timeout = self._recheck_s
                if held:
                    if gap_since is None:  # a new gap: the store may already have it
                        gap_since, read_store = loop.time(), True
                        continue
                    waited = loop.time() - gap_since
                    if self._store.atomic_cursors or waited > _GAP_WAIT_S:
                        logger.warning("skipping status cursors %d-%d of %s: never written",
                                       last + 1, min(held) - 1, owner)
                        last = min(held) - 1
                        continue
                    timeout = _GAP_STORE_CHECK_S
                else:
                    gap_since = None
                try:
                    item = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    # Quiet, or a gap that the live feed has not filled: ask the store
                    # (a publish may have been lost between storing and publishing).
                    read_store = True
                    continue
                if isinstance(item, StatusEvent):
                    if item.cursor > last:
                        held[item.cursor] = item
                else:  # _RESYNC: this client fell behind and its queue was emptied
                    read_store = True
        finally:
            self._clients[owner].discard(queue)
            if not self._clients[owner]:
                del self._clients[owner]
