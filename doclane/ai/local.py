"""The offline analyzer: extractive summary, keyphrases, sentence-model sentiment, parsed action items.

No network and no API key: everything it needs is in this package, in the
``vadersentiment`` and spaCy model wheels, or trained by the project (the sentence sentiment
model, ``make models``). The CPU work is plain synchronous Python and runs in
a worker thread (``asyncio.to_thread``) so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from doclane.ai._actions import dedupe_actions, extract_actions, task_sentences
from doclane.ai._grammar import moods
from doclane.ai._keyphrases import extract_keyphrases, merge_topics, names_to_exclude
from doclane.ai._sentiment import chunk_sentiment, justify, worth_parsing
from doclane.ai._summary import (
    Candidate,
    chunk_candidates,
    clean_markup,
    join_sentences,
    select,
    summary_size,
)
from doclane.ai._text import Segment, segment, split_sentences
from doclane.ai._title import guess_title
from doclane.ai.exceptions import AnalysisError
from doclane.exceptions import DoclaneError
from doclane.schemas.analysis import ActionItem, ChunkAnalysis, DocumentAnalysis
from doclane.schemas.extraction import Chunk

__all__ = ["LocalAnalyzer", "document_segments", "guess_title", "judged_segments"]

logger = logging.getLogger(__name__)

_FALLBACK_CHARS = 280


#: Runs a picklable function off the event loop: a thread, or a process pool.
Offload = Callable[..., Awaitable[Any]]


class LocalAnalyzer:
    """Offline :class:`~doclane.ai.base.Analyzer`: deterministic, no key, no downloads.

    The work is pure Python, so in one process it is bound to one core by the
    GIL; pass ``offload`` (e.g. ``CpuPool.run``) to spread chunks over processes.
    """

    name: str = "local"
    #: Version of the algorithms; bump it when results change so caches are invalidated.
    model: str | None = "extractive-v7"
    prompt_version: str | None = None

    def __init__(self, offload: Offload | None = None) -> None:
        self._offload: Offload = offload or asyncio.to_thread

    async def analyze_chunk(self, chunk: Chunk) -> ChunkAnalysis:
        """Analyse one chunk off the event loop."""
        try:
            result: ChunkAnalysis = await self._offload(_analyze_sync, chunk)
            return result
        except DoclaneError:
            raise  # already says what went wrong (e.g. a crashed worker, retryable)
        except Exception as exc:
            logger.exception("local analysis failed for chunk %s", chunk.index)
            raise AnalysisError(
                f"The local analyzer could not process chunk {chunk.index}."
            ) from exc

    async def close(self) -> None:
        """Nothing to release: the process pool belongs to the caller."""

    async def reduce(self, chunks: Sequence[tuple[Chunk, ChunkAnalysis]]) -> DocumentAnalysis:
        """Combine chunk analyses into the document analysis, off the event loop.

        The document's sentiment is read again from all of its sentences (it parses them),
        so the reduce runs where chunks run: in the pool when there is one.
        """
        try:
            result: DocumentAnalysis = await self._offload(_reduce_sync, list(chunks))
            return result
        except DoclaneError:
            raise
        except Exception as exc:
            logger.exception("local reduce failed for %s chunks", len(chunks))
            raise AnalysisError("The local analyzer could not combine the chunk results.") from exc

def _analyze_sync(chunk: Chunk) -> ChunkAnalysis:
    segments = segment(chunk.text)
    candidates = chunk_candidates(segments)
    chosen = select(candidates, summary_size(len(candidates)))
    summary = join_sentences(chosen) if chosen else _fallback_summary(segments)
    parsed = moods(task_sentences(segments))  # one parse serves sentiment and action items
    sentiment, score = chunk_sentiment(segments, parsed)
    actions = extract_actions(
        segments, chunk.section_path[-1] if chunk.section_path else None, parsed
    )
    names = names_to_exclude(segments, (a.owner for a in actions if a.owner))
    return ChunkAnalysis(
        summary=summary,
        topics=extract_keyphrases(segments, chunk.section_path, names),
        sentiment=sentiment,
        sentiment_score=score,
        sentiment_justification=justify(segments, sentiment),
        action_items=actions,
        provider=LocalAnalyzer.name,
        model=LocalAnalyzer.model,
    )

def _reduce_sync(pairs: list[tuple[Chunk, ChunkAnalysis]]) -> DocumentAnalysis:
    # Chunks may arrive in any order and, with at-least-once delivery, twice.
    by_index: dict[int, tuple[Chunk, ChunkAnalysis]] = {}
    for chunk, analysis in pairs:
        by_index.setdefault(chunk.index, (chunk, analysis))
    ordered = [by_index[i] for i in sorted(by_index)]
    if not ordered:
        return DocumentAnalysis(summary="", provider=LocalAnalyzer.name, model=LocalAnalyzer.model)

    weights = [float(max(len(c.text), 1)) for c, _ in ordered]
    summary = _reduce_summary(ordered, weights)
    analyses = [a for _, a in ordered]
    if len(ordered) == 1:
        sentiment, score = analyses[0].sentiment, analyses[0].sentiment_score
        justification = analyses[0].sentiment_justification
    else:
        # Judged on the whole document's sentences, not by a vote of its chunks: headings cut
        # documents into small chunks, and a two-line "Congratulations!" chunk is no verdict.
        segments = document_segments([c for c, _ in ordered])
        texts = [t if keep else "" for t, keep in
                 zip(task_sentences(segments), worth_parsing(segments), strict=True)]
        sentiment, score = chunk_sentiment(segments, moods(texts))
        justification = justify(segments, sentiment)
    actions: list[ActionItem] = [item for a in analyses for item in a.action_items]
    return DocumentAnalysis(
        summary=summary,
        topics=merge_topics([(a.topics, w) for a, w in zip(analyses, weights, strict=True)]),
        sentiment=sentiment,
        sentiment_score=score,
        sentiment_justification=justification,
        action_items=dedupe_actions(actions),
        chunk_count=len(ordered),
        provider=LocalAnalyzer.name,
        model=LocalAnalyzer.model,
    )


def judged_segments(chunks: list[Chunk]) -> list[Segment]:
    """The segments a document's sentiment is judged on: its one chunk's (what
    :func:`_analyze_sync` reads), else :func:`document_segments` (what the reduce reads)."""
    return segment(chunks[0].text) if len(chunks) == 1 else document_segments(chunks)


def document_segments(chunks: list[Chunk]) -> list[Segment]:
    """Every segment of the chunks in order, each sentence once (chunks overlap)."""
    seen: set[str] = set()
    out: list[Segment] = []
    for chunk in chunks:
        for seg in segment(chunk.text):
            key = seg.text
            if seg.kind != "heading" and key in seen:
                continue
            seen.add(key)
            out.append(seg)
    return out


def _fallback_summary(segments: Sequence[Segment]) -> str:
    """For text without proper sentences (tables, lists): its opening words."""
    text = re.sub(r"\s+", " ", " ".join(clean_markup(s.text) for s in segments[:6])).strip()
    if len(text) <= _FALLBACK_CHARS:
        return text
    return text[: _FALLBACK_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _reduce_summary(ordered: list[tuple[Chunk, ChunkAnalysis]], weights: list[float]) -> str:
    """Re-rank every chunk summary's sentences against the whole document's centroid.

    A sentence's prior grows with its chunk's length (a long chunk carries more
    of the document) and is highest in the opening chunk, where documents tend
    to state their subject.
    """
    mean_w = sum(weights) / len(weights)
    n_chunks = len(ordered)
    candidates: list[Candidate] = []
    for rank, ((_, analysis), weight) in enumerate(zip(ordered, weights, strict=True)):
        size = min(1.5, max(0.5, (weight / mean_w) ** 0.5))
        position = 1.0 + (0.3 if rank == 0 else 0.0) + 0.1 * (1.0 - rank / n_chunks)
        for j, sentence in enumerate(split_sentences(analysis.summary)):
            candidates.append(Candidate(sentence, size * position, (rank, j), group=rank))
    # A chunk without sentences (a table) summarises as its opening words; the document
    # summary takes them only when it has nothing better.
    prose = [c for c in candidates if " | " not in c.text and c.text.count(" ") >= 3]
    if len(prose) >= 3:
        candidates = prose
    # At most four of our sentences: a reader's segmenter that splits one of them in two
    # still counts no more than five.
    if n_chunks == 1:
        n = min(4, len(candidates))
    else:
        n = summary_size(len(candidates), minimum=3 + (n_chunks >= 2), maximum=4)
    return join_sentences(select(candidates, n))
