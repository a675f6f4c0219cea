"""What the parts of the MongoDB store share: the open database's collections and chunk keys.

:class:`~doclane.infra.store.mongo.MongoStore` is put together from
:class:`~doclane.infra.store.mongo_chunks.MongoChunks` (chunks and their counts),
:class:`~doclane.infra.store.mongo_records.MongoRecords` (the result cache, tokens,
experiments, admin marks and interviews) and its own documents and status history; each
part reaches the database through :class:`MongoCollections`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

__all__ = ["Doc", "MongoCollections", "chunk_id", "only_duplicates"]

Doc = dict[str, Any]

_DUPLICATE_KEY = 11000


class MongoCollections:
    """The collections of the open database (``_db`` is set when the store opens)."""

    _db: AsyncDatabase[Doc] | None = None

    def _collection(self, name: str) -> AsyncCollection[Doc]:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db[name]

    @property
    def _documents(self) -> AsyncCollection[Doc]:
        return self._collection("documents")

    @property
    def _chunks(self) -> AsyncCollection[Doc]:
        return self._collection("chunks")

    @property
    def _events(self) -> AsyncCollection[Doc]:
        return self._collection("status_events")

    @property
    def _counters(self) -> AsyncCollection[Doc]:
        """Each owner's last status cursor."""
        return self._collection("counters")


def chunk_id(document_id: str, index: int) -> str:
    """A chunk's ``_id``: its document's id and its index."""
    return f"{document_id}:{index}"


def only_duplicates(exc: BulkWriteError) -> bool:
    """The bulk write failed on duplicate keys alone (rows that were already there)."""
    details: Mapping[str, Any] = exc.details
    return not details.get("writeConcernErrors") and all(
        e.get("code") == _DUPLICATE_KEY for e in details.get("writeErrors") or []
    )
