"""Benchmark: search latency (keyword, vector, hybrid) and insert throughput of both search indexes.

One owner holds 10k, then 100k passages (the second step adds 90k to the first),
beside 20% more passages spread over 20 other owners, which every query must
skip. Measured on the SQLite index (a file in a temporary directory) and, when a
server is given, on PostgreSQL + pgvector (a fresh database, dropped afterwards).

Data, reproducible from a seed:

- vectors: dim 384 (MiniLM's), clustered like real embeddings: 256 random topic
  centres, each passage a centre plus Gaussian noise, L2-normalised (cosine to
  its own centre ~0.7, to another centre ~0);
- text: ~800 characters per passage (MiniLM reads ~256 tokens), sentences sampled
  from the search evaluation corpus (``bench/data/search/docs``) when it is there,
  else from a word list with Zipf-distributed frequencies;
- queries: 3 consecutive words of a random sentence (keyword side) and a topic
  centre plus noise (vector side). Hybrid search runs ``hybrid.search`` with an
  embedder that returns the query vector at once: the embedding model's time is
  not part of these figures.

Latency is measured sequentially (one query at a time) after 5 warm-up queries;
``recall@10`` compares the vector side's top 10 with an exact numpy scan of the
owner's vectors. Insert throughput is passages a second in batches of 200
(a few chunks' passages, as the indexer writes them).

    infra/with-infra.sh .venv/bin/python -m bench.search_speed [--sizes 10000,100000] [--queries 100]

Results: ``bench/results/search-speed.json`` and a table in ``search-speed.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from doclane.infra.search import hybrid
from doclane.infra.search.base import SearchIndex
from doclane.schemas.search import Passage, SearchMode, SearchQuery

RESULTS = Path(__file__).parent / "results"
CORPUS = Path(__file__).parent / "data" / "search" / "docs"
DIM = 384
MODEL = "bench-model"
OWNER = "bench"
OTHER_OWNERS = 20
OTHER_SHARE = 0.2
TOPICS = 256
BATCH = 200
PASSAGE_CHARS = 800

Vec = npt.NDArray[np.float32]


# --- data ---
def _sentences(rng: random.Random) -> tuple[list[str], str]:
    if CORPUS.is_dir():
        text = " ".join(p.read_text(errors="replace") for p in sorted(CORPUS.iterdir()) if p.is_file())
        found = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if 30 <= len(s.strip()) <= 300]
        if len(found) >= 200:
            return found, f"{len(found)} sentences of {CORPUS.relative_to(Path(__file__).parent.parent)}"
    vocabulary = [f"w{''.join(rng.choice('aeioukmnrst') for _ in range(rng.randint(3, 9)))}"
                  for _ in range(20_000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf
    made = [" ".join(rng.choices(vocabulary, weights, k=rng.randint(8, 20))).capitalize() + "."
            for _ in range(5_000)]
    return made, "5000 sentences of a 20k-word Zipf vocabulary"


class Corpus:
    """Passages and queries with realistic structure (see the module docstring)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not a secret
        self.np = np.random.default_rng(seed)
        self.sentences, self.text_source = _sentences(self.rng)
        centres = self.np.standard_normal((TOPICS, DIM)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def vectors(self, n: int, noise: float = 0.055) -> Vec:
        topics = self.centres[self.np.integers(0, TOPICS, n)]
        v = topics + noise * self.np.standard_normal((n, DIM)).astype(np.float32)
        out: Vec = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
        return out

    def text(self) -> str:
        out: list[str] = []
        while sum(len(s) + 1 for s in out) < PASSAGE_CHARS:
            out.append(self.rng.choice(self.sentences))
        return " ".join(out)

    def passages(self, owner: str, start: int, n: int) -> list[Passage]:
        vectors = self.vectors(n)
        out = []
        for i in range(n):
            doc, idx = divmod(start + i, 40)  # 40 passages a document
            out.append(Passage(
                id=f"{owner}-{doc}:0:{idx}", document_id=f"{owner}-{doc}", owner=owner,
                filename=f"{owner}-{doc}.txt", content_type="text/plain", chunk_index=0,
                passage_index=idx, section_path=["Section"], page_start=1, page_end=1,
                text=self.text(), model=MODEL, vector=vectors[i],
            ))
        return out

    def keyword_query(self) -> str:
        words = re.findall(r"[A-Za-z]{3,}", self.rng.choice(self.sentences))
        if len(words) < 3:
            return " ".join(words) or "the"
        start = self.rng.randrange(len(words) - 2)
        return " ".join(words[start:start + 3])


class _QueryEmbedder:
    """Hands hybrid search a vector made in advance: embedding time stays out of the figures."""

    name = MODEL
    dim = DIM
    passage_chars = PASSAGE_CHARS

    def __init__(self) -> None:
        self.next: Vec | None = None

    async def embed(self, texts: Sequence[str]) -> Vec:
        assert self.next is not None
        return np.stack([self.next for _ in texts])

    async def close(self) -> None:
        return None


# --- measuring ---
def _percentiles(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(samples, 50)), 2),
            "p95_ms": round(float(np.percentile(samples, 95)), 2),
            "max_ms": round(max(samples), 2)}


async def _insert(index: SearchIndex, passages: list[Passage]) -> float:
    started = time.perf_counter()
    for i in range(0, len(passages), BATCH):
        await index.upsert(passages[i:i + BATCH])
    return len(passages) / (time.perf_counter() - started)


