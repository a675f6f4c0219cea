"""The gold set, its checks, and exact-match scoring of entity mentions.

Kept apart from ``evaluate.py`` so tests can check the gold set and the leak
guard without loading a model.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEV_PATH", "GOLD_PATH", "GoldLeakError", "GoldSentence", "Scores", "Span", "check_no_leak", "load_dev",
    "load_gold", "parse_inline", "score", "validate_gold",
]

GOLD_PATH = Path(__file__).resolve().parent / "gold" / "gold.jsonl"
#: The development set: written for tuning, so the gold set stays unseen (``dev/CARD.md``).
DEV_PATH = Path(__file__).resolve().parent / "dev" / "dev.txt"
LABELS = ("PERSON", "ORG", "LOCATION", "DATE", "MONEY", "EMAIL", "PHONE", "SKILL", "JOB_TITLE")
#: ``(start, end, label)`` character offsets.
Span = tuple[int, int, str]
_MIN_SUBSTRING_CHARS = 20


@dataclass(frozen=True)
class GoldSentence:
    id: str
    source: str
    text: str
    entities: list[Span] = field(default_factory=list)


class GoldLeakError(RuntimeError):
    """A gold sentence is in the training data: its score would not be a held-out score."""


def load_gold(path: Path = GOLD_PATH) -> list[GoldSentence]:
    sentences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            sentences.append(GoldSentence(row["id"], row["source"], row["text"],
                                          [(s, e, label) for s, e, label in row["entities"]]))
    return sentences


_INLINE = re.compile(r"\[\[(.+?)\|([A-Z_]+)\]\]")


def parse_inline(annotated: str) -> tuple[str, list[Span]]:
    """``"Met [[Ana|PERSON]]."`` → ``("Met Ana.", [(4, 7, "PERSON")])``."""
    text, spans, pos = "", [], 0
    for m in _INLINE.finditer(annotated):
        text += annotated[pos:m.start()]
        spans.append((len(text), len(text) + len(m.group(1)), m.group(2)))
        text += m.group(1)
        pos = m.end()
    return text + annotated[pos:], spans


def load_dev(path: Path | None = None) -> list[GoldSentence]:
    """The development set: ``source<TAB>text`` lines, mentions inline, ``\\n`` a line break.

    Without ``path``, every part of it (``dev/*.txt``: ``dev.txt``, then ``dev2.txt``, written
    later in other voices); ids are ``dev-<line>`` in the first part, ``<part>-<line>`` after."""
    if path is None:
        return [s for part in sorted(DEV_PATH.parent.glob("*.txt")) for s in load_dev(part)]
    prefix = "dev" if path.name == DEV_PATH.name else path.stem
    sentences = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            source, annotated = line.split("\t", 1)
            text, spans = parse_inline(annotated.replace("\\n", "\n"))
            sentences.append(GoldSentence(f"{prefix}-{number}", source, text, spans))
    return sentences


def validate_gold(sentences: Iterable[GoldSentence]) -> list[str]:
    """Problems with the annotations: offsets out of range, on whitespace, overlapping, unknown labels."""
    problems = []
    ids: set[str] = set()
    for sent in sentences:
        if sent.id in ids:
            problems.append(f"{sent.id}: duplicate id")
        ids.add(sent.id)
        previous_end = -1
        for start, end, label in sorted(sent.entities):
            where = f"{sent.id} [{start}:{end}] {label}"
            if label not in LABELS:
                problems.append(f"{where}: unknown label")
            if not 0 <= start < end <= len(sent.text):
                problems.append(f"{where}: offsets outside the text")
                continue
            mention = sent.text[start:end]
            if mention != mention.strip():
                problems.append(f"{where}: {mention!r} starts or ends with whitespace")
            if start < previous_end:
                problems.append(f"{where}: overlaps the previous entity")
            previous_end = max(previous_end, end)
    return problems


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def check_no_leak(training_texts: Iterable[str], gold: Iterable[GoldSentence], what: str = "gold") -> None:
    """Raise :class:`GoldLeakError` if any gold (or dev) sentence occurs in a training text.

    Compared case-insensitively with whitespace collapsed, and as a substring: the
    generator joins sentences, so a planted sentence may sit inside a longer one.
    Gold lines shorter than ``_MIN_SUBSTRING_CHARS`` ("Regards,") are formulas any
    letter contains; they count as leaked only as a whole training sentence.
    """
    training = [_key(t) for t in training_texts]
    whole = set(training)
    joined = "\n".join(training)
    leaked = [s.id for s in gold
              if _key(s.text) in whole or (len(s.text) >= _MIN_SUBSTRING_CHARS and _key(s.text) in joined)]
    if leaked:
        raise GoldLeakError(
            f"{len(leaked)} {what} sentence(s) occur in the training data ({', '.join(leaked[:5])}); "
            f"the {what} set must never be used for training"
        )


@dataclass
class Scores:
    """Exact-match counts per label; precision, recall and F1 from them."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def prf(self, label: str | None = None) -> tuple[float, float, float]:
        """Precision, recall, F1 of one label, or micro-averaged over all when ``label`` is None."""
        if label is None:
            tp, fp, fn = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        else:
            tp, fp, fn = self.tp[label], self.fp[label], self.fn[label]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def support(self, label: str) -> int:
        return self.tp[label] + self.fn[label]


def score(gold: list[GoldSentence], predicted: list[list[Span]],
          labels: Iterable[str] = LABELS) -> Scores:
    """Exact span and label matches of ``predicted`` (one list per gold sentence)."""
    keep = set(labels)
    scores = Scores()
    for sent, pred in zip(gold, predicted, strict=True):
        g = {span for span in sent.entities if span[2] in keep}
        p = {span for span in pred if span[2] in keep}
        for _, _, label in g & p:
            scores.tp[label] += 1
        for _, _, label in p - g:
            scores.fp[label] += 1
        for _, _, label in g - p:
            scores.fn[label] += 1
    return scores


def label_counts(gold: Iterable[GoldSentence]) -> Counter[str]:
    return Counter(label for sent in gold for _, _, label in sent.entities)
