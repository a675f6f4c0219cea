"""What every Store adapter promises (see ``doclane.infra.store.base``)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid

from doclane.schemas.analysis import ChunkAnalysis, DocumentAnalysis
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.enrichment import Classification, DocType, Entity, EntityLabel
from doclane.schemas.events import DocumentStatus, Progress, Stage, StatusChange
from doclane.schemas.extraction import Chunk


def _key(prefix: str = "chunk") -> str:
    return f"{prefix}:{hashlib.sha256(uuid.uuid4().bytes).hexdigest()}"


def _exactly(value: object) -> str:
    """A rendering that tells ``True`` from ``1`` and ``1.0`` from ``1``, unlike ``==``."""
    return json.dumps(value, sort_keys=True)


_RESULT = {
    "summary": "Quarterly numbers, “quoted” — ünïcode.",
    "score": -0.125,
    "count": 3,
    "flags": {"negative": True, "draft": False, "reviewed": None},
    "entities": [{"text": "ACME", "kind": "org", "spans": [[0, 4], [10, 14]]}, {"text": "", "kind": None}],
    "empty": {"list": [], "dict": {}},
    "mixed": [1, 1.5, "two", False, None, [], {}],
    "keys": {"a.b": 1, "$ref": 2, "_id": 3, "": 4},  # legal in JSON, not as Mongo field names
}


def _doc(owner: str = "alice") -> DocumentRecord:
    doc_id = uuid.uuid4().hex
    return DocumentRecord(
        id=doc_id,
        owner=owner,
        filename="a.pdf",
        content_type="application/pdf",
        size_bytes=10,
        sha256="0" * 64,
        blob_key=f"uploads/{doc_id}/a.pdf",
    )


async def test_a_document_round_trips(store):
    doc = _doc()
    await store.create_document(doc)
    got = await store.get_document(doc.id)
    assert got is not None and got.model_dump() == doc.model_dump()
    assert await store.get_document("missing") is None


async def test_status_history_is_contiguous_and_projected_onto_the_document(store):
    doc = _doc()
    await store.create_document(doc)
    await store.append_status(doc.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD))
    await store.append_status(doc.id, StatusChange(status=DocumentStatus.PROCESSING, stage=Stage.EXTRACT))
    await store.append_status(
        doc.id,
        StatusChange(
            status=DocumentStatus.ANALYZING, stage=Stage.ANALYZE, progress=Progress(done=1, total=2)
        ),
    )
    history = await store.status_history(doc.id)
    assert [e.seq for e in history] == [1, 2, 3]
    assert [e.status for e in history] == ["pending", "processing", "analyzing"]
    assert history[2].progress == Progress(done=1, total=2)
    assert history[0].timestamp <= history[1].timestamp <= history[2].timestamp
    current = await store.get_document(doc.id)
    assert current.status is DocumentStatus.ANALYZING and current.seq == 3


async def test_concurrent_appends_never_share_a_seq_or_cursor(store):
    docs = [_doc() for _ in range(3)]
    for d in docs:
        await store.create_document(d)
    await asyncio.gather(
        *(
            store.append_status(d.id, StatusChange(status=DocumentStatus.PROCESSING, stage=Stage.EXTRACT))
            for d in docs
            for _ in range(10)
        )
    )
    for d in docs:
        assert [e.seq for e in await store.status_history(d.id)] == list(range(1, 11))
    cursors = [e.cursor for e in await store.status_events_since("alice", 0)]
    assert cursors == list(range(1, 31))
    assert await store.latest_cursor("alice") == 30


async def test_a_terminal_document_takes_no_more_events_unless_allowed(store):
    doc = _doc()
    await store.create_document(doc)
    analysis = DocumentAnalysis(summary="Done.")
    done = await store.append_status(
        doc.id, StatusChange(status=DocumentStatus.COMPLETED, stage=Stage.AGGREGATE, analysis=analysis)
    )
    assert done is not None
    assert (
        await store.append_status(doc.id, StatusChange(status=DocumentStatus.FAILED, stage=Stage.ANALYZE))
        is None
    )
    assert (await store.get_document(doc.id)).analysis == analysis
    again = await store.append_status(
        doc.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD), allow_after_terminal=True
    )
    assert again is not None and again.seq == 2


async def test_failure_reason_is_kept_on_the_document(store):
    doc = _doc()
    await store.create_document(doc)
    await store.append_status(
        doc.id,
        StatusChange(
            status=DocumentStatus.FAILED,
            stage=Stage.EXTRACT,
            detail="This PDF is password-protected.",
            error_category="encrypted",
        ),
    )
    got = await store.get_document(doc.id)
    assert got.status is DocumentStatus.FAILED
    assert got.error == "This PDF is password-protected."
    assert got.error_category == "encrypted"


async def test_owner_cursor_reads_only_that_owner_after_a_point(store):
    mine, theirs = _doc("alice"), _doc("bob")
    for d in (mine, theirs):
        await store.create_document(d)
        await store.append_status(d.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD))
        await store.append_status(d.id, StatusChange(status=DocumentStatus.PROCESSING, stage=Stage.EXTRACT))
    events = await store.status_events_since("alice", 1)
    assert [(e.document_id, e.cursor) for e in events] == [(mine.id, 2)]
    assert await store.latest_cursor("nobody") == 0


async def test_queries_by_owner_and_status(store):
    a1, a2, b1 = _doc("alice"), _doc("alice"), _doc("bob")
    for d in (a1, a2, b1):
        await store.create_document(d)
    await store.append_status(a2.id, StatusChange(status=DocumentStatus.FAILED, stage=Stage.EXTRACT))
    assert {d.id for d in await store.list_documents("alice")} == {a1.id, a2.id}
    assert [d.id for d in await store.list_documents("alice", DocumentStatus.FAILED)] == [a2.id]
    assert [d.id for d in await store.list_documents("bob")] == [b1.id]
    assert len(await store.list_documents("alice", limit=1)) == 1


async def test_chunks_keep_their_first_analysis_and_count_once(store):
    doc = _doc()
    await store.create_document(doc)
    chunks = [
        Chunk(index=i, text=f"text {i}", section_path=["A"], page_start=i + 1, page_end=i + 1)
        for i in range(3)
    ]
    await store.put_chunks(doc.id, chunks)
    await store.put_chunks(doc.id, chunks)  # a redelivered extraction changes nothing
    first = ChunkAnalysis(summary="first")
    assert await store.save_chunk_analysis(doc.id, 1, first) is True
    assert await store.save_chunk_analysis(doc.id, 1, ChunkAnalysis(summary="second")) is False
    await store.put_chunks(doc.id, chunks)
    stored = (await store.list_chunks(doc.id))[1]
    assert stored.analysis == first and stored.analyzed_at is not None
    assert stored.section_path == ["A"] and stored.page_start == 2
    assert (await store.mark_and_count_chunks(doc.id, 1, "analysis"))[0] is True
    assert (await store.mark_and_count_chunks(doc.id, 1, "analysis"))[0] is False
    assert await store.count_chunks(doc.id) == (1, 0, 3)
    assert [c.index for c in await store.list_chunks(doc.id)] == [0, 1, 2]


async def test_marking_a_part_counted_returns_the_counts_after_it(store):
    doc = _doc()
    await store.create_document(doc)
    await store.put_chunks(doc.id, [Chunk(index=i, text=f"part {i}") for i in range(2)])
    assert await store.mark_and_count_chunks(doc.id, 0, "analysis") == (True, (1, 0, 2))
    assert await store.mark_and_count_chunks(doc.id, 0, "analysis") == (False, (1, 0, 2))
    assert await store.mark_and_count_chunks(doc.id, 1, "index") == (True, (1, 1, 2))
    newly, counts = await store.mark_and_count_chunks(doc.id, 1, "analysis")
    assert newly and counts == (2, 1, 2) and counts.done == 1 and not counts.complete
    assert await store.mark_and_count_chunks(doc.id, 0, "index") == (True, (2, 2, 2))
    assert await store.count_chunks(doc.id) == (2, 2, 2)
    assert await store.mark_and_count_chunks(doc.id, 7, "index") == (False, (2, 2, 2))  # no such chunk


async def test_indexing_is_recorded_and_counted_apart_from_analysis(store):
    doc = _doc()
    await store.create_document(doc)
    await store.put_chunks(doc.id, [Chunk(index=i, text=f"part {i}") for i in range(2)])
    assert await store.mark_chunk_indexed(doc.id, 0) is True
    assert await store.mark_chunk_indexed(doc.id, 0) is False  # a redelivery indexes nothing twice
    assert await store.mark_chunk_indexed(doc.id, 5) is False  # no such chunk
    first, second = await store.list_chunks(doc.id)
    assert first.indexed_at is not None and second.indexed_at is None
    assert (await store.mark_and_count_chunks(doc.id, 0, "index"))[0] is True
    assert (await store.mark_and_count_chunks(doc.id, 0, "index"))[0] is False
    counts = await store.count_chunks(doc.id)
    assert counts == (0, 1, 2) and counts.done == 0 and not counts.complete
    for i in range(2):
        await store.mark_and_count_chunks(doc.id, i, "analysis")
        await store.mark_and_count_chunks(doc.id, i, "index")
    counts = await store.count_chunks(doc.id)
    assert counts.done == 2 and counts.complete
    stored = (await store.list_chunks(doc.id))[1]
    assert stored.aggregated and stored.index_aggregated


async def test_a_stage_learns_whether_its_part_of_a_chunk_is_stored(store):
    # What the analyzer and the indexer read before working on a chunk: one cheap answer,
    # not the chunk with its text, analysis and entities.
    doc = _doc()
    await store.create_document(doc)
    await store.put_chunks(doc.id, [Chunk(index=i, text=f"part {i}") for i in range(2)])
    assert await store.chunk_has(doc.id, 0, "analysis") is False
    assert await store.chunk_has(doc.id, 0, "index") is False
    await store.save_chunk_analysis(doc.id, 0, ChunkAnalysis(summary="s"))
    await store.mark_chunk_indexed(doc.id, 1)
    assert await store.chunk_has(doc.id, 0, "analysis") is True
    assert await store.chunk_has(doc.id, 0, "index") is False
    assert await store.chunk_has(doc.id, 1, "analysis") is False
    assert await store.chunk_has(doc.id, 1, "index") is True
    assert await store.chunk_has(doc.id, 5, "analysis") is None  # no such chunk
    await store.delete_document(doc.id)
    assert await store.chunk_has(doc.id, 0, "analysis") is None  # the document is gone


async def test_update_and_delete_remove_everything_of_a_document(store):
    doc = _doc()
    await store.create_document(doc)
    await store.update_document(doc.id, page_count=7, title="Report")
    got = await store.get_document(doc.id)
    assert (got.page_count, got.title) == (7, "Report")
    await store.append_status(doc.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD))
    await store.put_chunks(doc.id, [Chunk(index=0, text="x")])
    assert await store.delete_document(doc.id) is True
    assert await store.get_document(doc.id) is None
    assert await store.status_history(doc.id) == []
    assert await store.list_chunks(doc.id) == []
    assert await store.delete_document(doc.id) is False
    assert (
        await store.append_status(doc.id, StatusChange(status=DocumentStatus.FAILED, stage=Stage.EXTRACT))
        is None
    )


async def test_replayed_events_restore_history_projection_and_counters(store):
    from doclane.schemas.events import StatusEvent

    doc = _doc("carol")
    await store.create_document(doc)
    steps = [
        (DocumentStatus.PENDING, Stage.UPLOAD),
        (DocumentStatus.PROCESSING, Stage.EXTRACT),
        (DocumentStatus.FAILED, Stage.EXTRACT),
    ]
    events = [
        StatusEvent(
            document_id=doc.id,
            owner="carol",
            seq=i,
            cursor=i,
            status=status,
            stage=stage,
            detail="This PDF is damaged." if status is DocumentStatus.FAILED else None,
            error_category="corrupt" if status is DocumentStatus.FAILED else None,
        )
        for i, (status, stage) in enumerate(steps, start=1)
    ]
    assert [await store.restore_status(e) for e in events] == [True, True, True]
    assert [await store.restore_status(e) for e in events] == [False, False, False]
    assert [e.seq for e in await store.status_history(doc.id)] == [1, 2, 3]
    restored = await store.get_document(doc.id)
    assert restored.status is DocumentStatus.FAILED and restored.seq == 3
    assert restored.error == "This PDF is damaged."
    assert await store.latest_cursor("carol") == 3
    again = await store.append_status(
        doc.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD), allow_after_terminal=True
    )
    assert (again.seq, again.cursor) == (4, 4)
    ghost = events[0].model_copy(update={"document_id": "deleted-doc"})
    assert await store.restore_status(ghost) is False


async def test_a_second_process_opens_the_same_store_and_sees_the_data(store, store_factory):
    doc = _doc()
    await store.create_document(doc)
    other = store_factory()
    await other.open()  # e.g. a worker starting after the gateway: indexes exist already
    try:
        assert (await other.get_document(doc.id)).id == doc.id
        event = await other.append_status(
            doc.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD)
        )
        assert event.seq == 1
    finally:
        await other.close()
    assert (await store.get_document(doc.id)).seq == 1


async def test_deleting_leaves_contentless_tombstones_so_cursors_stay_gapless(store):
    gone, kept = _doc("dave"), _doc("dave")
    for d in (gone, kept):
        await store.create_document(d)
    await store.append_status(gone.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD))
    await store.append_status(
        gone.id,
        StatusChange(
            status=DocumentStatus.COMPLETED,
            stage=Stage.AGGREGATE,
            analysis=DocumentAnalysis(summary="Private findings."),
        ),
    )
    await store.append_status(kept.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD))
    await store.delete_document(gone.id)
    events = await store.status_events_since("dave", 0)
    assert [e.cursor for e in events] == [1, 2, 3]
    assert [e.tombstone for e in events] == [True, True, False]
    assert all(e.analysis is None and e.detail is None for e in events[:2])
    assert await store.status_history(gone.id) == []


async def test_the_cache_misses_then_round_trips_a_nested_value_exactly(store):
    key = _key()
    assert await store.cache_get(key) is None
    await store.cache_put(key, _RESULT)
    got = await store.cache_get(key)
    assert got == _RESULT and _exactly(got) == _exactly(_RESULT)
    assert await store.cache_get(key.replace("chunk:", "doc:", 1)) is None  # keys are exact


async def test_the_first_cached_value_is_kept(store):
    key = _key("doc")
    await store.cache_put(key, {"summary": "first"})
    await store.cache_put(key, {"summary": "second", "extra": 1})
    assert await store.cache_get(key) == {"summary": "first"}


async def test_concurrent_cache_writers_of_one_key_do_not_fail_and_one_wins(store):
    key = _key()
    values = [{"summary": f"writer {i}", "n": i} for i in range(5)]
    await asyncio.gather(*(store.cache_put(key, v) for v in values))
    assert await store.cache_get(key) in values
    assert await store.cache_get(key) == await store.cache_get(key)  # settled: no later switch


async def test_cached_values_survive_reopening_and_are_seen_by_a_second_process(store, store_factory):
    key = _key()
    await store.cache_put(key, _RESULT)
    await store.close()
    await store.open()
    assert await store.cache_get(key) == _RESULT
    other = store_factory()
    await other.open()
    try:
        assert await other.cache_get(key) == _RESULT
        await other.cache_put(key, {"summary": "late"})
    finally:
        await other.close()
    assert await store.cache_get(key) == _RESULT


async def test_cache_entries_outlive_the_document_they_came_from(store):
    doc = _doc()
    await store.create_document(doc)
    await store.put_chunks(doc.id, [Chunk(index=0, text="x")])
    chunk_key, doc_key = _key("chunk"), _key("doc")
    await store.cache_put(chunk_key, {"summary": "chunk result"})
    await store.cache_put(doc_key, {"summary": "document result"})
    assert await store.delete_document(doc.id) is True
    assert await store.cache_get(chunk_key) == {"summary": "chunk result"}
    assert await store.cache_get(doc_key) == {"summary": "document result"}


async def test_token_versions_start_at_zero_and_every_revocation_raises_them(store, store_factory):
    assert await store.token_version("alice") == 0
    assert await store.revoke_tokens("alice") == 1
    # Concurrent revocations (two gateways) may be merged into one step on a server
    # without atomic increments, but each one leaves the version above what it was.
    results = await asyncio.gather(*(store.revoke_tokens("alice") for _ in range(5)))
    final = await store.token_version("alice")
    assert min(results) >= 2 and final == max(results)
    assert await store.token_version("bob") == 0
    other = store_factory()  # another gateway sees the revocation at once
    await other.open()
    try:
        assert await other.token_version("alice") == final
    finally:
        await other.close()


async def test_documents_are_listed_by_type_once_classified(store):
    invoice, letter, unclassified = _doc(), _doc(), _doc()
    for doc in (invoice, letter, unclassified):
        await store.create_document(doc)
    await store.update_document(invoice.id, doc_type=DocType.INVOICE, classification=Classification(
        label=DocType.INVOICE, confidence=0.9, version="v@1", scores={"invoice": 0.9}))
    await store.update_document(letter.id, doc_type=DocType.LETTER)
    assert [d.id for d in await store.list_documents("alice", doc_type="invoice")] == [invoice.id]
    stored = await store.get_document(invoice.id)
    assert stored.doc_type == "invoice" and stored.classification.confidence == 0.9
    assert len(await store.list_documents("alice")) == 3
    assert await store.list_documents("alice", doc_type="resume") == []


async def test_a_chunks_entities_are_kept_and_replaced_and_deleted_with_it(store):
    doc = _doc()
    await store.create_document(doc)
    await store.put_chunks(doc.id, [Chunk(index=0, text="Mail ana@example.com by 3 March.")])
    mail = Entity(label=EntityLabel.EMAIL, text="ana@example.com", value="ana@example.com",
                  start=5, end=20, chunk_index=0, page=1, section_path=["Intro"])
    await store.save_chunk_entities(doc.id, 0, [mail])
    assert (await store.list_chunks(doc.id))[0].entities == [mail]
    date = Entity(label=EntityLabel.DATE, text="3 March", value="3 March", start=24, end=31)
    await store.save_chunk_entities(doc.id, 0, [mail, date])  # a re-run replaces, never appends
    (chunk,) = await store.list_chunks(doc.id)
    assert chunk.entities == [mail, date]
    await store.delete_document(doc.id)
    assert await store.list_chunks(doc.id) == []