async def _latencies(index: SearchIndex, corpus: Corpus, owner_vectors: Vec, queries: int) -> dict[str, Any]:
    embedder = _QueryEmbedder()
    times: dict[str, list[float]] = {"keyword": [], "vector": [], "hybrid": []}
    recalls: list[float] = []
    for n in range(queries + 5):
        text, vector = corpus.keyword_query(), corpus.vectors(1, noise=0.08)[0]
        query = SearchQuery(owner=OWNER, text=text, k=10)
        t0 = time.perf_counter()
        await index.keyword_search(query, 10)
        t1 = time.perf_counter()
        hits = await index.vector_search(query, vector, 10)
        t2 = time.perf_counter()
        embedder.next = vector
        await hybrid.search(index, embedder, query, SearchMode.HYBRID)
        t3 = time.perf_counter()
        if n < 5:
            continue  # warm-up
        for mode, took in (("keyword", t1 - t0), ("vector", t2 - t1), ("hybrid", t3 - t2)):
            times[mode].append(took * 1000)
        exact = set(np.argsort(-(owner_vectors @ vector))[:10].tolist())
        recalls.append(len(exact & {int(h.passage_id.split(":")[0].split("-")[1]) * 40
                                    + h.passage_index for h in hits}) / 10)
    return {**{mode: _percentiles(t) for mode, t in times.items()},
            "vector_recall_at_10": round(float(np.mean(recalls)), 3)}


async def _measure_index(
    index: SearchIndex, corpus: Corpus, sizes: Sequence[int], queries: int
) -> list[dict[str, Any]]:
    results = []
    mine: list[Passage] = []
    others = 0
    await index.open()
    try:
        for size in sizes:
            new = corpus.passages(OWNER, len(mine), size - len(mine))
            other_total = int(size * OTHER_SHARE)
            theirs = [p for o in range(OTHER_OWNERS)
                      for p in corpus.passages(f"other{o}", others // OTHER_OWNERS,
                                               (other_total - others) // OTHER_OWNERS)]
            rate = await _insert(index, new + theirs)
            mine += new
            others = other_total
            owner_vectors = np.stack([p.vector for p in mine])
            row = {"passages_of_owner": size, "passages_total": await index.count(),
                   "insert_passages_per_s": round(rate),
                   **await _latencies(index, corpus, owner_vectors, queries)}
            print(json.dumps(row), flush=True)
            results.append(row)
    finally:
        await index.close()
    return results


async def _postgres(url: str, corpus: Corpus, sizes: Sequence[int], queries: int) -> list[dict[str, Any]]:
    import psycopg

    from doclane.infra.search.postgres import PostgresSearchIndex

    database = f"bench_{uuid.uuid4().hex[:10]}"
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        await admin.execute(f"CREATE DATABASE {database}")
    try:
        index = PostgresSearchIndex(urlsplit(url)._replace(path=f"/{database}").geturl(), MODEL, DIM)
        return await _measure_index(index, corpus, sizes, queries)
    finally:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
            await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


async def _measure(sizes: Sequence[int], queries: int, search_url: str | None, seed: int) -> dict[str, Any]:
    from doclane.infra.search.sqlite import SqliteSearchIndex

    adapters: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="doclane-bench-search-") as tmp:
        corpus = Corpus(seed)
        print(f"sqlite ({corpus.text_source})", flush=True)
        adapters["sqlite"] = await _measure_index(
            SqliteSearchIndex(Path(tmp) / "search.db", MODEL, DIM), corpus, sizes, queries)
    if search_url:
        print("postgres", flush=True)
        adapters["postgres"] = await _postgres(search_url, Corpus(seed), sizes, queries)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()} {os.cpu_count()} cpus",
        "dim": DIM, "topics": TOPICS, "text": corpus.text_source, "passage_chars": PASSAGE_CHARS,
        "other_owners_share": OTHER_SHARE, "insert_batch": BATCH, "queries": queries,
        "adapters": adapters,
    }


def measure(sizes: Sequence[int] = (10_000, 100_000), queries: int = 100,
            search_url: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Run the benchmark: SQLite always, PostgreSQL when ``search_url`` is given."""
    return asyncio.run(_measure(sizes, queries, search_url, seed))


def write_results(result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search-speed.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# Search latency ({result['when']}, {result['machine']})",
        "",
        f"One owner's passages plus {result['other_owners_share']:.0%} more of 20 other owners; "
        f"dim {result['dim']}, {result['topics']} topic clusters; text: {result['text']}; "
        f"{result['queries']} sequential queries, k=10. Hybrid excludes query embedding.",
        "",
        "SQLite: FTS5 BM25; vectors by an exact cosine scan of the owner's matrix held in memory "
        "(sqlite-vec's brute force measured slower; see doclane/infra/search/sqlite.py). "
        "PostgreSQL: ts_rank_cd over a GIN index; HNSW (ef_search 128, iterative scan). "
        "Recall@10 compares the vector side with an exact numpy scan.",
        "",
        "| adapter | passages | insert /s | keyword p50 / p95 ms | vector p50 / p95 ms "
        "| hybrid p50 / p95 ms | vector recall@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rows in result["adapters"].items():
        for r in rows:
            lines.append(
                f"| {name} | {r['passages_of_owner']:,} | {r['insert_passages_per_s']:,} "
                + " ".join(f"| {r[m]['p50_ms']} / {r[m]['p95_ms']}" for m in ("keyword", "vector", "hybrid"))
                + f" | {r['vector_recall_at_10']} |")
    (RESULTS / "search-speed.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--search-url", default=os.environ.get("DOCLANE_TEST_SEARCH_URL")
                        or os.environ.get("DOCLANE_SEARCH_URL"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result = measure(sizes, args.queries, args.search_url)
    write_results(result)
    print((RESULTS / "search-speed.md").read_text())


if __name__ == "__main__":
    main()
