"""The embedded event log on its own: offsets, replay, durability, wake-ups."""

from __future__ import annotations

import asyncio

import pytest

from doclane.infra.bus.embedded import EmbeddedLog


async def test_offsets_are_contiguous_per_topic(tmp_path):
    log = EmbeddedLog(tmp_path / "e.db")
    await log.open()
    try:
        assert [await log.append("a", "k", f"a{i}") for i in range(3)] == [0, 1, 2]
        assert await log.append("b", "k", "b0") == 0
        assert log.end_offset("a") == 3 and log.end_offset("b") == 1 and log.end_offset("c") == 0
    finally:
        await log.close()


async def test_replay_from_any_offset_in_order(tmp_path):
    log = EmbeddedLog(tmp_path / "e.db")
    await log.open()
    try:
        for i in range(10):
            await log.append("t", f"k{i % 2}", str(i))
        records = await log.read("t", 4, limit=3)
        assert [(r.offset, r.key, r.payload) for r in records] == [
            (4, "k0", "4"), (5, "k1", "5"), (6, "k0", "6")]
        assert await log.read("t", 10) == []
    finally:
        await log.close()


async def test_records_and_commits_survive_a_restart(tmp_path):
    log = EmbeddedLog(tmp_path / "e.db")
    await log.open()
    for i in range(3):
        await log.append("t", "k", str(i))
    await log.commit("g", "t", 2)
    await log.close()

    reopened = EmbeddedLog(tmp_path / "e.db")
    await reopened.open()
    try:
        assert reopened.end_offset("t") == 3
        assert await reopened.committed("g", "t") == 2
        assert await reopened.committed("other", "t") == 0
        assert await reopened.append("t", "k", "3") == 3
    finally:
        await reopened.close()


async def test_an_append_wakes_a_waiting_consumer(tmp_path):
    log = EmbeddedLog(tmp_path / "e.db")
    await log.open()
    try:
        waiter = asyncio.create_task(log.wait_until(lambda: log.end_offset("t") > 0))
        await asyncio.sleep(0)
        assert not waiter.done()
        await log.append("t", "k", "x")
        await asyncio.wait_for(waiter, 5)
    finally:
        await log.close()


async def test_concurrent_appends_share_writes_and_keep_offsets_contiguous_and_durable(tmp_path):
    log = EmbeddedLog(tmp_path / "e.db")
    await log.open()
    offsets = await asyncio.gather(*(log.append("t", f"k{i}", str(i)) for i in range(200)))
    assert sorted(offsets) == list(range(200))
    # In call order: the record appended i-th has offset i and payload i.
    assert offsets == list(range(200))
    await log.close()

    reopened = EmbeddedLog(tmp_path / "e.db")
    await reopened.open()
    try:
        records = await reopened.read("t", 0, limit=500)
        assert [(r.offset, r.payload) for r in records] == [(i, str(i)) for i in range(200)]
        assert await reopened.append("t", "k", "next") == 200
    finally:
        await reopened.close()


async def test_an_append_to_a_closed_log_fails_at_once(tmp_path):
    log = EmbeddedLog(tmp_path / "e.db")
    await log.open()
    await log.close()
    with pytest.raises(RuntimeError, match="not open"):
        await log.append("t", "k", "x")
