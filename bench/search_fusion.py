"""How hybrid search fuses its two rankings, chosen on one half of the query set, shown on the other.

``python -m bench.search_fusion`` indexes the search set with the default model,
fetches each query's keyword and vector candidates once, and scores fusion
variants on two fixed halves of the queries (by a hash of the query id): the
tuning half picks the variant (best nDCG@10; near-ties within 0.005 go to the
rank-based variants, which need no score calibration between the adapters), the
held-out half reports it. Writes ``bench/results/search-fusion.md``.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from bench.search import OWNER, K, corpus, score
from bench.search_set import Query, load_queries
from doclane.ai.embeddings.minilm import MiniLMEmbedder
from doclane.infra.search._common import coverage, query_words
from doclane.infra.search.sqlite import SqliteSearchIndex
from doclane.schemas.search import Passage, SearchHit, SearchQuery

RESULTS = Path(__file__).parent / "results" / "search-fusion.md"
DEPTH = 50
Fusion = Callable[[list[SearchHit], list[SearchHit], list[str]], list[SearchHit]]


def rrf(w_kw: float, power: int) -> Fusion:
    """Reciprocal rank fusion; a keyword hit weighs ``w_kw * coverage ** power``."""
    def fuse(kw: list[SearchHit], vec: list[SearchHit], words: list[str]) -> list[SearchHit]:
        scores: dict[str, float] = {}
        hits = {h.passage_id: h for h in [*vec, *kw]}
        for rank, h in enumerate(kw, 1):
            share = w_kw * (coverage(h.text, words) ** power if power else 1.0)
            scores[h.passage_id] = scores.get(h.passage_id, 0) + share / (60 + rank)
        for rank, h in enumerate(vec, 1):
            scores[h.passage_id] = scores.get(h.passage_id, 0) + 1 / (60 + rank)
        return [hits[p] for p in sorted(scores, key=lambda p: -scores[p])[:K]]
    return fuse


def convex(alpha: float, power: int) -> Fusion:
    """``alpha * cosine + (1 - alpha) * coverage ** power * keyword score / best keyword score``."""
    def fuse(kw: list[SearchHit], vec: list[SearchHit], words: list[str]) -> list[SearchHit]:
        scores: dict[str, float] = {}
        hits = {h.passage_id: h for h in [*vec, *kw]}
        best = max((h.score for h in kw), default=1.0) or 1.0
        for h in kw:
            share = coverage(h.text, words) ** power if power else 1.0
            scores[h.passage_id] = (1 - alpha) * share * h.score / best
        for h in vec:
            scores[h.passage_id] = scores.get(h.passage_id, 0) + alpha * h.score
        return [hits[p] for p in sorted(scores, key=lambda p: -scores[p])[:K]]
    return fuse


VARIANTS: dict[str, Fusion] = {
    "semantic only": lambda kw, vec, words: vec[:K],
    "keyword only": lambda kw, vec, words: kw[:K],
    "RRF (plain)": rrf(1.0, 0),
    **{f"RRF, keyword weight {w}": rrf(w, 0) for w in (0.2, 0.35, 0.5)},
    **{f"RRF, coverage^{p}": rrf(1.0, p) for p in (1, 2, 3)},
    **{f"convex a={a}, coverage^{p}": convex(a, p) for a in (0.5, 0.7, 0.9) for p in (0, 2)},
}


def tuning_half(query: Query) -> bool:
    return zlib.crc32(query.id.encode()) % 2 == 0


async def candidates(queries: list[Query]) -> dict[str, tuple[list[SearchHit], list[SearchHit], list[str]]]:
    embedder = MiniLMEmbedder()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        pieces, _ = corpus(Path(tmp), embedder.passage_chars)
        vectors = await embedder.embed([p.text for p in pieces])
        index = SqliteSearchIndex(Path(tmp) / "fusion.db", embedder.name, embedder.dim)
        await index.open()
        try:
            await index.upsert([
                Passage(id=f"{p.source}:{p.chunk_index}:{p.passage_index}", document_id=p.source,
                        owner=OWNER, filename=p.source, content_type=p.content_type,
                        chunk_index=p.chunk_index, passage_index=p.passage_index,
                        section_path=p.section_path, page_start=p.page_start, page_end=p.page_end,
                        text=p.text, model=embedder.name, vector=v,
                        text_sha256=hashlib.sha256(p.text.encode()).hexdigest())
                for p, v in zip(pieces, vectors, strict=True)])
            for q in queries:
                query = SearchQuery(owner=OWNER, text=q.text, k=K)
                keyword = await index.keyword_search(query, DEPTH, highlight=False)
                vector = await index.vector_search(query, (await embedder.embed([q.text]))[0], DEPTH)
                out[q.id] = (keyword, vector, query_words(q.text))
        finally:
            await index.close()
            await embedder.close()
    return out


def main() -> None:
    queries = load_queries()
    found = asyncio.run(candidates(queries))
    halves = {"tuning": [q for q in queries if tuning_half(q)],
              "held-out": [q for q in queries if not tuning_half(q)]}
    rows = ["| fusion | tuning R@10 | MRR | nDCG@10 | held-out R@10 | MRR | nDCG@10 |", "|---" * 7 + "|"]
    for name, fuse in VARIANTS.items():
        cells = []
        for half in halves.values():
            scores = [score(fuse(*found[q.id]), q) for q in half]
            cells += [sum(s[m] for s in scores) / len(scores) for m in ("recall@10", "mrr", "ndcg@10")]
        rows.append(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    text = "\n".join([
        "# Hybrid fusion, tuned on one half of the search set, reported on the other",
        "",
        f"Written by `python -m bench.search_fusion`; MiniLM, k={K}, {DEPTH} candidates a side; "
        f"tuning half {len(halves['tuning'])} queries, held-out half {len(halves['held-out'])}.",
        "",
        *rows, ""])
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
