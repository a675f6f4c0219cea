"""What every EventBus adapter promises (see ``doclane.infra.bus.base``)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

from doclane.infra.bus.base import Subscription
from doclane.schemas.events import Event
from tests.utils.waiting import eventually


class Note(Event):
    key: str
    n: int


def _topic() -> str:
    return f"test.{uuid.uuid4().hex[:8]}"


async def test_events_of_one_key_arrive_in_order_across_concurrent_lanes(bus_factory):
    topic, seen = _topic(), defaultdict(list)

    async def handler(note: Note) -> None:
        await asyncio.sleep(0.001 * (note.n % 3))  # uneven work must not reorder a key
        seen[note.key].append(note.n)

    bus = bus_factory()
    bus.subscribe(Subscription("g", [topic], Note, handler, concurrency=4))
    await bus.start()
    try:
        for n in range(60):
            key = f"k{n % 5}"
            await bus.publish(topic, key, Note(key=key, n=n))
        await eventually(lambda: sum(map(len, seen.values())) == 60, what="60 events")
    finally:
        await bus.close()
    for key, ns in seen.items():
        assert ns == sorted(ns), key
        assert len(ns) == 12


async def test_a_restarted_group_resumes_after_its_committed_offset(bus_factory):
    topic, first, second = _topic(), [], []

    async def record_into(target: list[int]):
        async def handler(note: Note) -> None:
            target.append(note.n)
        return handler

    bus = bus_factory()
    bus.subscribe(Subscription("g", [topic], Note, await record_into(first)))
    await bus.start()
    for n in range(5):
        await bus.publish(topic, "k", Note(key="k", n=n))
    await eventually(lambda: len(first) == 5)
    await bus.close()

    bus = bus_factory()
    bus.subscribe(Subscription("g", [topic], Note, await record_into(second)))
    await bus.start()
    try:
        for n in range(5, 8):
            await bus.publish(topic, "k", Note(key="k", n=n))
        await eventually(lambda: len(second) == 3)
    finally:
        await bus.close()
    assert first == [0, 1, 2, 3, 4]
    assert second == [5, 6, 7]


async def test_an_event_whose_handler_never_finished_is_delivered_again(bus_factory):
    topic, started, redelivered = _topic(), asyncio.Event(), []

    async def stuck(note: Note) -> None:
        started.set()
        await asyncio.Event().wait()  # the process "crashes" while handling

    bus = bus_factory()
    bus.subscribe(Subscription("g", [topic], Note, stuck))
    await bus.start()
    await bus.publish(topic, "k", Note(key="k", n=1))
    await asyncio.wait_for(started.wait(), 10)
    await bus.close()

    async def ok(note: Note) -> None:
        redelivered.append(note.n)

    bus = bus_factory()
    bus.subscribe(Subscription("g", [topic], Note, ok))
    await bus.start()
    try:
        await eventually(lambda: redelivered == [1], what="redelivery")
    finally:
        await bus.close()


async def test_groups_are_independent(bus_factory):
    topic, a, b = _topic(), [], []

    async def into_a(note: Note) -> None:
        a.append(note.n)

    async def into_b(note: Note) -> None:
        b.append(note.n)

    bus = bus_factory()
    bus.subscribe(Subscription("ga", [topic], Note, into_a))
    bus.subscribe(Subscription("gb", [topic], Note, into_b))
    await bus.start()
    try:
        for n in range(3):
            await bus.publish(topic, "k", Note(key="k", n=n))
        await eventually(lambda: len(a) == 3 and len(b) == 3)
    finally:
        await bus.close()
    assert a == b == [0, 1, 2]


async def test_replay_reads_back_everything_in_order_and_stops(bus_factory):
    topic = _topic()
    bus = bus_factory()
    await bus.start()
    try:
        for n in range(7):
            await bus.publish(topic, "k", Note(key="k", n=n))
        replayed = [note.n async for note in bus.replay(topic, Note)]
    finally:
        await bus.close()
    assert replayed == list(range(7))


async def test_tail_sees_only_what_is_published_after_it_starts(bus_factory):
    topic = _topic()
    bus = bus_factory()
    await bus.start()
    try:
        await bus.publish(topic, "k", Note(key="k", n=0))
        tail = bus.tail(topic, Note)
        first = asyncio.ensure_future(anext(tail))
        await asyncio.sleep(0)  # let the tail take its position before publishing
        await bus.publish(topic, "k", Note(key="k", n=1))
        got = await asyncio.wait_for(first, 10)
        await tail.aclose()
    finally:
        await bus.close()
    assert got.n == 1


async def test_priority_lanes_prefer_high_without_starving_low(bus_factory):
    high, low, order = _topic(), _topic(), []
    bus = bus_factory()
    gate = asyncio.Event()

    async def handler(note: Note) -> None:
        await gate.wait()
        order.append(note.key)

    # Publish before the group starts so both lanes are full when it does.
    await bus.start()
    for n in range(30):
        await bus.publish(high, f"h{n}", Note(key="high", n=n))
        await bus.publish(low, f"l{n}", Note(key="low", n=n))
    await bus.close()

    bus = bus_factory()
    bus.subscribe(Subscription("g", [high, low], Note, handler, concurrency=1, weights=(3, 1)))
    await bus.start()
    gate.set()
    try:
        await eventually(lambda: len(order) == 60, what="all 60 events")
    finally:
        await bus.close()
    first_half = order[:30]
    assert first_half.count("high") > first_half.count("low")  # high is preferred
    assert "low" in first_half  # ... but low is not starved


async def test_a_key_read_from_two_topics_is_handled_one_event_at_a_time(bus_factory):
    """The aggregator reads chunk.analyzed and chunk.indexed, both keyed by document:
    two events of one document must never be handled at once, or both could finish it."""
    first, second = _topic(), _topic()
    busy: dict[str, int] = defaultdict(int)
    overlaps: list[str] = []
    handled: list[int] = []

    async def handler(note: Note) -> None:
        busy[note.key] += 1
        if busy[note.key] > 1:
            overlaps.append(note.key)
        await asyncio.sleep(0.005)
        busy[note.key] -= 1
        handled.append(note.n)

    bus = bus_factory()
    bus.subscribe(Subscription("g", [first, second], Note, handler, concurrency=8))
    await bus.start()
    try:
        for n in range(80):
            key = f"doc{(n // 2) % 4}"  # every key on both topics
            await bus.publish(first if n % 2 else second, key, Note(key=key, n=n))
        await eventually(lambda: len(handled) == 80, what="80 events")
    finally:
        await bus.close()
    assert not overlaps
