"""Extractive summaries: TF-IDF centroid scoring with a position prior and MMR.

Each candidate sentence is scored by the cosine between its TF-IDF vector and
the centroid of all candidates (what the text is mostly about), damped for
very short sentences and boosted by a prior (early position, paragraph leads,
chunk weight in the reduce step). Sentences are then picked greedily by score,
skipping any that repeat one already picked (maximal marginal relevance), and
returned in their original order. Centroid scoring is linear in the number of
sentences, unlike TextRank's pairwise graph, which matters at thousands of
chunks per benchmark run.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from doclane.ai._text import Segment, content_stems

__all__ = ["Candidate", "chunk_candidates", "clean_markup", "join_sentences", "select", "summary_size"]

_MIN_WORDS = 6
_MAX_WORDS = 60
_REDUNDANCY = 0.5
_GROUP_DAMPING = 0.7
_NON_LETTERS_RE = re.compile(r"[\W\d_]+")
_MARKUP_HINT_RE = re.compile(r"[*_`<\[]")
_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG_RE = re.compile(r"</?[A-Za-z][^>]{0,200}>")
# ** and __ anywhere, * and _ around words, backticks.
_EMPHASIS_RE = re.compile(r"\*\*|__|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|(?<!\w)_(?=\w)|(?<=\w)_(?!\w)")
# A sentence end inside a candidate, followed by a lower-case word (not after an abbreviation).
_RUN_ON_RE = re.compile(r"\b(?!(?:etc|vs|approx|incl|e\.g|i\.e)\b)[a-z]{3,}[.!?] [a-z]")
_END_RE = re.compile(r"[.!?…][\"'”’)\]]*$")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence that may go into a summary, with its prior weight and original order."""

    text: str
    prior: float
    order: tuple[int, int]
    #: Candidates of one group (a chunk, in the reduce step) are damped after the
    #: first pick, so a document summary covers more than its opening chunk.
    group: int | None = None


def clean_markup(text: str) -> str:
    """Prose without inline Markdown or HTML: links keep their words, emphasis and code marks go.

    Plain-text files and pasted notes carry Markdown that no reader removed; a summary
    shows none of it.
    """
    if not _MARKUP_HINT_RE.search(text):
        return text
    text = _LINK_RE.sub(r"\1", text)
    text = _TAG_RE.sub("", text)
    text = _EMPHASIS_RE.sub("", text)
    return " ".join(text.split())


def _looks_like_sentence(seg: Segment, *, strict: bool) -> bool:
    text = clean_markup(seg.text)
    if " | " in text:
        return False  # a table row
    if seg.kind == "heading" or seg.checkbox is not None:
        return False
    n_words = len(text.split())
    if not (_MIN_WORDS if strict else 3) <= n_words <= _MAX_WORDS:
        return False
    if text[:1].islower() or text.count("|") > 1 or text.count(",") >= 0.4 * n_words:
        return False  # a fragment cut at a chunk boundary, a table row, a list of names
    visible = len(text) - text.count(" ")
    if len(_NON_LETTERS_RE.sub("", text)) < 0.6 * visible:
        return False  # mostly numbers and symbols
    if _RUN_ON_RE.search(text):
        return False  # two sentences run together ("…them. goal: A tool…"): not one of prose
    ends = _END_RE.search(text) is not None
    if seg.kind == "bullet":
        return ends and n_words >= (8 if strict else 5)
    return ends or not strict


