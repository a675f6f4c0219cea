"""The interface every analysis provider implements (``local``, ``openai``, ``mock``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from doclane.schemas.analysis import ChunkAnalysis, DocumentAnalysis
from doclane.schemas.extraction import Chunk

__all__ = ["Analyzer"]


@runtime_checkable
class Analyzer(Protocol):
    """Analyses chunks (map) and combines their results into a document analysis (reduce).

    Implementations must not block the event loop: CPU-bound work runs in a
    worker thread, network calls are awaited. Failures are raised as
    :class:`~doclane.ai.exceptions.AnalysisError` with ``retryable`` set, so the
    pipeline can choose between retry with backoff and the dead-letter topic.
    Results record ``provider`` (= ``name``) and ``model``.
    """

    #: Provider name recorded on results: ``"local"``, ``"openai"``, ``"mock"``.
    name: str
    #: Model (or algorithm version) recorded on results; part of the cache key.
    model: str | None
    #: Version of the prompts (``None`` for providers without prompts); part of the cache key.
    prompt_version: str | None

    async def analyze_chunk(self, chunk: Chunk) -> ChunkAnalysis:
        """Summarise one chunk and extract its topics, sentiment and action items."""
        ...

    async def reduce(self, chunks: Sequence[tuple[Chunk, ChunkAnalysis]]) -> DocumentAnalysis:
        """Combine per-chunk analyses (in any order) into the analysis of the whole document."""
        ...

    async def close(self) -> None:
        """Release connections (HTTP clients); the analyzer is not used afterwards."""
        ...
