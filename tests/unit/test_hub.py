"""The status hub delivers from the store even when a live event never arrives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from doclane.api.hub import StatusHub
from doclane.infra.bus.embedded import EmbeddedBus
from doclane.infra.store.sqlite import SqliteStore
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import DocumentStatus, Stage, StatusChange

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
