"""Benchmark: search quality and embedding speed on the labelled search set.

Every document of ``bench/data/search`` goes through the real readers
(``extract``), the chunker and the indexer's passage cutting
(:func:`chunk_passages`), is embedded by each local model and stored in the
SQLite search index; then every query runs in keyword, semantic and hybrid mode
(``doclane.infra.search.hybrid.search``, as the API runs it).
Metrics per mode and model, overall and split into paraphrase and lexical queries:

* Recall@10: share of a query's answers found in a top-10 passage;
* MRR: 1 / rank of the first passage holding an answer (0 past rank 10);
* nDCG@10: binary gain for each passage that holds an answer not yet found.

The fusion and its depths are the library's. One choice was made on these queries:
the fusion's coverage weighting, on the tuning half (``bench/search_fusion.py``
reports it on the held-out half, which is the figure to quote for it); nothing
else was tuned here.
A second index per model embeds each passage with its section path in front
(``Heading > Subheading`` then a newline) to measure whether that helps.
Embedding speed is passages per second on this machine, batched and one at a time.

    python -m bench.search
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.search_set import Query, load_queries, materialise, normalise, source_files
from doclane.ai.embeddings.minilm import MiniLMEmbedder
from doclane.ai.embeddings.passages import chunk_passages
from doclane.ai.embeddings.wordllama_l2 import WordLlamaEmbedder
from doclane.extraction import chunk_document, extract
from doclane.infra.search.hybrid import search
from doclane.infra.search.sqlite import SqliteSearchIndex
from doclane.schemas.search import Passage, SearchHit, SearchMode, SearchQuery

RESULTS = Path(__file__).parent / "results"
OWNER = "bench"
K = 10


@dataclass
class _Piece:
    source: str
    content_type: str
    chunk_index: int
    passage_index: int
    section_path: list[str]
    page_start: int
    page_end: int
    text: str


def corpus(folder: Path, passage_chars: int) -> tuple[list[_Piece], dict[str, str]]:
    """Passages of every document through the real readers, and each source's content type."""
    pieces: list[_Piece] = []
    types: dict[str, str] = {}
    for source in source_files():
        path, content_type = materialise(source, folder)
        types[source.name] = content_type
        for chunk in chunk_document(extract(path, content_type)):
            for p, text in enumerate(chunk_passages(chunk, passage_chars)):
                pieces.append(_Piece(source.name, content_type, chunk.index, p, chunk.section_path,
                                     chunk.page_start, chunk.page_end, text))
    return pieces, types


def _embed_text(piece: _Piece, with_path: bool) -> str:
    if with_path and piece.section_path:
        return " > ".join(piece.section_path) + "\n" + piece.text
    return piece.text


def speed(embedder: MiniLMEmbedder | WordLlamaEmbedder, texts: list[str]) -> dict[str, float]:
    """Passages per second, all in one call (batched) and one call per passage."""
    embedder.embed_sync(texts[:8])  # warm-up: first inference allocates
    start = time.perf_counter()
    embedder.embed_sync(texts)
    batch = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    for text in texts:  # the same passages, so the two rates compare
        embedder.embed_sync([text])
    single = len(texts) / (time.perf_counter() - start)
    return {"batch_passages_per_s": round(batch, 1), "single_passages_per_s": round(single, 1),
            "passages": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts))}


def score(hits: list[SearchHit], query: Query) -> dict[str, float]:
    """Recall@K, reciprocal rank and nDCG@K of one ranking."""
    answers = [(doc, normalise(answer)) for doc, answer in query.relevant]
    found: set[int] = set()
    first_rank = 0
    dcg = 0.0
    for rank, hit in enumerate(hits[:K], start=1):
        text = normalise(hit.text)
        new = {i for i, (doc, answer) in enumerate(answers)
               if i not in found and hit.filename == doc and answer in text}
        holds = any(hit.filename == doc and answer in text for doc, answer in answers)
        if holds and not first_rank:
            first_rank = rank
        if new:
            dcg += 1 / math.log2(rank + 1)
            found |= new
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(answers), K) + 1))
    return {"recall@10": len(found) / len(answers), "mrr": 1 / first_rank if first_rank else 0.0,
            "ndcg@10": dcg / ideal}


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(sum(r[key] for r in rows) / len(rows), 3) for key in rows[0]} if rows else {}


