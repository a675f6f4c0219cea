"""What every SearchIndex adapter promises (see ``doclane.infra.search.base``), and hybrid search over it.

Vectors are small synthetic unit vectors (numpy), so no embedding model is needed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from doclane.infra.connect import ConnectFailed
from doclane.infra.search import hybrid
from doclane.infra.search._common import model_slug
from doclane.infra.search.postgres import PostgresSearchIndex
from doclane.schemas.search import Passage, SearchMode, SearchQuery

DIM = 8
Vec = npt.NDArray[np.float32]


def unit(values: Sequence[float] | Vec) -> Vec:
    v = np.asarray(values, dtype=np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32)


def axis(i: int, dim: int = DIM) -> Vec:
    return np.eye(dim, dtype=np.float32)[i]


def at_cosine(cos: float, a: int = 0, b: int = 1) -> Vec:
    """A unit vector at cosine ``cos`` to ``axis(a)``, in the plane of axes a and b."""
    v = np.zeros(DIM, dtype=np.float32)
    v[a], v[b] = cos, np.sqrt(max(0.0, 1 - cos * cos))
    return v


def passage(
    document_id: str, index: int, text: str, vector: Vec, *, owner: str = "alice", model: str = "test-model",
    content_type: str = "text/plain", doc_type: str | None = None, chunk: int = 0,
) -> Passage:
    return Passage(
        id=f"{document_id}:{chunk}:{index}", document_id=document_id, owner=owner,
        filename=f"{document_id}.txt", content_type=content_type, chunk_index=chunk, passage_index=index,
        section_path=["Intro", "Terms"], page_start=1, page_end=2, text=text, model=model,
        vector=vector, doc_type=doc_type, text_sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def q(text: str = "", owner: str = "alice", k: int = 10, **filters: str) -> SearchQuery:
    return SearchQuery(owner=owner, text=text, k=k, **filters)  # type: ignore[arg-type]


async def test_upsert_is_idempotent_by_id(search_index):
    first = [passage("d1", i, f"alpha passage {i}", axis(i)) for i in range(3)]
    await search_index.upsert(first)
    await search_index.upsert(first)
    assert await search_index.count() == 3
    # The same id with new text replaces the passage, in both the word and the vector index.
    await search_index.upsert([passage("d1", 0, "replaced wording", axis(5))])
    assert await search_index.count() == 3
    assert await search_index.keyword_search(q("replaced"), 5) != []
    assert [h.passage_id for h in await search_index.keyword_search(q("alpha"), 5)] != ["d1:0:0"]
    assert "d1:0:0" not in {h.passage_id for h in await search_index.keyword_search(q("alpha"), 5)}
    top = await search_index.vector_search(q(), axis(5), 1)
    assert top[0].passage_id == "d1:0:0" and top[0].score == pytest.approx(1.0, abs=1e-5)


async def test_keyword_search_finds_words_ranks_and_highlights_escaped(search_index):
    await search_index.upsert([
        passage("d1", 0, "The <b>invoice</b> is overdue & unpaid; the invoice total is 300 EUR.", axis(0)),
        passage("d1", 1, "A resume lists skills such as Python and Kafka.", axis(1)),
        passage("d2", 0, "One invoice mentioned once among many other words here.", axis(2)),
    ])
    hits = await search_index.keyword_search(q("invoices overdue"), 10)
    assert [h.passage_id for h in hits] == ["d1:0:0", "d2:0:0"]  # stemmed; more matches rank first
    assert hits[0].score > hits[1].score
    top = hits[0]
    assert top.document_id == "d1" and top.filename == "d1.txt" and top.section_path == ["Intro", "Terms"]
    assert top.page_start == 1 and top.page_end == 2 and top.text.startswith("The <b>invoice</b>")
    assert "<mark>invoice</mark>" in top.highlight and "<mark>overdue</mark>" in top.highlight
    assert "&lt;b&gt;" in top.highlight and "&amp;" in top.highlight and "<b>" not in top.highlight
    plain = await search_index.keyword_search(q("invoices overdue"), 10, highlight=False)
    assert [(h.passage_id, h.score) for h in plain] == [(h.passage_id, h.score) for h in hits]
    assert plain[0].highlight == (
        "The &lt;b&gt;invoice&lt;/b&gt; is overdue &amp; unpaid; the invoice total is 300 EUR.")
    assert await search_index.keyword_search(q("blockchain"), 10) == []
    assert await search_index.keyword_search(q("  ...  "), 10) == []
    # Query syntax of the engines never leaks through: operators are just characters.
    assert await search_index.keyword_search(q('invoice" OR NOT (x* AND y) | !z:'), 10) != []


async def test_vector_search_ranks_by_cosine(search_index):
    cosines = [0.2, 0.9, 0.5, 0.99, 0.7]
    await search_index.upsert([passage("d1", i, f"text {i}", at_cosine(c)) for i, c in enumerate(cosines)])
    hits = await search_index.vector_search(q(), axis(0), 3)
    assert [h.passage_id for h in hits] == ["d1:0:3", "d1:0:1", "d1:0:4"]
    assert [h.score for h in hits] == pytest.approx([0.99, 0.9, 0.7], abs=1e-4)
    assert len(await search_index.vector_search(q(), axis(0), 10)) == 5


async def test_another_owners_closer_passages_never_appear_or_crowd_out(search_index):
    rng = np.random.default_rng(7)
    mine = [passage("mine", i, f"contract clause {i}", at_cosine(0.5 + i / 100)) for i in range(15)]
    # Bob's passages are all closer to the query and use the words more often.
    theirs = [
        passage(f"bob{i // 50}", i % 50, "contract contract clause clause contract",
                unit(axis(0) + 0.01 * rng.standard_normal(DIM)), owner="bob")
        for i in range(1500)
    ]
    for start in range(0, len(theirs), 500):
        await search_index.upsert(theirs[start:start + 500])
    await search_index.upsert(mine)
    hits = await search_index.vector_search(q(), axis(0), 10)
    assert [h.document_id for h in hits] == ["mine"] * 10
    assert [h.passage_id for h in hits] == [f"mine:0:{i}" for i in range(14, 4, -1)]
    words = await search_index.keyword_search(q("contract clause"), 10)
    assert len(words) == 10 and {h.document_id for h in words} == {"mine"}
    assert len(await search_index.keyword_search(q("contract"), 50)) == 15
    assert len(await search_index.vector_search(q(), axis(0), 50)) == 15
    assert await search_index.vector_search(q(owner="carol"), axis(0), 10) == []


async def test_filters_by_content_type_document_and_doc_type(search_index):
    await search_index.upsert([
        passage("pdf1", 0, "quarterly report revenue", axis(0), content_type="application/pdf",
                doc_type="report"),
        passage("pdf2", 0, "quarterly invoice revenue", at_cosine(0.9), content_type="application/pdf",
                doc_type="invoice"),
        passage("txt1", 0, "quarterly notes revenue", at_cosine(0.95), content_type="text/plain"),
    ])
    for filters, expected in [
        ({"content_type": "application/pdf"}, {"pdf1", "pdf2"}),
        ({"document_id": "txt1"}, {"txt1"}),
        ({"doc_type": "invoice"}, {"pdf2"}),
        ({"content_type": "text/plain", "doc_type": "report"}, set()),
    ]:
        by_words = await search_index.keyword_search(q("quarterly revenue", **filters), 10)
        by_vector = await search_index.vector_search(q(**filters), axis(0), 10)
        assert {h.document_id for h in by_words} == expected, filters
        assert {h.document_id for h in by_vector} == expected, filters


async def test_delete_document_removes_its_passages(search_index):
    await search_index.upsert([passage("gone", i, "ephemeral words", axis(i)) for i in range(3)])
    await search_index.upsert([passage("kept", 0, "ephemeral words", axis(4))])
    assert await search_index.delete_document("gone") == 3
    assert await search_index.delete_document("gone") == 0
    assert await search_index.count(document_id="gone") == 0
    assert {h.document_id for h in await search_index.keyword_search(q("ephemeral"), 10)} == {"kept"}
    assert {h.document_id for h in await search_index.vector_search(q(), axis(0), 10)} == {"kept"}
    assert await search_index.similar_documents("alice", "gone", 5) == []


async def test_similar_documents_by_mean_vector_of_the_owner_only(search_index):
    await search_index.upsert([
        passage("a", 0, "a0", at_cosine(0.95)), passage("a", 1, "a1", at_cosine(0.99)),
        passage("near", 0, "n0", at_cosine(0.9)),
        passage("far", 0, "f0", axis(3)),
        passage("mid", 0, "m0", at_cosine(0.5)),
        passage("bobs", 0, "b0", at_cosine(0.97), owner="bob"),
    ])
    similar = await search_index.similar_documents("alice", "a", 10)
    assert [d.document_id for d in similar] == ["near", "mid", "far"]
    assert similar[0].filename == "near.txt" and similar[0].content_type == "text/plain"
    assert similar[0].score > similar[1].score > similar[2].score
    assert similar[2].score == pytest.approx(0.0, abs=1e-4)
    assert [d.document_id for d in await search_index.similar_documents("alice", "a", 1)] == ["near"]
    assert await search_index.similar_documents("bob", "a", 10) == []  # not bob's document


async def test_embedding_cache_keeps_the_first_vector(search_index):
    assert await search_index.cached_vectors(["h1"]) == {}
    await search_index.cache_vectors({"h1": axis(1), "h2": axis(2)})
    await search_index.cache_vectors({"h1": axis(3)})
    got = await search_index.cached_vectors(["h1", "h2", "h3", "h1"])
    assert set(got) == {"h1", "h2"}
    np.testing.assert_allclose(got["h1"], axis(1))
    assert got["h1"].dtype == np.float32 and got["h1"].shape == (DIM,)


async def test_two_models_never_mix(search_factory):
    a, b = search_factory("model-a", DIM), search_factory("model-b", 16)
    await a.open()
    await b.open()
    try:
        await a.upsert([passage("d1", 0, "shared words", axis(0), model="model-a")])
        await a.cache_vectors({"h": axis(0)})
        await b.upsert([passage("d2", 0, "shared words", unit(np.ones(16)), model="model-b")])
        assert await a.count() == 1 and await b.count() == 1
        assert {h.document_id for h in await a.keyword_search(q("shared"), 10)} == {"d1"}
        assert {h.document_id for h in await b.vector_search(q(), unit(np.ones(16)), 10)} == {"d2"}
        assert await b.cached_vectors(["h"]) == {}
        with pytest.raises(ValueError, match="model-b"):
            await a.upsert([passage("d3", 0, "wrong model", axis(0), model="model-b")])
        with pytest.raises(ValueError, match="dim"):
            await a.upsert([passage("d3", 0, "wrong size", unit(np.ones(16)), model="model-a")])
        assert await a.count() == 1
    finally:
        await a.close()
        await b.close()


async def test_count_for_everyone_an_owner_or_a_document(search_index):
    assert await search_index.count() == 0
    await search_index.upsert([passage("d1", i, "x", axis(i)) for i in range(3)])
    await search_index.upsert([passage("d2", 0, "x", axis(0)), passage("d3", 0, "x", axis(0), owner="bob")])
    assert await search_index.count() == 5
    assert await search_index.count(owner="alice") == 4
    assert await search_index.count(document_id="d1") == 3
    assert await search_index.count(owner="bob", document_id="d1") == 0


async def test_concurrent_opens_of_a_fresh_index_all_succeed(search_factory):
    indexes = [search_factory() for _ in range(5)]
    await asyncio.gather(*(i.open() for i in indexes))
    try:
        await asyncio.gather(*(
            index.upsert([passage(f"d{n}", 0, "hello", axis(n))]) for n, index in enumerate(indexes)
        ))
        assert all([await i.count() == 5 for i in indexes])
    finally:
        await asyncio.gather(*(i.close() for i in indexes))


class FakeEmbedder:
    """Maps known texts to fixed vectors: hybrid search without a model."""

    name = "test-model"
    dim = DIM
    passage_chars = 1000

    def __init__(self, vectors: dict[str, Vec]) -> None:
        self.vectors = vectors

    async def embed(self, texts: Sequence[str]) -> Vec:
        return np.stack([self.vectors.get(t, axis(7)) for t in texts])

    async def close(self) -> None:
        return None


async def test_hybrid_fuses_both_rankings_and_highlights_vector_only_hits(search_index):
    await search_index.upsert([
        passage("both", 0, "payment terms are thirty days", at_cosine(0.95)),
        passage("words", 0, "payment terms apply to every order shipped abroad in the coming year", axis(3)),
        passage("meaning", 0, "settle the bill within a month <soon>", at_cosine(0.99)),
        passage("neither", 0, "unrelated recipe for soup", axis(4)),
        passage("bob", 0, "payment terms for bob", axis(0), owner="bob"),
    ])
    embedder = FakeEmbedder({"payment terms": axis(0)})
    got = await hybrid.search(search_index, embedder, q("payment terms", k=3), SearchMode.HYBRID)
    assert got.mode is SearchMode.HYBRID and got.model == "test-model" and got.took_ms > 0
    assert got.results[0].document_id == "both"
    assert {h.document_id for h in got.results} == {"both", "words", "meaning"}
    assert got.results[0].score == pytest.approx(1.0, abs=0.02)
    meaning = next(h for h in got.results if h.document_id == "meaning")
    assert "&lt;soon&gt;" in meaning.highlight and "<mark>" not in meaning.highlight
    assert "<mark>" in next(h for h in got.results if h.document_id == "words").highlight

    keyword = await hybrid.search(search_index, embedder, q("payment terms"), SearchMode.KEYWORD)
    assert {h.document_id for h in keyword.results} == {"both", "words"} and keyword.model is None
    semantic = await hybrid.search(search_index, embedder, q("payment terms", k=2), SearchMode.SEMANTIC)
    assert [h.document_id for h in semantic.results] == ["meaning", "both"]
    assert "<mark>payment</mark>" in semantic.results[1].highlight

    with pytest.raises(ValueError, match="other-model"):
        other = FakeEmbedder({})
        other.name = "other-model"
        await hybrid.search(search_index, other, q("payment"), SearchMode.HYBRID)


async def test_postgres_unreachable_fails_naming_the_server_not_the_password():
    index = PostgresSearchIndex("postgresql://doclane:s3cret@127.0.0.1:1/doclane", "m", DIM,
                                connect_deadline_s=1)
    with pytest.raises(ConnectFailed) as failed:
        await index.open()
    assert "127.0.0.1:1" in str(failed.value) and "s3cret" not in str(failed.value)


async def test_another_openers_writes_are_seen_at_once(search_factory):
    reader, writer = search_factory(), search_factory()
    await reader.open()
    await writer.open()
    try:
        await writer.upsert([passage("d1", 0, "first words", axis(0))])
        assert [h.passage_id for h in await reader.vector_search(q(), axis(1), 5)] == ["d1:0:0"]
        await writer.upsert([passage("d2", 0, "second words", axis(1))])
        assert [h.passage_id for h in await reader.vector_search(q(), axis(1), 5)] == ["d2:0:0", "d1:0:0"]
        await writer.upsert([passage("d1", 0, "first words moved", axis(1))])  # replaced by id
        scores = {h.passage_id: h.score for h in await reader.vector_search(q(), axis(1), 5)}
        assert scores == pytest.approx({"d1:0:0": 1.0, "d2:0:0": 1.0}, abs=1e-5)
        await writer.delete_document("d2")
        assert [h.passage_id for h in await reader.vector_search(q(), axis(1), 5)] == ["d1:0:0"]
        assert [h.passage_id for h in await reader.keyword_search(q("words"), 5)] == ["d1:0:0"]
    finally:
        await reader.close()
        await writer.close()


async def test_sqlite_vectors_beyond_the_memory_budget_are_read_from_the_file(tmp_path):
    from doclane.infra.search.sqlite import SqliteSearchIndex

    index = SqliteSearchIndex(tmp_path / "search.db", "test-model", DIM, vector_cache_mb=0)
    await index.open()
    try:
        await index.upsert([passage("d1", i, "x", at_cosine(c)) for i, c in enumerate([0.1, 0.8, 0.4])])
        for _ in range(2):
            hits = await index.vector_search(q(), axis(0), 2)
            assert [h.passage_id for h in hits] == ["d1:0:1", "d1:0:2"]
    finally:
        await index.close()


def test_build_search_index_picks_postgres_when_a_url_is_set(tmp_path):
    from doclane.infra.search import build_search_index
    from doclane.infra.search.sqlite import SqliteSearchIndex
    from doclane.infra.settings import Settings

    embedded = build_search_index(Settings(data_dir=tmp_path), "minilm", 384)
    assert isinstance(embedded, SqliteSearchIndex) and embedded.path == tmp_path / "search.db"
    assert (embedded.model, embedded.dim) == ("minilm", 384)
    settings = Settings(data_dir=tmp_path, search_url="postgresql://u:p@db:5432/x", connect_deadline_s=7)
    distributed = build_search_index(settings, "minilm", 384)
    assert isinstance(distributed, PostgresSearchIndex) and distributed.model == "minilm"


async def test_postgres_hnsw_scan_filtered_by_owner_still_finds_the_owners_top_k():
    """The planner's exact owner-first plan is ruled out here, so the HNSW index answers:
    its iterative scan must walk past another owner's 1500 closer vectors."""
    import uuid
    from urllib.parse import urlsplit

    import psycopg

    from tests.utils import infra

    admin_url, database = infra.search_url(), f"t_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as admin:
        await admin.execute(f"CREATE DATABASE {database}")
        await admin.execute(f"ALTER DATABASE {database} SET enable_sort = off")
        await admin.execute(f"ALTER DATABASE {database} SET enable_seqscan = off")
    url = urlsplit(admin_url)._replace(path=f"/{database}").geturl()
    index = PostgresSearchIndex(url, "test-model", DIM)
    try:
        await index.open()
        rng = np.random.default_rng(3)
        for start in range(0, 1500, 500):
            await index.upsert([
                passage(f"bob{i // 50}", i % 50, "x", unit(axis(0) + 0.01 * rng.standard_normal(DIM)),
                        owner="bob")
                for i in range(start, start + 500)
            ])
        await index.upsert([passage("mine", i, "x", at_cosine(0.5 + i / 100)) for i in range(15)])
        async with await psycopg.AsyncConnection.connect(url) as conn:
            from pgvector.psycopg import register_vector_async

            await register_vector_async(conn)
            plan = await (await conn.execute(
                f"EXPLAIN SELECT id FROM p_{model_slug('test-model')} WHERE owner = 'alice' "  # noqa: S608
                "ORDER BY embedding <=> %s LIMIT 10", (axis(0),))).fetchall()
        assert "hnsw" in " ".join(r[0] for r in plan)
        hits = await index.vector_search(q(), axis(0), 10)
        assert [h.passage_id for h in hits] == [f"mine:0:{i}" for i in range(14, 4, -1)]
    finally:
        await index.close()
        async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as admin:
            await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
