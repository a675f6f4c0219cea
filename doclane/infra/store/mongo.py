"""The distributed store: documents, status history, chunks and the result cache in MongoDB.

It runs on MongoDB and on FerretDB 1.x (the test server), so it uses neither
transactions nor anything else FerretDB lacks.

Appending a status takes three steps instead of one transaction: read the
document's last projected ``seq`` (refused when the document is missing or
terminal), ``$inc`` the owner's cursor in ``counters``, insert the event with the
next seq; the document's status fields and ``seq`` are then projected from the
event, guarded by ``seq`` so that an older event never overwrites a newer
projection. The seq is taken by the insert (a unique index), so a writer killed
at any point leaves no gap in a document's seq: if it died after inserting but
before projecting, the next append finds its number taken and goes past the
newest event. A crash between the cursor ``$inc`` and the insert leaves a gap in
the owner's cursors, and a cursor is taken a moment before its event is visible,
so a reader can see cursor N+1 before N; readers tolerate both (see
``doclane.api.hub``). A crash before the projection leaves the document one
event behind its history until its next event.

FerretDB's SQLite backend applies every update as a read then a write, outside
any transaction: concurrent ``$inc``s can hand out the same number, and
concurrent updates of one document can lose each other's fields. The unique
``(document_id, seq)`` and ``(owner, cursor)`` indexes are the real guard:
an insert against them is atomic on both servers, and an append whose number
was taken draws that number again. On MongoDB this never happens. What FerretDB
can still get wrong under concurrency on one record: a lost projection or
metadata field, and two racing ``save_chunk_analysis`` (or
``mark_chunk_aggregated``) calls both answering True. Pipeline stages do not
race on one document, so tests see none of it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

import pymongo
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, OperationFailure

from doclane.exceptions import DoclaneError
from doclane.infra.connect import DEFAULT_CONNECT_DEADLINE_S, redact_url, retry_connect
from doclane.infra.store.base import ChunkCounts, ChunkPart, Store, projection
from doclane.schemas.analysis import ChunkAnalysis
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.enrichment import Entity
from doclane.schemas.events import DocumentStatus, Priority, StatusChange, StatusEvent, utcnow
from doclane.schemas.experiments import ExperimentObservation
from doclane.schemas.extraction import Chunk
from doclane.schemas.interviews import InterviewReport, InterviewSession

__all__ = ["MongoStore", "StoreContention"]

_Doc = dict[str, Any]

_DUPLICATE_KEY = 11000
_TERMINAL = [s.value for s in DocumentStatus if s.terminal]
#: Server errors worth another attempt at start: another process created the collection or
#: index first (NamespaceExists, IndexAlreadyExists), or the attempt ran out of its time
#: budget (MaxTimeMSExpired).
_RETRY_AT_START = frozenset({48, 68, 50})
#: How long a start-up attempt waits for the server to answer at all.
_PING_S = 2.0
#: An append gives up after drawing this many numbers that were already taken.
_MAX_ATTEMPTS = 100

_INDEXES: dict[str, list[IndexModel]] = {
    "documents": [
        IndexModel([("owner", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("owner", ASCENDING), ("status", ASCENDING), ("created_at", DESCENDING)]),
    ],
    "status_events": [
        IndexModel([("document_id", ASCENDING), ("seq", ASCENDING)], unique=True),
        IndexModel([("owner", ASCENDING), ("cursor", ASCENDING)], unique=True),
    ],
    "chunks": [IndexModel([("document_id", ASCENDING), ("index", ASCENDING)], unique=True)],
    "chunk_analyses": [IndexModel([("document_id", ASCENDING)])],
    "chunk_marks": [IndexModel([("document_id", ASCENDING)])],
    "chunk_indexed": [IndexModel([("document_id", ASCENDING)])],
    "chunk_index_marks": [IndexModel([("document_id", ASCENDING)])],
    "chunk_entities": [IndexModel([("document_id", ASCENDING)])],
    "interviews": [IndexModel([("owner", ASCENDING), ("created_at", DESCENDING)])],
    "experiment_observations": [IndexModel([("experiment", ASCENDING)])],
}


class StoreContention(DoclaneError):
    """A status append kept drawing numbers that other appends had taken."""

    category = "store_contention"
    retryable = True


def _record_to_bson(doc: DocumentRecord) -> _Doc:
    data = doc.model_dump()
    data["_id"] = data.pop("id")
    return data


def _record(data: _Doc) -> DocumentRecord:
    data["id"] = data.pop("_id")
    return DocumentRecord.model_validate(data)


def _transient(exc: BaseException) -> bool:
    """Worth another attempt at start: the server is not up yet, or a sibling won a race."""
    if isinstance(exc, ConnectionFailure):  # also AutoReconnect, ServerSelectionTimeoutError
        return True
    return isinstance(exc, OperationFailure) and exc.code in _RETRY_AT_START


async def _prepare(db: AsyncDatabase[_Doc], budget_s: float) -> None:
    """Create the indexes that are missing, within ``budget_s`` seconds.

    Only the missing ones: FerretDB 1.24 drops the connection when asked to create an
    index set that already exists. Processes starting together on a new database all
    see the indexes missing and race to create them; the losers get a dropped
    connection (FerretDB) or "already exists" (MongoDB), and :func:`retry_connect`
    runs this again, which then finds them and has nothing left to do.
    """
    # A refused or unknown host only shows as a server selection timeout: keep that one
    # short, so that the wait is logged early and a server coming up is seen soon.
    with pymongo.timeout(min(budget_s, _PING_S)):
        await db.command("ping")
    with pymongo.timeout(budget_s):
        for name, indexes in _INDEXES.items():
            existing = await db[name].index_information()
            missing = [i for i in indexes if i.document["name"] not in existing]
            if missing:
                await db[name].create_indexes(missing)


def _only_duplicates(exc: BulkWriteError) -> bool:
    details: Mapping[str, Any] = exc.details
    return not details.get("writeConcernErrors") and all(
        e.get("code") == _DUPLICATE_KEY for e in details.get("writeErrors") or []
    )


class MongoStore(Store):
    """The :class:`Store` on MongoDB (or FerretDB), through PyMongo's async API."""

    atomic_cursors = False  # no transactions: the counters move before the insert

    def __init__(
        self,
        url: str,
        *,
        database: str = "doclane",
        connect_deadline_s: float = DEFAULT_CONNECT_DEADLINE_S,
    ) -> None:
        """Configure only: no connection is made before :meth:`open`."""
        self._url = url
        self._database = database
        self._connect_deadline_s = connect_deadline_s
        self._client: AsyncMongoClient[_Doc] | None = None
        self._db: AsyncDatabase[_Doc] | None = None

    async def open(self) -> None:
        """Connect and create the missing indexes, retrying until the connect deadline.

        Safe when many processes open one new database at once (see :func:`_prepare`).

        Raises:
            ConnectFailed: the server did not answer, or kept failing, until the deadline.
        """
        client: AsyncMongoClient[_Doc] = AsyncMongoClient(self._url, tz_aware=True)
        db = client[self._database]
        try:
            await retry_connect(
                lambda budget_s: _prepare(db, budget_s),
                what=f"MongoDB at {redact_url(self._url)}",
                deadline_s=self._connect_deadline_s,
                transient=_transient,
            )
        except BaseException:
            await client.close()
            raise
        self._client, self._db = client, db

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = self._db = None

    async def drop(self) -> None:
        """Drop the whole database (tests)."""
        if self._client is None:
            raise RuntimeError("the store is not open")
        await self._client.drop_database(self._database)

    def _collection(self, name: str) -> AsyncCollection[_Doc]:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db[name]

    @property
    def _documents(self) -> AsyncCollection[_Doc]:
        return self._collection("documents")

    @property
    def _events(self) -> AsyncCollection[_Doc]:
        return self._collection("status_events")

    @property
    def _chunks(self) -> AsyncCollection[_Doc]:
        return self._collection("chunks")

    @property
    def _counters(self) -> AsyncCollection[_Doc]:
        return self._collection("counters")

    # --- documents ---
    async def create_document(self, doc: DocumentRecord) -> None:
        await self._documents.insert_one(_record_to_bson(doc))

    async def get_document(self, document_id: str) -> DocumentRecord | None:
        data = await self._documents.find_one({"_id": document_id}, _RECORD_FIELDS)
        return _record(data) if data is not None else None

    async def list_documents(
        self, owner: str, status: DocumentStatus | None = None, limit: int = 100, offset: int = 0,
        doc_type: str | None = None,
    ) -> list[DocumentRecord]:
        if limit == 0:  # PyMongo reads limit 0 as "no limit"
            return []
        query: _Doc = {"owner": owner}
        if status is not None:
            query["status"] = status.value
        if doc_type is not None:
            query["doc_type"] = doc_type
        found = (
            self._documents.find(query, _RECORD_FIELDS)
            .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
            .skip(max(offset, 0))
            .limit(max(limit, 0))
        )
        return [_record(data) async for data in found]

    async def update_document(self, document_id: str, **fields: object) -> None:
        data = await self._documents.find_one({"_id": document_id}, _RECORD_FIELDS)
        if data is None:
            return
        # Validate the whole record as SqliteStore does, then $set only the fields
        # given, so that a status projected meanwhile is kept.
        updated = _record(data).model_copy(update={**fields, "updated_at": utcnow()})
        bson = _record_to_bson(DocumentRecord.model_validate(updated.model_dump()))
        changes = {k: v for k, v in bson.items() if k in fields or k == "updated_at"}
        await self._documents.update_one({"_id": document_id}, {"$set": changes})

    async def delete_document(self, document_id: str) -> bool:
        # The record first: from then on no append for the document can start.
        deleted = await self._documents.delete_one({"_id": document_id})
        await self._entomb(document_id)
        for name in ("chunks", "chunk_analyses", "chunk_marks", "chunk_indexed", "chunk_index_marks",
                     "chunk_entities"):
            await self._collection(name).delete_many({"document_id": document_id})
        return deleted.deleted_count > 0

    # --- status ---
    async def append_status(
        self, document_id: str, change: StatusChange, *, allow_after_terminal: bool = False
    ) -> StatusEvent | None:
        """Record a status event and project it onto the document (see the module doc).

        The event's seq is the document's last projected seq + 1, taken by the insert
        itself (a unique index): a writer killed before its insert leaves nothing
        behind, and one killed after it (before the projection) makes the next
        append look past its event. So a document's seq never has a gap. The
        owner's cursor is a counter drawn before the insert: a crash there leaves a
        cursor gap, which streams wait out (see ``doclane.api.hub``).
        """
        owner, seq, cursor = "", 0, 0
        for _ in range(_MAX_ATTEMPTS):
            if not seq:
                # A bare ``_id`` filter (the terminal check is made here, not in the query):
                # FerretDB answers it from its primary key instead of scanning every document.
                current = await self._documents.find_one(
                    {"_id": document_id}, {"owner": True, "seq": True, "status": True})
                if current is None or (not allow_after_terminal and current.get("status") in _TERMINAL):
                    return None
                owner, seq = current["owner"], int(current.get("seq", 0)) + 1
            if not cursor:
                cursor = await self._bump_counter(owner, {"$inc": {"value": 1}})
            event = StatusEvent(
                document_id=document_id, owner=owner, seq=seq, cursor=cursor, **dict(change)
            )
            try:
                await self._events.insert_one(event.model_dump())
            except DuplicateKeyError:
                # Taken by a concurrent writer, or by one that died before projecting its
                # event: project the newest event (nothing follows a terminal one) and take
                # the number after it; redraw a taken cursor.
                taken = {"_id": True}
                if await self._events.find_one({"document_id": document_id, "seq": seq}, taken):
                    newest = await self._newest_event(document_id)
                    if newest is not None:
                        await self._project(newest)
                        if newest.status.terminal and not allow_after_terminal:
                            return None
                        seq = newest.seq + 1
                if await self._events.find_one({"owner": owner, "cursor": cursor}, taken):
                    cursor = 0
                continue
            if not await self._project(event):  # deleted since the seq was drawn
                await self._entomb(document_id, seq)  # keep its cursor: no gap for streams
                return None
            return event
        raise StoreContention(f"could not number a status event of {document_id}; try again")

    async def _newest_event(self, document_id: str) -> StatusEvent | None:
        newest = await self._events.find_one(
            {"document_id": document_id}, {"_id": False}, sort=[("seq", DESCENDING)])
        return StatusEvent.model_validate(newest) if newest is not None else None

    async def restore_status(self, event: StatusEvent) -> bool:
        if await self._documents.find_one({"_id": event.document_id}, {"_id": True}) is None:
            return False
        try:
            await self._events.insert_one(event.model_dump())
            inserted = True
        except DuplicateKeyError:
            inserted = False
        await self._bump_counter(event.owner, {"$max": {"value": event.cursor}})
        if not await self._project(event):
            if inserted:
                await self._entomb(event.document_id, event.seq)
            return False
        return inserted

    async def _entomb(self, document_id: str, seq: int | None = None) -> None:
        """Strip events of a deleted document to tombstones: no content, cursor kept."""
        which: _Doc = {"document_id": document_id} if seq is None else {
            "document_id": document_id, "seq": seq}
        await self._events.update_many(which, {"$set": {
            "tombstone": True, "progress": None, "detail": None,
            "error": None, "error_category": None, "attempt": None, "analysis": None}})

    async def _bump_counter(self, owner: str, update: _Doc) -> int:
        """Apply ``update`` to the owner's cursor counter, creating it; the new value."""
        query = {"_id": owner}
        try:
            counter = await self._counters.find_one_and_update(
                query, update, upsert=True, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:  # two first upserts raced: the counter exists now
            counter = await self._counters.find_one_and_update(
                query, update, return_document=ReturnDocument.AFTER
            )
        if counter is None:
            raise RuntimeError(f"the cursor counter of {owner!r} vanished")
        return int(counter["value"])

    async def _project(self, event: StatusEvent) -> bool:
        """Project ``event`` unless a newer event is; False if the document is gone."""
        # The seq guard keeps this one atomic command on MongoDB. FerretDB on SQLite cannot
        # hand ``{_id, seq}`` to SQLite and reads every document to answer it (its update is
        # a read then a write anyway); a bare ``_id`` read, compare and write would avoid
        # the scan there, at the price of the guard's atomicity on MongoDB.
        result = await self._documents.update_one(
            {"_id": event.document_id, "seq": {"$lte": event.seq}}, {"$set": projection(event)}
        )
        if result.matched_count:
            return True
        return await self._documents.find_one({"_id": event.document_id}, {"_id": True}) is not None

    async def status_history(self, document_id: str) -> list[StatusEvent]:
        found = self._events.find(
            {"document_id": document_id, "tombstone": {"$ne": True}}, {"_id": False}
        ).sort("seq")
        return [StatusEvent.model_validate(data) async for data in found]

    async def status_events_since(
        self, owner: str, cursor: int, limit: int = 500
    ) -> list[StatusEvent]:
        if limit == 0:
            return []
        found = (
            self._events.find({"owner": owner, "cursor": {"$gt": cursor}}, {"_id": False})
            .sort("cursor")
            .limit(max(limit, 0))
        )
        return [StatusEvent.model_validate(data) async for data in found]

    async def latest_cursor(self, owner: str) -> int:
        counter = await self._counters.find_one({"_id": owner})
        return int(counter["value"]) if counter is not None else 0

    # --- chunks ---
    # Chunks are addressed by ``_id`` = ``{document_id}:{index}``. "The first
    # analysis wins" and "count a chunk once" are inserts into ``chunk_analyses``
    # and ``chunk_marks`` keyed by that ``_id``: a duplicate-key error is atomic on
    # every MongoDB-protocol server, and a bare ``_id`` is the one filter FerretDB
    # answers without scanning the collection (a conditional update such as
    # ``{_id, analysis: None}`` takes it ~200 ms at a thousand chunks).
    async def put_chunks(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        # Plain inserts, duplicates ignored: re-storing chunks changes nothing.
        # (Bulk upserts would do the same on MongoDB, but FerretDB answers
        # concurrent ones with replies PyMongo cannot parse.)
        if not chunks:
            return
        rows = [
            {**Chunk.model_validate(c.model_dump()).model_dump(),
             "_id": _chunk_id(document_id, c.index), "document_id": document_id}
            for c in chunks
        ]
        try:
            await self._chunks.insert_many(rows, ordered=False)
        except BulkWriteError as exc:
            if not _only_duplicates(exc):
                raise
        # Every chunk given is stored now (inserted, or there already): that is the total,
        # without counting them (a scan of every document's chunks on FerretDB).
        total = len({row["_id"] for row in rows})
        await self._documents.update_one({"_id": document_id}, {"$set": {"chunks_total": total}})

    @staticmethod
    def _chunk_record(data: _Doc, analysis: _Doc | None, indexed: _Doc | None,
                      marks: tuple[bool, bool], entities: _Doc | None = None) -> ChunkRecord:
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
        cid = _chunk_id(document_id, index)
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
        cid = _chunk_id(document_id, index)
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
            {"_id": _chunk_id(document_id, index)},
            {"document_id": document_id, "entities": value}, upsert=True)

    async def mark_chunk_indexed(self, document_id: str, index: int) -> bool:
        cid = _chunk_id(document_id, index)
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

    async def _mark(self, document_id: str, index: int, part: ChunkPart) -> tuple[bool, _Doc | None]:
        """Count the part; whether this call did, and the document's counts after it (its
        counted sets and total, as stored; ``None`` when the chunk or document is gone)."""
        cid = _chunk_id(document_id, index)
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
        after: _Doc | None = await self._documents.find_one_and_update(
            {"_id": document_id}, {"$addToSet": {_COUNTED[part]: index}},
            return_document=ReturnDocument.AFTER)
        return newly, after

    async def count_chunks(self, document_id: str) -> ChunkCounts:
        return await self._counts(document_id, await self._documents.find_one({"_id": document_id}, _COUNTS))

    async def _counts(self, document_id: str, data: _Doc | None) -> ChunkCounts:
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

    # --- result cache ---
    # ``_id`` = key, so a lookup is by bare ``_id`` (no scan on FerretDB) and "first
    # value wins" is an insert whose duplicate-key error is atomic (as for chunks
    # above). The value is kept as JSON text, as SqliteStore does: FerretDB 1.x refuses
    # nested arrays and keys with "." or a leading "$", all of which JSON allows.
    async def cache_get(self, key: str) -> dict[str, Any] | None:
        data = await self._collection("cache").find_one({"_id": key}, {"value": True})
        if data is None:
            return None
        value: dict[str, Any] = json.loads(data["value"])
        return value

    async def token_version(self, user: str) -> int:
        # The head is a hint kept by $max (FerretDB's updates are not atomic, so it may lag);
        # the version is the last revocation claimed after it, found by _id lookups.
        head = await self._collection("token_versions").find_one({"_id": user})
        version = int(head["version"]) if head is not None else 0
        claims = self._collection("token_revocations")
        while await claims.find_one({"_id": f"{user}:{version + 1}"}, projection={"_id": 1}) is not None:
            version += 1
        return version

    async def revoke_tokens(self, user: str) -> int:
        # Each revocation claims the next number with an insert, which the unique _id makes
        # atomic on any server (an $inc on FerretDB is not: two revocations could both read
        # the same version, and the later write could lower it again).
        while True:
            claimed = await self.token_version(user) + 1
            try:
                await self._collection("token_revocations").insert_one({"_id": f"{user}:{claimed}"})
            except DuplicateKeyError:
                continue  # another gateway took this number: the next one is ours to try
            with suppress(DuplicateKeyError):  # two first upserts: the head is only a hint
                await self._collection("token_versions").update_one(
                    {"_id": user}, {"$max": {"version": claimed}}, upsert=True)
            return claimed

    async def cache_put(self, key: str, value: dict[str, Any]) -> None:
        with suppress(DuplicateKeyError):  # another writer came first: its value stays
            await self._collection("cache").insert_one(
                {"_id": key, "value": json.dumps(value), "created_at": utcnow()})

    # --- A/B experiments ---
    async def record_experiment_observation(self, observation: ExperimentObservation) -> None:
        key = "|".join((observation.experiment, observation.document_id, str(observation.unit),
                         observation.version))
        await self._collection("experiment_observations").replace_one(
            {"_id": key}, {"_id": key, **observation.model_dump()}, upsert=True)

    async def experiment_observations(self, experiment: str,
                                      limit: int = 100_000) -> list[ExperimentObservation]:
        found = self._collection("experiment_observations").find(
            {"experiment": experiment}, {"_id": False}).limit(max(limit, 0))
        return [ExperimentObservation.model_validate(data) async for data in found]


    # --- admin ---
    # Both keyed by ``_id`` (no scan on FerretDB); a redrive is marked by an insert whose
    # duplicate-key error is atomic, so two admins redriving one letter get one 202.
    async def mark_redriven(self, letter_id: str) -> bool:
        try:
            await self._collection("dlq_redrives").insert_one({"_id": letter_id, "at": utcnow()})
        except DuplicateKeyError:
            return False
        return True

    async def redriven_letters(self) -> set[str]:
        return {str(d["_id"]) async for d in self._collection("dlq_redrives").find({}, {"_id": True})}

    async def move_lane(self, document_id: str, priority: Priority) -> datetime:
        at = utcnow()
        await self._collection("lane_moves").replace_one(
            {"_id": document_id}, {"priority": priority.value, "at": at}, upsert=True)
        return at

    async def lane_move(self, document_id: str) -> tuple[Priority, datetime] | None:
        found = await self._collection("lane_moves").find_one({"_id": document_id})
        if found is None:
            return None
        return Priority(found["priority"]), found["at"]

    # --- interviews ---
    # The session as JSON text under ``_id`` (FerretDB refuses some keys JSON allows, and a
    # session is read and written whole); ``owner``/``created_at`` beside it for listing.
    async def save_interview(self, session: InterviewSession) -> None:
        await self._collection("interviews").update_one(
            {"_id": session.id},
            {"$set": {"data": session.model_dump_json()},
             "$setOnInsert": {"owner": session.owner, "created_at": session.created_at}},
            upsert=True)

    async def get_interview(self, session_id: str) -> InterviewSession | None:
        found = await self._collection("interviews").find_one({"_id": session_id}, {"data": True})
        return InterviewSession.model_validate_json(found["data"]) if found else None

    async def list_interviews(self, owner: str, limit: int = 50, offset: int = 0) -> list[InterviewSession]:
        found = (self._collection("interviews").find({"owner": owner}, {"data": True})
                 .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
                 .skip(max(offset, 0)).limit(max(limit, 0)))
        return [InterviewSession.model_validate_json(d["data"]) async for d in found]

    async def delete_interview(self, session_id: str) -> bool:
        deleted = await self._collection("interviews").delete_one({"_id": session_id})
        return deleted.deleted_count > 0

    async def save_interview_report(self, session_id: str, report: InterviewReport) -> bool:
        result = await self._collection("interviews").update_one(
            {"_id": session_id}, {"$set": {"report": report.model_dump_json()}})
        return result.matched_count > 0

    async def get_interview_report(self, session_id: str) -> InterviewReport | None:
        found = await self._collection("interviews").find_one({"_id": session_id}, {"report": True})
        if not found or not found.get("report"):
            return None
        return InterviewReport.model_validate_json(found["report"])

#: Where a chunk's stored part lives (its analysis; the record that it is indexed).
_STORED: dict[ChunkPart, str] = {"analysis": "chunk_analyses", "index": "chunk_indexed"}
#: Per part of a chunk: the collection whose ``_id`` insert says it was counted first
#: (progress is reported once), and the document's set of counted chunk indexes.
_MARK_COLLECTIONS: dict[ChunkPart, str] = {"analysis": "chunk_marks", "index": "chunk_index_marks"}
_COUNTED: dict[ChunkPart, str] = {"analysis": "chunks_aggregated_set", "index": "chunks_indexed_set"}
#: The fields of a document that hold its chunk counts.
_COUNTS = {"chunks_total": True, **dict.fromkeys(_COUNTED.values(), True)}


async def _by_id(found: AsyncCursor[_Doc]) -> dict[Any, _Doc]:
    return {d["_id"]: d async for d in found}


#: A document as a record: without the counted sets, which grow with its chunks and are
#: read only to count them (a 1,000-chunk document carries two 1,000-number arrays).
_RECORD_FIELDS: dict[str, bool] = dict.fromkeys(_COUNTED.values(), False)


def _chunk_id(document_id: str, index: int) -> str:
    return f"{document_id}:{index}"