async def evaluate(embedder: MiniLMEmbedder | WordLlamaEmbedder, pieces: list[_Piece], folder: Path,
                   queries: list[Query], with_path: bool) -> dict[str, Any]:
    """Index the passages in a fresh SQLite index and score every query in every mode."""
    vectors = await embedder.embed([_embed_text(p, with_path) for p in pieces])
    tag = "path" if with_path else "plain"
    index = SqliteSearchIndex(folder / f"{embedder.name.split('@')[0]}-{tag}.db", embedder.name, embedder.dim)
    await index.open()
    try:
        await index.upsert([
            Passage(id=f"{p.source}:{p.chunk_index}:{p.passage_index}", document_id=p.source, owner=OWNER,
                    filename=p.source, content_type=p.content_type, chunk_index=p.chunk_index,
                    passage_index=p.passage_index, section_path=p.section_path, page_start=p.page_start,
                    page_end=p.page_end, text=p.text, model=embedder.name, vector=vector,
                    text_sha256=hashlib.sha256(p.text.encode()).hexdigest())
            for p, vector in zip(pieces, vectors, strict=True)
        ])
        out: dict[str, Any] = {}
        for mode in SearchMode:
            per_query: dict[str, dict[str, float]] = {}
            started = time.perf_counter()
            for query in queries:
                response = await search(index, embedder, SearchQuery(owner=OWNER, text=query.text, k=K), mode)
                per_query[query.id] = score(response.results, query)
            took = (time.perf_counter() - started) / len(queries)
            out[mode.value] = {
                "all": _mean(list(per_query.values())),
                "paraphrase": _mean([per_query[q.id] for q in queries if q.paraphrase]),
                "lexical": _mean([per_query[q.id] for q in queries if not q.paraphrase]),
                "ms_per_query": round(took * 1000, 2),
                "misses": sorted(q.id for q in queries if per_query[q.id]["recall@10"] < 1),
            }
        return out
    finally:
        await index.close()


async def run() -> dict[str, Any]:
    queries = load_queries()
    models: list[MiniLMEmbedder | WordLlamaEmbedder] = [MiniLMEmbedder(), WordLlamaEmbedder()]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        # Speeds mean little on a shared machine: say how busy it was.
        "load_average_at_start": round(os.getloadavg()[0], 1),
        "documents": len(source_files()), "queries": len(queries),
        "paraphrase_queries": sum(q.paraphrase for q in queries), "k": K, "models": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for embedder in models:
            pieces, _ = corpus(folder, embedder.passage_chars)
            entry: dict[str, Any] = {"passage_chars": embedder.passage_chars, "dim": embedder.dim}
            entry["speed"] = speed(embedder, [p.text for p in pieces])
            if isinstance(embedder, MiniLMEmbedder):
                over = sum(embedder.token_count(p.text) > 256 for p in pieces)
                entry["passages_over_window"] = over
            entry["plain"] = await evaluate(embedder, pieces, folder, queries, with_path=False)
            entry["section_path"] = await evaluate(embedder, pieces, folder, queries, with_path=True)
            results["models"][embedder.name] = entry
            await embedder.close()
    results["load_average_at_end"] = round(os.getloadavg()[0], 1)
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Search quality on {results['documents']} documents, {results['queries']} queries "
        f"({results['paraphrase_queries']} paraphrase), k={results['k']}; {results['machine']}; "
        f"{results['when']}; load average {results['load_average_at_start']} at the start, "
        f"{results['load_average_at_end']} at the end (ms/q and passages/s are slower on a busy machine)",
        "",
        "| model | variant | mode | R@10 | MRR | nDCG@10 | R@10 para | MRR para | R@10 lex | MRR lex "
        "| ms/q |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in results["models"].items():
        for variant in ("plain", "section_path"):
            for mode, m in entry[variant].items():
                if variant == "section_path" and mode == "keyword":
                    continue  # the keyword index holds the same text either way
                a, p, lx = m["all"], m["paraphrase"], m["lexical"]
                lines.append(
                    f"| {name} | {variant} | {mode} | {a['recall@10']:.3f} | {a['mrr']:.3f} | "
                    f"{a['ndcg@10']:.3f} | {p['recall@10']:.3f} | {p['mrr']:.3f} | {lx['recall@10']:.3f} | "
                    f"{lx['mrr']:.3f} | {m['ms_per_query']} |"
                )
    lines += ["", "| model | passages | mean chars | batch passages/s | single passages/s |",
              "|---|---|---|---|---|"]
    for name, entry in results["models"].items():
        s = entry["speed"]
        lines.append(f"| {name} | {s['passages']} | {s['mean_chars']} | {s['batch_passages_per_s']} | "
                     f"{s['single_passages_per_s']} |")
    return "\n".join(lines)


def main() -> None:
    results = asyncio.run(run())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search.json").write_text(json.dumps(results, indent=2) + "\n")
    text = table(results)
    (RESULTS / "search.md").write_text(
        "# Search quality and embedding speed\n\nWritten by `python -m bench.search` "
        "(part of `make bench`); the set and how it was made: `bench/data/search/README.md`.\n\n"
        + text + "\n"
    )
    print(text)


if __name__ == "__main__":
    main()
