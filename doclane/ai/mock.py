"""A simulated AI service for load tests: real local results after a configured delay."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from doclane.ai.base import Analyzer
from doclane.ai.local import LocalAnalyzer
from doclane.schemas.analysis import ChunkAnalysis, DocumentAnalysis
from doclane.schemas.extraction import Chunk

__all__ = ["MockAnalyzer"]


class MockAnalyzer(Analyzer):
    """Answers like a remote model would: after ``latency_ms``, per chunk."""

    name = "mock"
    model: str | None = "mock-local"

    def __init__(self, latency_ms: int) -> None:
        self._latency_s = latency_ms / 1000
        self._local = LocalAnalyzer()

    async def analyze_chunk(self, chunk: Chunk) -> ChunkAnalysis:
        await asyncio.sleep(self._latency_s)
        result = await self._local.analyze_chunk(chunk)
        return result.model_copy(update={"provider": self.name, "model": self.model})

    async def reduce(self, chunks: Sequence[tuple[Chunk, ChunkAnalysis]]) -> DocumentAnalysis:
        result = await self._local.reduce(chunks)
        return result.model_copy(update={"provider": self.name, "model": self.model})
