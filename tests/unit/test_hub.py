"""The status hub delivers from the store even when a live event never arrives; open streams
end when their token is revoked or expires."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from doclane.api.hub import StatusHub, TokenWatch
from doclane.api.security import Session, User, issue_token
from doclane.api.sockets import _still_valid
from doclane.infra.bus.embedded import EmbeddedBus
from doclane.infra.store.sqlite import SqliteStore
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import DocumentStatus, Stage, StatusChange, StatusEvent

World = tuple[SqliteStore, EmbeddedBus, Callable[[float], StatusHub]]
PENDING = StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD)
PROCESSING = StatusChange(status=DocumentStatus.PROCESSING, stage=Stage.EXTRACT)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A real store and bus with document d1 of alice; hubs made with a given recheck interval."""
    store, bus = SqliteStore(tmp_path / "s.db"), EmbeddedBus(tmp_path / "e.db")
    await store.open()
    await bus.start()
    await store.create_document(DocumentRecord(
        id="d1", owner="alice", filename="a.txt", content_type="text/plain",
        size_bytes=1, sha256="0", blob_key="uploads/d1/a.txt",
    ))
    hubs: list[StatusHub] = []

    def make_hub(recheck_s: float) -> StatusHub:
        hub = StatusHub(bus, store, recheck_s=recheck_s)
        hub.start()
        hubs.append(hub)
        return hub

    yield store, bus, make_hub
    for hub in hubs:
        await hub.close()
    await bus.close()
    await store.close()


async def test_an_event_whose_publish_was_lost_still_reaches_an_idle_client(world):
    store, _, make_hub = world
    hub = make_hub(0.2)
    stream = hub.follow("alice", await hub.now("alice"))
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)  # the client is connected and idle
    # Stored, but the process "crashed" before publishing it to document.status.
    await store.append_status("d1", PENDING)
    event = await asyncio.wait_for(first, 5)
    assert (event.document_id, event.seq) == ("d1", 1)
    await stream.aclose()


async def test_a_store_error_in_one_recheck_does_not_end_the_rechecks(world):
    store, _, make_hub = world
    hub = make_hub(0.1)
    stream = hub.follow("alice", await hub.now("alice"))
    real, failed = store.latest_cursor, asyncio.Event()

    async def away_once(owner: str) -> int:
        if not failed.is_set():
            failed.set()
            raise ConnectionError("the store is away")
        return await real(owner)

    store.latest_cursor = away_once  # type: ignore[method-assign]
    first = asyncio.ensure_future(anext(stream))
    await asyncio.wait_for(failed.wait(), 5)  # a recheck with the client connected failed
    await store.append_status("d1", PENDING)  # stored, its publish lost
    event = await asyncio.wait_for(first, 5)
    assert (event.document_id, event.seq) == ("d1", 1)
    await stream.aclose()


async def test_an_event_written_just_after_a_recheck_saw_its_cursor_still_reaches_an_idle_client(world):
    store, _, make_hub = world
    hub = make_hub(0.1)
    stream = hub.follow("alice", await hub.now("alice"))
    real_latest, real_since = store.latest_cursor, store.status_events_since
    allocated, read_before_written = asyncio.Event(), asyncio.Event()

    async def counter_ahead(owner: str) -> int:
        # MongoDB: the owner's counter moves a moment before the event itself is written.
        if not allocated.is_set():
            allocated.set()
            return await real_latest(owner) + 1
        return await real_latest(owner)

    async def since(owner: str, cursor: int, limit: int) -> list[StatusEvent]:
        events = await real_since(owner, cursor, limit)
        if allocated.is_set():
            read_before_written.set()
        return events

    store.latest_cursor = counter_ahead  # type: ignore[method-assign]
    store.status_events_since = since  # type: ignore[method-assign]
    first = asyncio.ensure_future(anext(stream))
    await asyncio.wait_for(read_before_written.wait(), 5)  # the client looked: nothing yet
    await store.append_status("d1", PENDING)  # now written, its publish lost
    event = await asyncio.wait_for(first, 5)
    assert (event.document_id, event.seq) == ("d1", 1)
    await stream.aclose()


async def test_a_gap_in_the_live_feed_is_filled_from_the_store(world):
    store, bus, make_hub = world
    hub = make_hub(60)  # no help from the quiet-time recheck
    stream = hub.follow("alice", await hub.now("alice"))
    received = asyncio.ensure_future(_take(stream, 2))
    await asyncio.sleep(0.05)
    await store.append_status("d1", PENDING)  # its publish is lost
    published = await store.append_status("d1", PROCESSING)
    await bus.publish("document.status", "d1", published)
    events = await asyncio.wait_for(received, 5)
    assert [e.seq for e in events] == [1, 2]


async def _take(stream, n):
    events = []
    async for event in stream:
        events.append(event)
        if len(events) == n:
            await stream.aclose()
            return events
    return events


def _session(name: str, ttl_s: int) -> Session:
    user = User(name, "user")
    return Session(user=user, version=0, token=issue_token(user, "unit-test-secret-" * 4, ttl_s))


async def test_a_logout_ends_every_open_stream_of_that_user_and_no_one_elses(world):
    store, _, _ = world
    watch = TokenWatch(store, interval_s=0.05)
    alice, alice_again, bob = _session("alice", 3600), _session("alice", 3600), _session("bob", 3600)

    def streams(session: Session, n: int) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(watch.until_invalid(session.user.name, session.token,
                                                        _still_valid(session))) for _ in range(n)]

    alices, bobs = streams(alice, 2) + streams(alice_again, 1), streams(bob, 2)
    try:
        await store.revoke_tokens("alice")
        await asyncio.wait_for(asyncio.gather(*alices), 5)
        # The round that ended alice's streams checked bob's too: his token is still good.
        assert not any(task.done() for task in bobs)
    finally:
        for task in bobs:
            task.cancel()
        await asyncio.gather(*bobs, return_exceptions=True)
        await watch.close()


async def test_a_stream_ends_when_its_token_expires_or_the_store_cannot_say(world):
    store, _, _ = world
    watch = TokenWatch(store, interval_s=0.05)
    expired = _session("alice", -1)
    try:
        await asyncio.wait_for(watch.until_invalid("alice", expired.token, _still_valid(expired)), 5)

        async def away(user: str) -> int:
            raise ConnectionError("the store is away")

        store.token_version = away  # type: ignore[method-assign]
        fresh = _session("bob", 3600)
        await asyncio.wait_for(watch.until_invalid("bob", fresh.token, _still_valid(fresh)), 5)
    finally:
        await watch.close()
