"""One search over any index: keyword, semantic, or both fused by reciprocal rank.

Hybrid search asks each side for more candidates than it returns
(``max(50, 5 x k)``), then fuses the two rankings by reciprocal rank
(``1 / (60 + rank)`` from each side): ranks need no calibration between
BM25/ts_rank scores and cosines, which live on unrelated scales (and differ
between the two adapters). A keyword hit's share is weighted by the cube of its
*coverage*, the fraction of the query's words it holds: a full-text engine asked
a paraphrase ("when do employees get their wages") still returns passages that
share one common word, and plain RRF let those outrank the semantic side's right
answer (hybrid recall@10 0.887 against 0.976 for semantic alone on the search
set). With coverage, a passage that holds the query's words keeps its keyword
boost and one that holds a stray word loses it. The weighting was chosen on the
tuning half of the query set and reported on the other half (README, "Search").
The fused score is scaled so that a passage ranked first by both sides, holding
every query word, scores 1.0.

Hybrid search asks both sides for unmarked candidates, and marks the query's
words only in the passages it returns (HTML-escaped), the same way whichever side
found them: the full-text engines' snippets cost ~0.2 ms a passage, for 50
candidates of which 10 are kept.
"""

from __future__ import annotations

import asyncio
import time

from doclane.ai.embeddings.base import Embedder
from doclane.infra.search._common import coverage, mark_words, query_words
from doclane.infra.search.base import SearchIndex, Vector
from doclane.schemas.search import SearchHit, SearchMode, SearchQuery, SearchResponse

__all__ = ["COVERAGE_POWER", "RRF_K", "candidate_depth", "fuse", "search"]

#: The constant of reciprocal rank fusion (Cormack et al. 2009): damps the weight of top ranks.
RRF_K = 60
#: A keyword hit counts ``coverage ** COVERAGE_POWER`` of a full RRF share.
COVERAGE_POWER = 3


def candidate_depth(k: int) -> int:
    """How many hits each side contributes to a hybrid search for ``k`` results."""
    return max(50, 5 * k)


def fuse(keyword: list[SearchHit], vector: list[SearchHit], k: int, words: list[str]) -> list[SearchHit]:
    """The top ``k`` of two rankings by coverage-weighted reciprocal rank fusion, best first."""
    scores: dict[str, float] = {}
    hits: dict[str, SearchHit] = {}
    for rank, hit in enumerate(keyword, start=1):
        share = coverage(hit.text, words) ** COVERAGE_POWER
        scores[hit.passage_id] = scores.get(hit.passage_id, 0.0) + share / (RRF_K + rank)
        hits.setdefault(hit.passage_id, hit)
    for rank, hit in enumerate(vector, start=1):
        scores[hit.passage_id] = scores.get(hit.passage_id, 0.0) + 1.0 / (RRF_K + rank)
        hits.setdefault(hit.passage_id, hit)
    best = 2.0 / (RRF_K + 1)
    ranked = sorted(scores, key=lambda pid: (-scores[pid], pid))[:k]
    return [hits[pid].model_copy(update={"score": scores[pid] / best,
                                         "highlight": mark_words(hits[pid].text, words)})
            for pid in ranked]


async def _query_vector(embedder: Embedder, text: str) -> Vector:
    vectors = await embedder.embed([text])
    vector: Vector = vectors[0]
    return vector


async def search(
    index: SearchIndex, embedder: Embedder, query: SearchQuery, mode: SearchMode
) -> SearchResponse:
    """Search the caller's passages (``query.owner``) in ``mode``; ``took_ms`` covers embedding too."""
    started = time.perf_counter()
    if mode is not SearchMode.KEYWORD and embedder.name != index.model:
        # Vectors of two models are not comparable: a query embedded by another model
        # would return confident nonsense.
        raise ValueError(f"the embedder is {embedder.name!r} but the index holds {index.model!r} vectors")
    words = query_words(query.text)
    if mode is SearchMode.KEYWORD:
        results = await index.keyword_search(query, query.k)
    elif mode is SearchMode.SEMANTIC:
        vector = await _query_vector(embedder, query.text)
        results = await index.vector_search(query, vector, query.k)
        results = [h.model_copy(update={"highlight": mark_words(h.text, words)}) for h in results]
    else:
        depth = candidate_depth(query.k)

        async def semantic() -> list[SearchHit]:
            return await index.vector_search(query, await _query_vector(embedder, query.text), depth)

        # Embedding the query (CPU, off the loop) overlaps the full-text query.
        keyword_hits, vector_hits = await asyncio.gather(
            index.keyword_search(query, depth, highlight=False), semantic())
        results = fuse(keyword_hits, vector_hits, query.k, words)
    return SearchResponse(
        results=results,
        mode=mode,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        model=None if mode is SearchMode.KEYWORD else index.model,
    )
