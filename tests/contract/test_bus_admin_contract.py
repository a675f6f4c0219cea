"""What every EventBus adapter promises operators: backlogs, pauses, records with metadata."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import timedelta

from doclane.infra.bus.base import Subscription, TopicBacklog
from doclane.schemas.events import Event, utcnow
from tests.utils.waiting import eventually


class Note(Event):
    key: str
    n: int


def _topic() -> str:
    return f"test.{uuid.uuid4().hex[:8]}"


async def test_backlog_and_pause_of_a_group(bus_factory):
    topic, started = _topic(), []
    releases: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def handler(note: Note) -> None:
        started.append(note.n)
        await releases[note.n].wait()

    def member():
        bus = bus_factory()
        bus.subscribe(Subscription("g", [topic], Note, handler))
        return bus

    async def backlog_of(bus) -> TopicBacklog:
        [backlog] = (await bus.backlog("g", [topic])).topics
        return backlog

    bus = member()
    await bus.start()
    try:
        for n in range(3):  # one key: handled one at a time
            await bus.publish(topic, "k", Note(key="k", n=n))
        await eventually(lambda: started == [0], timeout_s=30, what="the first record")

        async def one_in_flight() -> bool:
            b = await backlog_of(bus)
            return (b.end, b.committed, b.in_flight, b.lag, b.depth) == (3, 0, 1, 3, 2)
        await eventually(one_in_flight, timeout_s=20, interval_s=0.2, what="one record in flight")
        assert (await backlog_of(bus)).oldest_waiting_s is not None

        # Paused: the record in the handler finishes, the next one is not started.
        await bus.set_paused("g", True)
        assert await bus.paused_groups() == {"g"}

        async def member_paused() -> bool:
            group = await bus.backlog("g", [topic])
            return (group.members, group.members_paused) == (1, 1)
        await eventually(member_paused, timeout_s=20, interval_s=0.2, what="the member paused")
        releases[0].set()

        async def first_done() -> bool:
            b = await backlog_of(bus)
            return (b.committed, b.in_flight, b.done_last_min, b.depth) == (1, 0, 1, 2)
        await eventually(first_done, timeout_s=20, interval_s=0.2, what="the first record done")
        assert started == [0]
    finally:
        await bus.close()

    # The pause outlives the process: a member started now takes nothing until resumed.
    bus = member()
    await bus.start()
    try:
        assert await bus.paused_groups() == {"g"}
        assert started == [0]
        releases[1].set()
        releases[2].set()
        await bus.set_paused("g", False)
        assert await bus.paused_groups() == set()
        await eventually(lambda: started == [0, 1, 2], timeout_s=30, what="the rest after resume")

        async def drained() -> bool:
            b = await backlog_of(bus)
            return (b.lag, b.depth, b.oldest_waiting_s) == (0, 0, None)
        await eventually(drained, timeout_s=20, interval_s=0.2, what="an empty backlog")
    finally:
        await bus.close()


async def test_records_come_back_with_their_place_time_and_key(bus_factory):
    topic = _topic()
    bus = bus_factory()
    await bus.start()
    try:
        before = utcnow()
        for n, key in enumerate(["d1", "d1:0", "d10", "d2", "d1:1"]):
            await bus.publish(topic, key, Note(key=key, n=n))
        mine = [r async for r in bus.records(topic, key="d1")]
        everything = [r async for r in bus.records(topic)]
        last = max(r.timestamp for r in everything)

        # Wait until the clock is past every record, so `since` splits old from new exactly.
        await eventually(lambda: utcnow() > last, what="the clock to move on")
        since = utcnow()
        await bus.publish(topic, "d1", Note(key="d1", n=5))
        recent = [r async for r in bus.records(topic, key="d1", since=since)]
    finally:
        await bus.close()

    assert sorted(Note.model_validate_json(r.value).n for r in mine) == [0, 1, 4]
    assert {r.key for r in mine} == {"d1", "d1:0", "d1:1"}
    assert len(everything) == 5
    assert len({(r.partition, r.offset) for r in everything}) == 5
    for record in everything:
        assert record.topic == topic
        assert record.timestamp is not None
        assert before - timedelta(seconds=1) <= record.timestamp <= utcnow()
    assert [Note.model_validate_json(r.value).n for r in recent] == [5]
