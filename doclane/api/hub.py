"""Fan-out of ``document.status`` to each connected client of the right owner.

The hub tails the topic once per gateway process and hands each event to the
queues of that owner's clients. A pushed event is only a hint: each client's
:func:`follow` loop catches up from the store first, fills any gap it notices
from the store, and drops what it has already sent, so a client sees every
event of its owner exactly once, in order.

What does not depend on the client is done once per owner, not once per
connection, so an idle connection costs memory and nothing else: the quiet-time
check for an event whose publish was lost is one cursor read per owner (its
clients read the store only when it finds one), an event is encoded once for
all of its owner's clients (:meth:`StatusHub.encode`), and the check that an
open stream's token was not revoked is one token-version read a second per user
(:class:`TokenWatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

from cachetools import LRUCache

from doclane.infra.bus.base import EventBus
from doclane.infra.store.base import Store
from doclane.infra.supervise import supervised
from doclane.schemas.events import StatusEvent, Topics

__all__ = ["StatusHub", "TokenWatch"]

logger = logging.getLogger(__name__)

_QUEUE_SIZE = 256
_BATCH = 500
_GAP_WAIT_S = 30.0
_GAP_STORE_CHECK_S = 0.5
_RECHECK_S = 15.0
_RESYNC = object()  # queued when a slow client overflowed or a publish was lost: read the store
_ENCODED = 4096  # events whose encoding is kept for the owner's other clients


class StatusHub:
    def __init__(self, bus: EventBus, store: Store, recheck_s: float = _RECHECK_S) -> None:
        self._bus = bus
        self._store = store
        self._recheck_s = recheck_s
        self._clients: dict[str, set[asyncio.Queue[object]]] = defaultdict(set)
        #: Per owner with clients: the newest cursor the hub knows of (live or from the store).
        self._known: dict[str, int] = {}
        self._encoded: LRUCache[tuple[str, int], str] = LRUCache(_ENCODED)
        self._tasks: list[asyncio.Task[None]] = []
        self.tokens = TokenWatch(store)

    @property
    def client_count(self) -> int:
        return sum(len(qs) for qs in self._clients.values())

    def start(self) -> None:
        self._tasks = [supervised(self._pump(), name="status-hub"),
                       supervised(self._recheck(), name="status-hub-recheck")]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.tokens.close()

    def encode(self, event: StatusEvent) -> str:
        """``event`` as JSON, encoded once however many of its owner's clients send it."""
        key = (event.owner, event.cursor)
        text = self._encoded.get(key)
        if text is None:
            text = self._encoded[key] = event.model_dump_json()
        return text

    @staticmethod
    def _offer(queue: asyncio.Queue[object], item: object) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            # Never block the hub on one slow client: it re-reads the store.
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_RESYNC)

    def _saw(self, owner: str, cursor: int) -> None:
        if owner in self._clients and cursor > self._known.get(owner, 0):
            self._known[owner] = cursor

    async def _pump(self) -> None:
        async for event in self._bus.tail(Topics.DOCUMENT_STATUS, StatusEvent):
            queues = self._clients.get(event.owner)
            if not queues:
                continue
            self._saw(event.owner, event.cursor)
            for queue in tuple(queues):
                self._offer(queue, event)

    async def _recheck(self) -> None:
        """Every ``recheck_s``, one cursor read per owner with clients: when the store holds
        an event newer than any the hub has seen (its publish was lost), the owner's clients
        catch up from the store. Idle clients otherwise never ask the store anything."""
        while True:
            await asyncio.sleep(self._recheck_s)
            try:
                await self._recheck_owners()
            except Exception as exc:  # the store is away for now: the next round tries again
                logger.warning("rechecking the status of open streams failed (%s); again in %.1f s",
                               exc, self._recheck_s)

    async def _recheck_owners(self) -> None:
        for owner in tuple(self._clients):
            latest = await self._store.latest_cursor(owner)
            # ``_known`` moves when a client reads the events, not here: without transactions
            # (MongoDB) the cursor is allocated before its event is written, and a client
            # that looked too early must be woken again at the next round.
            if latest > self._known.get(owner, latest) and owner in self._clients:
                for queue in tuple(self._clients[owner]):
                    self._offer(queue, _RESYNC)

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
        self._known.setdefault(owner, since)
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
                    if batch:
                        self._saw(owner, batch[-1].cursor)
                while last + 1 in held:
                    event = held.pop(last + 1)
                    last = event.cursor
                    if not event.tombstone:
                        yield event
                for cursor in [c for c in held if c <= last]:
                    del held[cursor]
                if read_store:
                    continue
                timeout: float | None = None  # quiet: the hub's recheck wakes this client
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
                    # A gap that the live feed has not filled: ask the store (a publish
                    # may have been lost between storing and publishing).
                    read_store = True
                    continue
                if isinstance(item, StatusEvent):
                    if item.cursor > last:
                        held[item.cursor] = item
                else:  # _RESYNC: this client fell behind, or the store has what the feed lost
                    read_store = True
        finally:
            self._clients[owner].discard(queue)
            if not self._clients[owner]:
                del self._clients[owner]
                self._known.pop(owner, None)


class TokenWatch:
    """Notices when the token an open stream was opened with stops being valid (a logout
    moves the user's token version in the store; a token expires).

    One task reads the token version of each user with open streams, once per interval
    however many streams the user has, and runs each distinct token's check (cheap: a
    version and an expiry compared). The interval is ``interval_s`` (a logout closes the
    streams within it) until that would mean more than ``max_reads_per_s`` store reads a
    second; with more users than that it stretches to ``users / max_reads_per_s``, so a
    gateway with thousands of idle users does not spend its store on this.
    """

    def __init__(self, store: Store, interval_s: float = 1.0, max_reads_per_s: float = 250) -> None:
        self._store = store
        self._interval_s = interval_s
        self._max_reads_per_s = max_reads_per_s
        #: user → token → what each of that token's streams waits on.
        self._waiters: dict[str, dict[str, list[asyncio.Future[None]]]] = {}
        self._checks: dict[str, Callable[[int], bool]] = {}  # token → valid at this version?
        self._task: asyncio.Task[None] | None = None

    @property
    def interval_s(self) -> float:
        """How long a revoked token's streams stay open at most, with the users watched now."""
        return max(self._interval_s, len(self._waiters) / self._max_reads_per_s)

    async def until_invalid(self, user: str, token: str, valid: Callable[[int], bool]) -> None:
        """Returns once ``valid(version)`` is false for the user's current token version."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        tokens = self._waiters.setdefault(user, {})
        tokens.setdefault(token, []).append(future)
        self._checks[token] = valid
        if self._task is None or self._task.done():
            self._task = supervised(self._watch(), name="token-watch")  # its death: unhealthy, not silent
        try:
            await future
        finally:
            waiting = tokens.get(token)
            if waiting is not None:
                with contextlib.suppress(ValueError):
                    waiting.remove(future)
                if not waiting:
                    del tokens[token]
                    self._checks.pop(token, None)
            if not tokens and self._waiters.get(user) is tokens:
                del self._waiters[user]

    async def _watch(self) -> None:
        while self._waiters:
            await asyncio.sleep(self.interval_s)
            for user in tuple(self._waiters):
                try:
                    version = await self._store.token_version(user)
                except Exception as exc:  # a store that fails: the streams end, not go unchecked
                    logger.warning("checking the tokens of %s failed (%s); closing their streams",
                                   user, exc)
                    version = None
                for token, futures in tuple(self._waiters.get(user, {}).items()):
                    if version is None or not self._checks[token](version):
                        for future in futures:
                            if not future.done():
                                future.set_result(None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