def chunk_candidates(segments: Sequence[Segment]) -> list[Candidate]:
    """The summary candidates of one chunk, each with its position prior."""
    eligible = [s for s in segments if _looks_like_sentence(s, strict=True)]
    strict = {id(s) for s in eligible}
    if len(eligible) < 3:  # notes and lists: take shorter or unpunctuated lines too
        eligible = [s for s in segments if _looks_like_sentence(s, strict=False)]
    n = len(eligible)
    early = max(3.0, 0.3 * n)
    out: list[Candidate] = []
    seen_blocks: set[int] = set()
    for i, seg in enumerate(eligible):
        prior = 1.0 + 0.3 * max(0.0, 1.0 - i / early)
        if seg.block not in seen_blocks:
            prior += 0.1  # the lead sentence of a paragraph tends to state its point
            seen_blocks.add(seg.block)
        if seg.text.endswith("?"):
            prior *= 0.6
        if seg.kind != "text":
            prior *= 0.9
        if id(seg) not in strict:
            prior *= 0.8
        out.append(Candidate(clean_markup(seg.text), prior, (0, i)))
    return out


def join_sentences(candidates: Sequence[Candidate]) -> str:
    """The summary text. A line picked from notes gets a full stop, so the reduce step
    can split the summary back into the same sentences."""
    return " ".join(c.text if _END_RE.search(c.text) else f"{c.text}." for c in candidates)


def summary_size(n_candidates: int, *, minimum: int = 3, maximum: int = 4) -> int:
    """How many sentences to keep: 3 for short texts, 4 for long ones (the promise is 3-5;
    the margin absorbs a reader who splits one of our sentences in two)."""
    wanted = minimum + (n_candidates >= 15) + (n_candidates >= 30)
    return min(max(wanted, minimum), maximum, n_candidates)


def _cosine(a: dict[str, float], b: dict[str, float], norm_a: float, norm_b: float) -> float:
    if not norm_a or not norm_b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items()) / (norm_a * norm_b)


def _damp(group: int | None, picked: Counter[int | None]) -> float:
    return 1.0 if group is None else _GROUP_DAMPING ** picked[group]


def select(candidates: Sequence[Candidate], n: int) -> list[Candidate]:
    """Pick the ``n`` most central, non-redundant candidates, in original order."""
    unique: list[Candidate] = []
    seen: set[str] = set()
    for cand in candidates:
        key = " ".join(cand.text.lower().split())
        if key and key not in seen:
            seen.add(key)
            unique.append(cand)
    if len(unique) <= n:
        return sorted(unique, key=lambda c: c.order)

    stems = [Counter(content_stems(c.text)) for c in unique]
    df: Counter[str] = Counter()
    for tf in stems:
        df.update(tf.keys())
    total = len(unique)
    idf = {t: math.log((total + 1) / (d + 0.5)) for t, d in df.items()}
    vectors = [{t: f * idf[t] for t, f in tf.items()} for tf in stems]
    norms = [math.sqrt(sum(w * w for w in v.values())) for v in vectors]
    centroid: dict[str, float] = {}
    for vec in vectors:
        for t, w in vec.items():
            centroid[t] = centroid.get(t, 0.0) + w
    c_norm = math.sqrt(sum(w * w for w in centroid.values()))

    scores = []
    for i, cand in enumerate(unique):
        length = min(1.0, sum(stems[i].values()) / 8.0)
        scores.append(_cosine(vectors[i], centroid, norms[i], c_norm) * length * cand.prior)
    ranked = sorted(range(total), key=lambda i: (-scores[i], unique[i].order))

    chosen: list[int] = []
    picked: Counter[int | None] = Counter()
    redundant: set[int] = set()
    while len(chosen) < n:
        # Walk the rest by (damped) score; the first one that repeats no pick wins.
        # Checks are lazy: the best candidates are rarely redundant.
        order = sorted(
            (i for i in ranked if i not in redundant and i not in chosen),
            key=lambda i: (-scores[i] * _damp(unique[i].group, picked), unique[i].order),
        )
        for i in order:
            if any(
                _cosine(vectors[i], vectors[j], norms[i], norms[j]) >= _REDUNDANCY for j in chosen
            ):
                redundant.add(i)
                continue
            chosen.append(i)
            picked[unique[i].group] += 1
            break
        else:  # everything left repeats a pick: fill up by score rather than fall short
            chosen += [i for i in ranked if i not in chosen][: n - len(chosen)]
            break
    return sorted((unique[i] for i in chosen), key=lambda c: c.order)
