"""The leak check: no training sentence may appear in an evaluation document.

The sentence model would otherwise have seen the answer for a sentence it is scored on.
A training sentence leaks when its words (lower case, letters and digits only) appear in a
document in the same order, whole, or share a run of :data:`SHINGLE` words with it (so a
sentence copied with a word changed at one end is still caught). ``bench/analysis.py``
refuses to score when there is a leak, and ``tests/unit/test_sentiment_model.py`` fails.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["SHINGLE", "Leak", "LeakError", "check", "find_leaks", "normalise"]

#: Words in a run that may not be shared by a training sentence and a document.
SHINGLE = 8


class LeakError(AssertionError):
    """A training sentence is in an evaluation document: its score would be meaningless."""


@dataclass(frozen=True)
class Leak:
    sentence: str
    document: str
    kind: str  # "exact" or "shared run of words"


def normalise(text: str) -> list[str]:
    """Lower-case words of letters and digits, markup removed (tags cannot hide a copy)."""
    return re.findall(r"[a-z0-9]+", html.unescape(re.sub(r"<[^>]+>", " ", text)).lower())


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def find_leaks(sentences: Iterable[str], documents: Mapping[str, str]) -> list[Leak]:
    """Every (training sentence, evaluation document) pair that shares the sentence's words."""
    docs = {name: normalise(text) for name, text in documents.items()}
    joined = {name: f" {' '.join(words)} " for name, words in docs.items()}
    runs = {name: _runs(words) for name, words in docs.items()}
    leaks = []
    for sentence in sentences:
        words = normalise(sentence)
        if not words:
            continue
        mine = _runs(words)
        for name in docs:
            if f" {' '.join(words)} " in joined[name]:
                leaks.append(Leak(sentence, name, "exact"))
            elif mine & runs[name]:
                leaks.append(Leak(sentence, name, "shared run of words"))
    return leaks


def check(sentences: Iterable[str], documents: Mapping[str, str]) -> None:
    """Raise :class:`LeakError` naming the first leaks, if any."""
    leaks = find_leaks(sentences, documents)
    if leaks:
        shown = "; ".join(f"{leak.document}: {leak.kind}: {leak.sentence!r}" for leak in leaks[:5])
        raise LeakError(f"{len(leaks)} training sentence(s) found in evaluation documents: {shown}")
