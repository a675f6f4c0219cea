"""Every SearchIndex adapter filters passages by the entities they mention, and by document type."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from doclane.api.search import entity_filter
from doclane.infra.search import hybrid
from doclane.schemas.enrichment import Entity, EntityLabel
from doclane.schemas.search import Passage, SearchMode, SearchQuery, entity_key, passage_entity_keys

DIM = 8


def _axis(i: int) -> npt.NDArray[np.float32]:
    return np.eye(DIM, dtype=np.float32)[i % DIM]


def _passage(document_id: str, index: int, text: str, entities: list[str], *, owner: str = "alice",
             doc_type: str | None = None) -> Passage:
    return Passage(
        id=f"{document_id}:0:{index}", document_id=document_id, owner=owner, filename=f"{document_id}.txt",
        content_type="text/plain", chunk_index=0, passage_index=index, section_path=[], page_start=1,
        page_end=1, text=text, model="test-model", vector=_axis(index), doc_type=doc_type,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(), entities=entities,
    )


ACME = entity_key("ORG", "Acme Corp")
MARCH = entity_key("DATE", "2026-03-03")


class _Embedder:
    """Hybrid search needs a query vector; every query points at axis 0."""

    name, dim, passage_chars = "test-model", DIM, 500

    async def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return np.stack([_axis(0) for _ in texts])

    async def close(self) -> None:
        return None


async def _setup(index) -> None:
    await index.upsert([
        _passage("inv", 0, "Invoice from Acme Corp, payment due 3 March 2026.", [ACME, MARCH],
                 doc_type="invoice"),
        _passage("inv", 1, "Payment terms: thirty days, bank transfer.", [], doc_type="invoice"),
        _passage("memo", 2, "Payment reminder for the ACME CORP account.", [ACME], doc_type="letter"),
        _passage("other", 3, "Payment schedule of Globex in March.", [entity_key("ORG", "Globex")]),
        _passage("bobs", 4, "Payment to Acme Corp by Bob.", [ACME], owner="bob"),
    ])


async def test_keyword_and_vector_search_keep_only_passages_mentioning_the_entity(search_index):
    await _setup(search_index)
    query = SearchQuery(owner="alice", text="payment", entities=entity_filter("ORG:acme corp"))
    keyword = await search_index.keyword_search(query, 10)
    assert {h.passage_id for h in keyword} == {"inv:0:0", "memo:0:2"}
    vector = await search_index.vector_search(query, _axis(1), 10)
    assert {h.passage_id for h in vector} == {"inv:0:0", "memo:0:2"}  # never bob's, never unfiltered


async def test_plain_text_matches_any_label_and_dates_are_normalised(search_index):
    await _setup(search_index)
    by_text = SearchQuery(owner="alice", text="payment", entities=entity_filter("Acme Corp"))
    assert {h.document_id for h in await search_index.keyword_search(by_text, 10)} == {"inv", "memo"}
    by_date = SearchQuery(owner="alice", text="payment", entities=entity_filter("date:03/03/2026"))
    assert [h.passage_id for h in await search_index.keyword_search(by_date, 10)] == ["inv:0:0"]
    nobody = SearchQuery(owner="alice", text="payment", entities=entity_filter("PERSON:Acme Corp"))
    assert await search_index.keyword_search(nobody, 10) == []
    assert await search_index.vector_search(nobody, _axis(0), 10) == []


async def test_entity_and_type_filters_combine_in_hybrid_search(search_index):
    await _setup(search_index)
    both = SearchQuery(owner="alice", text="payment", doc_type="letter",
                       entities=entity_filter("ORG:Acme Corp"))
    hits = (await hybrid.search(search_index, _Embedder(), both, SearchMode.HYBRID)).results
    assert [h.passage_id for h in hits] == ["memo:0:2"]
    typed = SearchQuery(owner="alice", text="payment", doc_type="invoice")
    hits = (await hybrid.search(search_index, _Embedder(), typed, SearchMode.HYBRID)).results
    assert {h.document_id for h in hits} == {"inv"}


async def test_reindexing_a_passage_replaces_its_entities(search_index):
    await _setup(search_index)
    await search_index.upsert([_passage("memo", 2, "Payment reminder, no company named.", [])])
    query = SearchQuery(owner="alice", text="payment", entities=entity_filter("ORG:Acme Corp"))
    assert {h.passage_id for h in await search_index.keyword_search(query, 10)} == {"inv:0:0"}
    assert {h.passage_id for h in await search_index.vector_search(query, _axis(2), 10)} == {"inv:0:0"}


def test_a_passage_holds_the_entities_its_text_mentions() -> None:
    entities = [Entity(label=EntityLabel.ORG, text="Acme Corp", value="Acme Corp", start=0, end=9),
                Entity(label=EntityLabel.DATE, text="3 March 2026", value="2026-03-03", start=30, end=42)]
    assert passage_entity_keys("Letter to ACME CORP.", entities) == [ACME]
    assert passage_entity_keys("Due 3 March 2026 at Acme Corp", entities) == [MARCH, ACME]
