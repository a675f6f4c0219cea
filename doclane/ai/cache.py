"""Result caches: identical input under the same configuration is analysed once.

* Chunk level: the key is the chunk's text and section path (everything the
  prompt carries) plus the analyzer's provider, model and prompt version. An
  identical chunk, in this document or any other, is never analysed twice; in
  one process, concurrent requests for the same key share one call.
* Document level: the key is the file's sha256 plus the whole pipeline
  configuration (provider, model, prompt version, content type, chunking and
  the reduce budget). A hit completes a document without any AI call.

Entries hold analysis results only, keyed by content hashes, and live in the
store (SQLite or MongoDB), so every worker of a deployment shares them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from doclane.ai.base import Analyzer
from doclane.infra.metrics import CACHE_LOOKUPS
from doclane.infra.settings import Settings
from doclane.infra.store.base import Store
from doclane.schemas.analysis import ChunkAnalysis, DocumentAnalysis
from doclane.schemas.extraction import Chunk

__all__ = ["AnalysisCache", "CachedDocument"]


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


class CachedDocument:
    def __init__(self, value: dict[str, Any]) -> None:
        self.analysis = DocumentAnalysis.model_validate(value["analysis"])
        self.metadata: dict[str, Any] = value["metadata"]


class AnalysisCache:
    def __init__(self, store: Store, analyzer: Analyzer, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._enabled = settings.ai_cache
        self._fingerprint = (analyzer.name, analyzer.model, analyzer.prompt_version)
        self._in_flight: dict[str, asyncio.Future[ChunkAnalysis]] = {}

    def chunk_key(self, chunk: Chunk) -> str:
        return "chunk:" + _digest(self._fingerprint, chunk.section_path, chunk.text)

    def document_key(self, sha256: str, content_type: str) -> str:
        s = self._settings
        return "doc:" + _digest(
            self._fingerprint, sha256, content_type,
            s.chunk_max_chars, s.chunk_overlap_chars, s.ai_max_input_tokens,
        )

    async def chunk_analysis(
        self, chunk: Chunk, analyse: Callable[[], Awaitable[ChunkAnalysis]]
    ) -> ChunkAnalysis:
        """The cached analysis of ``chunk`` (marked ``cached``), else ``analyse()``'s, stored."""
        if not self._enabled:
            return await analyse()
        key = self.chunk_key(chunk)
        running = self._in_flight.get(key)
        if running is not None:  # the same text is being analysed right now: share that call
            CACHE_LOOKUPS.labels("chunk", "hit").inc()
            return (await asyncio.shield(running)).model_copy(update={"cached": True, "usage": None})
        found = await self.cached_chunk(chunk)
        if found is not None:
            return found
        future: asyncio.Future[ChunkAnalysis] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            result = await analyse()
            await self._store.cache_put(key, result.model_dump(mode="json"))
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        finally:
            del self._in_flight[key]

    async def cached_chunk(self, chunk: Chunk) -> ChunkAnalysis | None:
        if not self._enabled:
            return None
        value = await self._store.cache_get(self.chunk_key(chunk))
        CACHE_LOOKUPS.labels("chunk", "miss" if value is None else "hit").inc()
        if value is None:
            return None
        return ChunkAnalysis.model_validate(value).model_copy(update={"cached": True, "usage": None})

    async def document(self, sha256: str, content_type: str) -> CachedDocument | None:
        if not self._enabled:
            return None
        value = await self._store.cache_get(self.document_key(sha256, content_type))
        CACHE_LOOKUPS.labels("document", "miss" if value is None else "hit").inc()
        return CachedDocument(value) if value is not None else None

    async def put_document(self, sha256: str, content_type: str, analysis: DocumentAnalysis,
                           metadata: dict[str, Any]) -> None:
        if not self._enabled or analysis.cached:
            return
        await self._store.cache_put(
            self.document_key(sha256, content_type),
            {"analysis": analysis.model_dump(mode="json"), "metadata": metadata},
        )
