"""The MongoDB store's chunks: stored once, each part (analysis, index) saved and counted once.

Chunks are addressed by ``_id`` = ``{document_id}:{index}``. "The first analysis wins" and
"count a chunk once" are inserts into ``chunk_analyses`` and ``chunk_marks`` keyed by that
``_id``: a duplicate-key error is atomic on every MongoDB-protocol server, and a bare ``_id``
is the one filter FerretDB answers without scanning the collection (a conditional update such
as ``{_id, analysis: None}`` takes it ~200 ms at a thousand chunks).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.errors import BulkWriteError, DuplicateKeyError

from doclane.infra.store._mongo import Doc, MongoCollections, chunk_id, only_duplicates
from doclane.infra.store.base import ChunkCounts, ChunkPart
from doclane.schemas.analysis import ChunkAnalysis
from doclane.schemas.documents import ChunkRecord
from doclane.schemas.enrichment import Entity
from doclane.schemas.events import utcnow
from doclane.schemas.extraction import Chunk

__all__ = ["CHUNK_COLLECTIONS", "RECORD_FIELDS", "MongoChunks"]

#: Where a chunk's stored part lives (its analysis; the record that it is indexed).
_STORED: dict[ChunkPart, str] = {"analysis": "chunk_analyses", "index": "chunk_indexed"}
#: Per part of a chunk: the collection whose ``_id`` insert says it was counted first
#: (progress is reported once), and the document's set of counted chunk indexes.
_MARK_COLLECTIONS: dict[ChunkPart, str] = {"analysis": "chunk_marks", "index": "chunk_index_marks"}
_COUNTED: dict[ChunkPart, str] = {"analysis": "chunks_aggregated_set", "index": "chunks_indexed_set"}
#: The fields of a document that hold its chunk counts.
_COUNTS = {"chunks_total": True, **dict.fromkeys(_COUNTED.values(), True)}
#: A document as a record: without the counted sets, which grow with its chunks and are
#: read only to count them (a 1,000-chunk document carries two 1,000-number arrays).
RECORD_FIELDS: dict[str, bool] = dict.fromkeys(_COUNTED.values(), False)
#: Every collection that holds a part of a document's chunks.
CHUNK_COLLECTIONS = ("chunks", *_STORED.values(), *_MARK_COLLECTIONS.values(), "chunk_entities")


class MongoChunks(MongoCollections):
    """Chunks on MongoDB: the chunk half of :class:`~doclane.infra.store.base.Store`."""

    async def put_chunks(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        # Plain inserts, duplicates ignored: re-storing chunks changes nothing.
        # (Bulk upserts would do the same on MongoDB, but FerretDB answers
        # concurrent ones with replies PyMongo cannot parse.)
        if not chunks:
            return
        rows = [
            {**Chunk.model_validate(c.model_dump()).model_dump(),
             "_id": chunk_id(document_id, c.index), "document_id": document_id}
            for c in chunks
        ]
        try:
            await self._chunks.insert_many(rows, ordered=False)
        except BulkWriteError as exc:
            if not only_duplicates(exc):
                raise
        # Every chunk given is stored now (inserted, or there already): that is the total,
        # without counting them (a scan of every document's chunks on FerretDB).
        total = len({row["_id"] for row in rows})
        await self._documents.update_one({"_id": document_id}, {"$set": {"chunks_total": total}})

    @staticmethod
    def _chunk_record(data: Doc, analysis: Doc | None, indexed: Doc | None,
                      marks: tuple[bool, bool], entities: Doc | None = None) -> ChunkRecord:
        data = {k: v for k, v in data.items() if k != "_id"}
        return ChunkRecord.model_validate({
            **data,
            "entities": json.loads(entities["entities"]) if entities else None,
            "analysis": analysis["analysis"] if analysis else None,
            "analyzed_at": analysis["analyzed_at"] if analysis else None,
            "aggregated": marks[0],
            "indexed_at": indexed["indexed_at"] if indexed else None,
            "index_aggregated": marks[1],
        })

    async def list_chunks(self, document_id: str) -> list[ChunkRecord]:
        which = {"document_id": document_id}
        analyses, indexed, entities, counted = await asyncio.gather(
            _by_id(self._collection("chunk_analyses").find(which)),
            _by_id(self._collection("chunk_indexed").find(which)),
            _by_id(self._collection("chunk_entities").find(which)),
            self._counted(document_id),
        )
        found = self._chunks.find(which).sort("index")
        return [
            self._chunk_record(d, analyses.get(d["_id"]), indexed.get(d["_id"]),
                               (d["index"] in counted[0], d["index"] in counted[1]),
                               entities.get(d["_id"]))
            async for d in found
        ]

    async def chunk_has(self, document_id: str, index: int, part: ChunkPart) -> bool | None:
        # Two reads by bare ``_id`` (no scan on FerretDB) of the keys alone, sent together:
        # one round trip of waiting, and none of the chunk's text, analysis or entities.
        cid = chunk_id(document_id, index)
        chunk, stored = await asyncio.gather(
            self._chunks.find_one({"_id": cid}, {"_id": True}),
            self._collection(_STORED[part]).find_one({"_id": cid}, {"_id": True}),
        )
        return None if chunk is None else stored is not None

    async def _counted(self, document_id: str) -> tuple[set[int], set[int]]:
        """The chunk indexes the aggregator counted as analysed and as indexed (one read).

        The document's counted sets, not the ``chunk_marks`` inserts: a mark whose count
        was lost (a writer killed in between) is not counted yet, and its redelivery
        counts it, as SqliteStore's one transaction would have.
        """
        data = await self._documents.find_one({"_id": document_id}, _COUNTS)
        if data is None:
            return set(), set()
        return set(data.get(_COUNTED["analysis"], ())), set(data.get(_COUNTED["index"], ()))

    async def save_chunk_analysis(
        self, document_id: str, index: int, analysis: ChunkAnalysis
    ) -> bool:
        cid = chunk_id(document_id, index)
        if await self._chunks.find_one({"_id": cid}, {"_id": True}) is None:
            return False
        try:
            await self._collection("chunk_analyses").insert_one({
                "_id": cid, "document_id": document_id,
                "analysis": analysis.model_dump(), "analyzed_at": utcnow()})
        except DuplicateKeyError:
            return False
        return True

    async def save_chunk_entities(self, document_id: str, index: int, entities: Sequence[Entity]) -> None:
        # JSON text, as the cache keeps it: one field, whatever the entities hold.
        value = json.dumps([e.model_dump(mode="json") for e in entities])
        await self._collection("chunk_entities").replace_one(
            {"_id": chunk_id(document_id, index)},
            {"document_id": document_id, "entities": value}, upsert=True)

    async def mark_chunk_indexed(self, document_id: str, index: int) -> bool:
        cid = chunk_id(document_id, index)
        if await self._chunks.find_one({"_id": cid}, {"_id": True}) is None:
            return False
        try:
            await self._collection("chunk_indexed").insert_one(
                {"_id": cid, "document_id": document_id, "indexed_at": utcnow()})
        except DuplicateKeyError:
            return False
        return True

    async def mark_chunk_aggregated(
        self, document_id: str, index: int, part: ChunkPart = "analysis"
    ) -> bool:
        """The mark half of :meth:`mark_and_count_chunks`: True if this call counted the part."""
        newly, _ = await self._mark(document_id, index, part)
        return newly

    async def _mark(self, document_id: str, index: int, part: ChunkPart) -> tuple[bool, Doc | None]:
        """Count the part; whether this call did, and the document's counts after it (its
        counted sets and total, as stored; ``None`` when the chunk or document is gone)."""
        cid = chunk_id(document_id, index)
        if await self._chunks.find_one({"_id": cid}, {"_id": True}) is None:
            return False, None
        try:
            await self._collection(_MARK_COLLECTIONS[part]).insert_one(
                {"_id": cid, "document_id": document_id})
            newly = True
        except DuplicateKeyError:
            newly = False
        # The count is the set of counted indexes on the document, so adding to it is
        # idempotent: a writer killed between the mark and the count (a server restart)
        # is counted by the redelivery, and a duplicate result is never counted twice. The
        # document after the update carries the counts: no second read for them. (Whole:
        # FerretDB 1.x implements no projection in findAndModify; while its chunks are
        # counted a document is its metadata and status, its analysis comes after.)
        after: Doc | None = await self._documents.find_one_and_update(
            {"_id": document_id}, {"$addToSet": {_COUNTED[part]: index}},
            return_document=ReturnDocument.AFTER)
        return newly, after

    async def count_chunks(self, document_id: str) -> ChunkCounts:
        return await self._counts(document_id, await self._documents.find_one({"_id": document_id}, _COUNTS))

    async def _counts(self, document_id: str, data: Doc | None) -> ChunkCounts:
        """:meth:`count_chunks` from the document's stored counts (``data``)."""
        if data is None:
            return ChunkCounts(0, 0, 0)
        total = int(data.get("chunks_total", 0))
        if not total:
            # A writer killed between storing the chunks and recording their number: count
            # them (a scan, but only until a document has its total) and record it.
            total = await self._chunks.count_documents({"document_id": document_id})
            if total:
                await self._documents.update_one({"_id": document_id}, {"$set": {"chunks_total": total}})
        return ChunkCounts(
            len(data.get(_COUNTED["analysis"], ())), len(data.get(_COUNTED["index"], ())), total,
        )

    async def mark_and_count_chunks(
        self, document_id: str, index: int, part: ChunkPart
    ) -> tuple[bool, ChunkCounts]:
        # The mark and the counts live in different collections: an insert, then one update
        # that returns the counts.
        newly, after = await self._mark(document_id, index, part)
        return newly, await (self._counts(document_id, after) if after is not None
                             else self.count_chunks(document_id))


async def _by_id(found: AsyncCursor[Doc]) -> dict[Any, Doc]:
    return {d["_id"]: d async for d in found}
