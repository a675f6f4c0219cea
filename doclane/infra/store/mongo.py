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

import pymongo
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure

from doclane.exceptions import DoclaneError
from doclane.infra.connect import DEFAULT_CONNECT_DEADLINE_S, redact_url, retry_connect
from doclane.infra.store._mongo import Doc
from doclane.infra.store.base import Store, projection
from doclane.infra.store.mongo_chunks import CHUNK_COLLECTIONS, RECORD_FIELDS, MongoChunks
from doclane.infra.store.mongo_records import MongoRecords
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import DocumentStatus, StatusChange, StatusEvent, utcnow

__all__ = ["MongoStore", "StoreContention"]


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


def _record_to_bson(doc: DocumentRecord) -> Doc:
    data = doc.model_dump()
    data["_id"] = data.pop("id")
    return data


def _record(data: Doc) -> DocumentRecord:
    data["id"] = data.pop("_id")
    return DocumentRecord.model_validate(data)


def _transient(exc: BaseException) -> bool:
    """Worth another attempt at start: the server is not up yet, or a sibling won a race."""
    if isinstance(exc, ConnectionFailure):  # also AutoReconnect, ServerSelectionTimeoutError
        return True
    return isinstance(exc, OperationFailure) and exc.code in _RETRY_AT_START


async def _prepare(db: AsyncDatabase[Doc], budget_s: float) -> None:
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


class MongoStore(MongoChunks, MongoRecords, Store):
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
        self._client: AsyncMongoClient[Doc] | None = None
        self._db: AsyncDatabase[Doc] | None = None

    async def open(self) -> None:
        """Connect and create the missing indexes, retrying until the connect deadline.

        Safe when many processes open one new database at once (see :func:`_prepare`).

        Raises:
            ConnectFailed: the server did not answer, or kept failing, until the deadline.
        """
        client: AsyncMongoClient[Doc] = AsyncMongoClient(self._url, tz_aware=True)
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

    # --- documents ---
    async def create_document(self, doc: DocumentRecord) -> None:
        await self._documents.insert_one(_record_to_bson(doc))

    async def get_document(self, document_id: str) -> DocumentRecord | None:
        data = await self._documents.find_one({"_id": document_id}, RECORD_FIELDS)
        return _record(data) if data is not None else None

    async def list_documents(
        self, owner: str, status: DocumentStatus | None = None, limit: int = 100, offset: int = 0,
        doc_type: str | None = None,
    ) -> list[DocumentRecord]:
        if limit == 0:  # PyMongo reads limit 0 as "no limit"
            return []
        query: Doc = {"owner": owner}
        if status is not None:
            query["status"] = status.value
        if doc_type is not None:
            query["doc_type"] = doc_type
        found = (
            self._documents.find(query, RECORD_FIELDS)
            .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
            .skip(max(offset, 0))
            .limit(max(limit, 0))
        )
        return [_record(data) async for data in found]

    async def update_document(self, document_id: str, **fields: object) -> None:
        data = await self._documents.find_one({"_id": document_id}, RECORD_FIELDS)
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
        for name in CHUNK_COLLECTIONS:
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
        which: Doc = {"document_id": document_id} if seq is None else {
            "document_id": document_id, "seq": seq}
        await self._events.update_many(which, {"$set": {
            "tombstone": True, "progress": None, "detail": None,
            "error": None, "error_category": None, "attempt": None, "analysis": None}})

    async def _bump_counter(self, owner: str, update: Doc) -> int:
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
