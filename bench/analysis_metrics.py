"""Metrics of bench/analysis.py, kept apart so tests can check them on hand-made examples.

* Sentiment: accuracy, macro-F1 over the four labels, and the confusion matrix.
* Action items: a predicted item matches a reference item when the token F1 of
  their content words (lower-cased, stopwords dropped, Porter-stemmed) is at least
  :data:`MATCH_F1`; matching is one-to-one, pairs taken greedily from the
  highest F1 down (each item is used once). Precision is matched / predicted
  and recall matched / referenced, summed over the documents of a half.
* Summaries: ROUGE-L and ROUGE-2 F-measures (``rouge-score``, Porter stemming)
  against the reference summary; the form check counts sentences with pysbd
  and looks for Markdown/HTML markup.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "LABELS", "MATCH_F1", "ItemMatch", "confusion", "content_tokens", "has_markup",
    "macro_f1", "match_items", "rouge", "sentence_count", "title_found", "token_f1",
]

LABELS = ("positive", "negative", "neutral", "mixed")
MATCH_F1 = 0.5
_WORD_RE = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?")
_STOP = frozenset(
    [
     "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "by", "with", "from", "as",
     "is", "are", "be", "been", "was", "were", "it", "its", "this", "that", "these", "those", "your",
     "you", "our", "we", "their", "they", "i", "he", "she", "his", "her", "my", "me", "us", "them",
     "will", "shall", "should", "must", "can", "could", "would", "may", "might", "do", "does", "did",
     "please", "any", "all", "each", "every", "need", "needs", "to", "be",
    ]
)
_MARKUP_RE = re.compile(
    r"\[[^\]]+\]\([^)]*\)|\*\*|__|`|^#{1,6}\s|^\s*[-*•]\s|<[a-z/][^>]*>|\s\|\s", re.M
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from nltk.stem import porter  # installed with rouge-score, which stems the same way

    return porter.PorterStemmer()


def content_tokens(text: str) -> list[str]:
    """Stems of the lower-cased words without stopwords: what two phrasings of one task share.

    "Backups need to be encrypted" and "Encrypt the backups" share "backup" and "encrypt".
    """
    stem = _stemmer().stem
    return [stem(w) for w in _WORD_RE.findall(text.lower()) if w not in _STOP]


def token_f1(a: str, b: str) -> float:
    """F1 of the content-token multisets of ``a`` and ``b`` (0 when either has none)."""
    ta, tb = Counter(content_tokens(a)), Counter(content_tokens(b))
    common = sum((ta & tb).values())
    if not common:
        return 0.0
    precision, recall = common / sum(ta.values()), common / sum(tb.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class ItemMatch:
    """A predicted item (index) paired with a reference item (index) and their token F1."""

    predicted: int
    reference: int
    f1: float


def match_items(predicted: Sequence[str], reference: Sequence[str]) -> list[ItemMatch]:
    """One-to-one matches with token F1 >= :data:`MATCH_F1`, best pairs first."""
    pairs = sorted(
        ((token_f1(p, r), i, j) for i, p in enumerate(predicted) for j, r in enumerate(reference)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    used_p: set[int] = set()
    used_r: set[int] = set()
    out = []
    for f1, i, j in pairs:
        if f1 < MATCH_F1:
            break
        if i in used_p or j in used_r:
            continue
        used_p.add(i)
        used_r.add(j)
        out.append(ItemMatch(i, j, f1))
    return out


def confusion(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """``matrix[gold][predicted]`` counts over :data:`LABELS`."""
    matrix = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for g, p in zip(gold, predicted, strict=True):
        matrix[g][p] += 1
    return matrix


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the labels that occur in ``gold`` or ``predicted``."""
    scores = []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        n_pred, n_gold = predicted.count(label), gold.count(label)
        if not n_pred and not n_gold:
            continue
        scores.append(2 * tp / (n_pred + n_gold))
    return sum(scores) / len(scores) if scores else 0.0


@lru_cache(maxsize=1)
def _scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL", "rouge2"], use_stemmer=True)


def rouge(candidate: str, reference: str) -> tuple[float, float]:
    """(ROUGE-L F, ROUGE-2 F) of ``candidate`` against ``reference``."""
    scores = _scorer().score(reference, candidate)
    return scores["rougeL"].fmeasure, scores["rouge2"].fmeasure


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def sentence_count(text: str) -> int:
    """Sentences in ``text`` as pysbd counts them (a reader's count, independent of ours)."""
    return len([s for s in _segmenter().segment(text) if s.strip()])


def has_markup(text: str) -> bool:
    """Whether Markdown or HTML markup (links, emphasis, code, headings, bullets, tables) shows."""
    return _MARKUP_RE.search(text) is not None


def title_found(predicted: str | None, reference: str | None) -> bool:
    """Whether ``predicted`` names the document as its reference title does (token F1 >= 0.8)."""
    if not predicted or not reference:
        return False
    return token_f1(predicted, reference) >= 0.8
