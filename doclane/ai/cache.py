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
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import ValidationError

from doclane.ai.base import Analyzer
from doclane.infra.metrics import CACHE_LOOKUPS
from doclane.infra.settings import Settings
from doclane.infra.store.base import Store
from doclane.schemas.analysis import ChunkAnalysis, DocumentAnalysis
from doclane.schemas.extraction import Chunk

__all__ = ["AnalysisCache"]


logger = logging.getLogger(__name__)
A = TypeVar("A", ChunkAnalysis, DocumentAnalysis)


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


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
        if running is None:
            found = await self._read("chunk", key, ChunkAnalysis)
            if found is not None:
                return found
            # Another caller may have started the same call while the store answered.
            running = self._in_flight.get(key)
        if running is not None:  # the same text is being analysed right now: share that call
            CACHE_LOOKUPS.labels("chunk", "hit").inc()
            return _reused(await asyncio.shield(running))
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
        """The cached analysis of ``chunk`` (marked ``cached``), if there is one."""
        if not self._enabled:
            return None
        return await self._read("chunk", self.chunk_key(chunk), ChunkAnalysis)

    async def document(self, sha256: str, content_type: str) -> DocumentAnalysis | None:
        """The cached analysis of a file with this content (marked ``cached``), if there is one."""
        if not self._enabled:
            return None
        return await self._read("document", self.document_key(sha256, content_type), DocumentAnalysis)

    async def put_document(self, sha256: str, content_type: str, analysis: DocumentAnalysis) -> None:
        if self._enabled:
            await self._store.cache_put(
                self.document_key(sha256, content_type), analysis.model_dump(mode="json")
            )

    async def _read(self, level: str, key: str, model: type[A]) -> A | None:
        """An entry as ``model``; one that no longer fits the model (written by an older
        version) counts as a miss and is analysed again, it never fails a document."""
        value = await self._store.cache_get(key)
        found = None
        if value is not None:
            try:
                found = _reused(model.model_validate(value))
            except ValidationError:
                logger.warning("ignoring a %s cache entry that no longer fits %s", level, model.__name__)
        CACHE_LOOKUPS.labels(level, "miss" if found is None else "hit").inc()
        return found


def _reused(analysis: A) -> A:
    """A result served again: marked ``cached``, and it cost no tokens this time."""
    return analysis.model_copy(update={"cached": True, "usage": None})
