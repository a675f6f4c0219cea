"""The analysis cache on a real SQLite store: reuse, and entries that no longer fit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from doclane.ai.cache import AnalysisCache
from doclane.ai.local import LocalAnalyzer
from doclane.infra.settings import Settings
from doclane.infra.store.sqlite import SqliteStore
from doclane.schemas.analysis import ChunkAnalysis
from doclane.schemas.extraction import Chunk

CHUNK = Chunk(index=0, text="The board approved the budget. Maria will send the plan by Friday.")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    yield store
    await store.close()


async def test_a_chunk_is_analysed_once_and_then_served_marked_cached(store: SqliteStore) -> None:
    analyzer = LocalAnalyzer()
    cache = AnalysisCache(store, analyzer, Settings())
    calls: list[int] = []

    async def analyse() -> ChunkAnalysis:
        calls.append(1)
        return await analyzer.analyze_chunk(CHUNK)

    first = await cache.chunk_analysis(CHUNK, analyse)
    again = await cache.chunk_analysis(CHUNK, analyse)
    assert len(calls) == 1 and not first.cached and again.cached
    assert again.summary == first.summary


async def test_an_entry_that_no_longer_fits_is_a_miss_not_a_failure(store: SqliteStore) -> None:
    analyzer = LocalAnalyzer()
    cache = AnalysisCache(store, analyzer, Settings())
    await store.cache_put(cache.chunk_key(CHUNK), {"analysis": {"summary": "old layout"}})
    await store.cache_put(cache.document_key("0" * 64, "text/plain"), {"metadata": {}})

    assert await cache.cached_chunk(CHUNK) is None
    assert await cache.document("0" * 64, "text/plain") is None
    fresh = await cache.chunk_analysis(CHUNK, lambda: analyzer.analyze_chunk(CHUNK))
    assert fresh.summary and not fresh.cached


async def test_identical_chunks_arriving_together_share_one_analysis(store: SqliteStore) -> None:
    # Both look in the store before either registers its call: the second used to replace
    # the first's in-flight entry, and the first's clean-up then failed the second (KeyError).
    analyzer = LocalAnalyzer()
    cache = AnalysisCache(store, analyzer, Settings())
    calls: list[int] = []
    release = asyncio.Event()

    async def analyse() -> ChunkAnalysis:
        calls.append(1)
        await release.wait()
        return await analyzer.analyze_chunk(CHUNK)

    tasks = [asyncio.create_task(cache.chunk_analysis(CHUNK, analyse)) for _ in range(3)]
    while not calls:
        await asyncio.sleep(0.01)
    for _ in range(20):  # every caller has had its store read answered
        await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(*tasks)
    assert len(calls) == 1
    assert [r.cached for r in results].count(False) == 1
    assert {r.summary for r in results} == {results[0].summary}
