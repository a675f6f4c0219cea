"""The embedded event log on its own: offsets, replay, durability, wake-ups."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from doclane.infra._sqlite import ThreadConnection
from doclane.infra.bus._embedded_log import EmbeddedLog


@asynccontextmanager
async def _opened(path: Path) -> AsyncIterator[EmbeddedLog]:
    log = EmbeddedLog(path)
    await log.open()
    try:
        yield log
    finally:
        await log.close()


async def test_offsets_are_contiguous_per_topic(tmp_path):
    async with _opened(tmp_path / "e.db") as log:
        assert [await log.append("a", "k", f"a{i}") for i in range(3)] == [0, 1, 2]
        assert await log.append("b", "k", "b0") == 0
        assert log.end_offset("a") == 3 and log.end_offset("b") == 1 and log.end_offset("c") == 0


async def test_replay_from_any_offset_in_order(tmp_path):
    async with _opened(tmp_path / "e.db") as log:
        for i in range(10):
            await log.append("t", f"k{i % 2}", str(i))
        records = await log.read("t", 4, limit=3)
        assert [(r.offset, r.key, r.payload) for r in records] == [
            (4, "k0", "4"), (5, "k1", "5"), (6, "k0", "6")]
        assert await log.read("t", 10) == []


async def test_records_and_commits_survive_a_restart(tmp_path):
    async with _opened(tmp_path / "e.db") as log:
        for i in range(3):
            await log.append("t", "k", str(i))
        await log.commit("g", "t", 2)

    async with _opened(tmp_path / "e.db") as reopened:
        assert reopened.end_offset("t") == 3
        assert await reopened.committed("g", "t") == 2
        assert await reopened.committed("other", "t") == 0
        assert await reopened.append("t", "k", "3") == 3


async def test_an_append_wakes_a_waiting_consumer(tmp_path):
    async with _opened(tmp_path / "e.db") as log:
        waiter = asyncio.create_task(log.wait_until(lambda: log.end_offset("t") > 0))
        await asyncio.sleep(0)
        assert not waiter.done()
        await log.append("t", "k", "x")
        await asyncio.wait_for(waiter, 5)


async def test_concurrent_appends_share_writes_and_keep_offsets_contiguous_and_durable(tmp_path, monkeypatch):
    transactions = 0
    real = ThreadConnection.transaction

    async def counted(self: ThreadConnection, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        nonlocal transactions
        transactions += 1
        return await real(self, fn)

    monkeypatch.setattr(ThreadConnection, "transaction", counted)
    async with _opened(tmp_path / "e.db") as log:
        offsets = await asyncio.gather(*(log.append("t", f"k{i}", str(i)) for i in range(200)))
    assert sorted(offsets) == list(range(200))
    # In call order: the record appended i-th has offset i and payload i.
    assert offsets == list(range(200))
    # Every append was made before the writer first ran: one transaction holds them all.
    assert transactions == 1

    async with _opened(tmp_path / "e.db") as reopened:
        records = await reopened.read("t", 0, limit=500)
        assert [(r.offset, r.payload) for r in records] == [(i, str(i)) for i in range(200)]
        assert await reopened.append("t", "k", "next") == 200


async def test_a_failed_write_fails_its_appends_and_leaves_no_gap(tmp_path, monkeypatch):
    async with _opened(tmp_path / "e.db") as log:
        assert await log.append("t", "k", "kept") == 0
        real = ThreadConnection.transaction

        async def full(self: ThreadConnection, fn: Callable[[sqlite3.Connection], Any]) -> Any:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(ThreadConnection, "transaction", full)
        lost = await asyncio.gather(*(log.append("t", "k", f"lost {i}") for i in range(3)),
                                    return_exceptions=True)
        assert all(isinstance(e, sqlite3.OperationalError) for e in lost), lost
        monkeypatch.setattr(ThreadConnection, "transaction", real)
        # The offsets the failed appends had drawn are drawn again: no gap for consumers.
        assert await log.append("t", "k", "next") == 1
        assert [(r.offset, r.payload) for r in await log.read("t", 0)] == [(0, "kept"), (1, "next")]
        assert log.end_offset("t") == 2


async def test_an_append_to_a_closed_log_fails_at_once(tmp_path):
    async with _opened(tmp_path / "e.db") as log:
        pass
    with pytest.raises(RuntimeError, match="not open"):
        await log.append("t", "k", "x")
