"""The leak check: no held-out document may be in the training data, exactly or nearly."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["NEAR_DUPLICATE", "Leak", "LeakError", "find_leaks", "normalise"]

#: Share of a held-out document's word 8-grams found in one training document above which
#: the two are the same text (templates share phrases, not whole documents).
NEAR_DUPLICATE = 0.5
_SHINGLE = 8


class LeakError(AssertionError):
    """A held-out document appears in the training data: its score would be meaningless."""


@dataclass(frozen=True)
class Leak:
    heldout_id: str
    training_id: str
    kind: str  # "exact" or "near"
    overlap: float


def normalise(text: str) -> str:
    """Lower case, letters and digits only, single spaces (so formatting can't hide a copy)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    if len(words) < _SHINGLE:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)}


def find_leaks(heldout: Sequence[tuple[str, str]], training: Sequence[tuple[str, str]],
               threshold: float = NEAR_DUPLICATE) -> tuple[list[Leak], float]:
    """Held-out ``(id, text)`` pairs found in the training pairs, and the highest overlap seen."""
    train_norm = [(tid, normalise(text)) for tid, text in training]
    by_hash = {hashlib.sha256(n.encode()).hexdigest(): tid for tid, n in train_norm}
    index: dict[tuple[str, ...], set[int]] = {}
    train_sizes = []
    for k, (_, norm) in enumerate(train_norm):
        shingles = _shingles(norm.split())
        train_sizes.append(len(shingles))
        for s in shingles:
            index.setdefault(s, set()).add(k)
    leaks: list[Leak] = []
    highest = 0.0
    for hid, text in heldout:
        norm = normalise(text)
        exact = by_hash.get(hashlib.sha256(norm.encode()).hexdigest())
        if exact is not None:
            leaks.append(Leak(hid, exact, "exact", 1.0))
            highest = 1.0
            continue
        shingles = _shingles(norm.split())
        hits: dict[int, int] = {}
        for s in shingles:
            for k in index.get(s, ()):
                hits[k] = hits.get(k, 0) + 1
        if not hits or not shingles:
            continue
        k, shared = max(hits.items(), key=lambda item: item[1])
        overlap = shared / len(shingles)
        highest = max(highest, overlap)
        if overlap >= threshold:
            leaks.append(Leak(hid, train_norm[k][0], "near", round(overlap, 3)))
    return leaks, highest
