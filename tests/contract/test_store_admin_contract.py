"""What every Store adapter keeps for operators: dead-letter redrives and lane moves."""

from __future__ import annotations

import asyncio

from doclane.schemas.events import Priority, utcnow


async def test_a_dead_letter_is_redriven_once(store):
    assert await store.redriven_letters() == set()
    results = await asyncio.gather(*(store.mark_redriven("letter-1") for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert await store.mark_redriven("letter-2") is True
    assert await store.redriven_letters() == {"letter-1", "letter-2"}


async def test_the_last_lane_move_of_a_document_is_kept_with_its_time(store, store_factory):
    assert await store.lane_move("doc-1") is None
    before = utcnow()
    first = await store.move_lane("doc-1", Priority.LOW)
    second = await store.move_lane("doc-1", Priority.HIGH)
    await store.move_lane("doc-2", Priority.NORMAL)
    assert before <= first <= second <= utcnow()

    # Read back by another process (a worker) exactly as written.
    other = store_factory()
    await other.open()
    try:
        assert await other.lane_move("doc-1") == (Priority.HIGH, second)
        assert (await other.lane_move("doc-2"))[0] is Priority.NORMAL
    finally:
        await other.close()
