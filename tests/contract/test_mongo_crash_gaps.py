"""MongoStore: a writer that dies mid-append leaves no gap in a document's seq.

MongoDB here has no transactions, so an append is several writes. If the writer is
killed after numbering its event and before inserting it, the next append of that
document must still take the next number (streams and clients rely on contiguous seq).
"""

from __future__ import annotations

import uuid

import pytest

from doclane.infra.store.mongo import MongoStore
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import DocumentStatus, Stage, StatusChange
from tests.utils import infra


class _Killed(Exception):
    pass


@pytest.fixture
async def mongo():
    store = MongoStore(infra.mongo_url(), database=f"t_{uuid.uuid4().hex[:12]}")
    await store.open()
    try:
        yield store
    finally:
        await store.drop()
        await store.close()


def _doc() -> DocumentRecord:
    doc_id = uuid.uuid4().hex
    return DocumentRecord(id=doc_id, owner="alice", filename="a.txt", content_type="text/plain",
                          size_bytes=1, sha256="0" * 64, blob_key=f"uploads/{doc_id}/a.txt")


@pytest.mark.parametrize("dies_at", ["insert", "projection"])
async def test_an_append_killed_midway_leaves_no_gap_in_seq(mongo, monkeypatch, dies_at):
    doc = _doc()
    await mongo.create_document(doc)
    await mongo.append_status(doc.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD))

    target = {"insert": "insert_one", "projection": "update_one"}[dies_at]
    collection = mongo._events if dies_at == "insert" else mongo._documents
    real = getattr(type(collection), target)

    async def dies(self, *args, **kwargs):
        if dies_at == "projection":
            await real(self, *args, **kwargs)  # the write lands, the process dies right after
        raise _Killed

    monkeypatch.setattr(type(collection), target, dies)
    with pytest.raises(_Killed):
        await mongo.append_status(
            doc.id, StatusChange(status=DocumentStatus.PROCESSING, stage=Stage.EXTRACT))
    monkeypatch.setattr(type(collection), target, real)

    # The restarted writer appends again (a redelivered event): numbering goes on without a gap.
    await mongo.append_status(doc.id, StatusChange(status=DocumentStatus.PROCESSING, stage=Stage.EXTRACT))
    await mongo.append_status(doc.id, StatusChange(status=DocumentStatus.ANALYZING, stage=Stage.EXTRACT))
    seqs = [e.seq for e in await mongo.status_history(doc.id)]
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    assert (await mongo.get_document(doc.id)).seq == seqs[-1]


async def test_chunks_stored_by_a_writer_killed_before_counting_them_are_counted(mongo, monkeypatch):
    from doclane.schemas.extraction import Chunk

    doc = _doc()
    await mongo.create_document(doc)
    documents = type(mongo._documents)
    real = documents.update_one

    async def dies(self, *args, **kwargs):
        raise _Killed

    monkeypatch.setattr(documents, "update_one", dies)  # the chunks land, their count does not
    with pytest.raises(_Killed):
        await mongo.put_chunks(doc.id, [Chunk(index=i, text=f"part {i}") for i in range(3)])
    monkeypatch.setattr(documents, "update_one", real)
    # The redelivered extraction finds its chunks stored and reuses them: the count must be right.
    assert (await mongo.count_chunks(doc.id)).total == 3


async def _killed_at(monkeypatch, collection, method: str, call) -> None:
    """Run ``call`` with ``collection.method`` failing before its write lands (a server restart)."""
    cls = type(collection)
    real = getattr(cls, method)

    async def dies(self, *args, **kwargs):
        raise _Killed

    monkeypatch.setattr(cls, method, dies)
    with pytest.raises(_Killed):
        await call()
    monkeypatch.setattr(cls, method, real)


async def test_a_completion_stored_but_not_projected_is_not_followed_by_a_retry_notice(mongo, monkeypatch):
    # Seen with a FerretDB restart mid-run: the aggregator stored ``completed``, died before
    # projecting it, and the runner's retry notice ("analyzing", attempt 2) landed after it.
    doc = _doc()
    await mongo.create_document(doc)
    for status in (DocumentStatus.PENDING, DocumentStatus.PROCESSING, DocumentStatus.ANALYZING):
        await mongo.append_status(doc.id, StatusChange(status=status, stage=Stage.EXTRACT))

    # The event lands; its projection onto the document does not.
    await _killed_at(monkeypatch, mongo._documents, "update_one", lambda: mongo.append_status(
        doc.id, StatusChange(status=DocumentStatus.COMPLETED, stage=Stage.AGGREGATE)))

    notice = await mongo.append_status(doc.id, StatusChange(
        status=DocumentStatus.ANALYZING, stage=Stage.AGGREGATE, attempt=2, detail="retrying"))
    assert notice is None  # the document is finished: nothing follows its terminal event
    statuses = [e.status for e in await mongo.status_history(doc.id)]
    assert statuses[-1] is DocumentStatus.COMPLETED, statuses
    assert (await mongo.get_document(doc.id)).status is DocumentStatus.COMPLETED


async def test_a_chunk_counted_by_a_writer_killed_midway_is_counted_once(mongo, monkeypatch):
    from doclane.schemas.extraction import Chunk

    doc = _doc()
    await mongo.create_document(doc)
    await mongo.put_chunks(doc.id, [Chunk(index=i, text=f"part {i}") for i in range(2)])
    # The mark lands, the count does not: the redelivered result must still be counted.
    marks = mongo._collection("chunk_marks")

    await _killed_at(monkeypatch, mongo._documents, "find_one_and_update",
                     lambda: mongo.mark_chunk_aggregated(doc.id, 0, "analysis"))
    assert await marks.find_one({"_id": f"{doc.id}:0"}) is not None
    await mongo.mark_chunk_aggregated(doc.id, 0, "analysis")  # the redelivery
    await mongo.mark_chunk_aggregated(doc.id, 0, "analysis")  # and a duplicate of it
    await mongo.mark_chunk_aggregated(doc.id, 1, "analysis")
    assert (await mongo.count_chunks(doc.id)).analyzed == 2
