"""Grid search of the sentiment settings on the TUNING half only (never a held-out half).

    python -m models.analysis.tune_sentiment

Every tuning document is read once down to its sentences: VADER's compound, the sentence
model's polarity (``doclane/ai/_sentiment_model.py``), whether the parser finds the sentence
instructive, and its weight. Each setting of ``_LABEL_THRESHOLD``, ``_MIXED_SHARE``,
``_MIXED_BALANCE``, ``_CLEAR``, ``_INSTRUCTIVE_WEIGHT``, ``_NEGATIVE_SHARE`` and
``_MODEL_WEIGHT`` (``doclane/ai/_sentiment.py``) then labels each document from all of its
sentences, as the analyzer does (``_MODEL_WEIGHT`` 0 is extractive-v4, the lexicon alone).

Settings that change a reader's label on the unit tests' texts (tests/unit/
test_local_analyzer.py, themselves hand-labelled and never part of a held-out half) are
ruled out. A setting is judged by its accuracy averaged with its grid neighbours' (so that
a lucky point on a cliff edge loses to a plateau), and the choice is scored by 5-fold cross-
validation inside the tuning half: choose on four fifths, score on the fifth. The chosen
values are written into ``_sentiment.py`` by hand, with the accuracy they reached.

Since extractive-v6 these settings label a text only when the document model is off (the
bench's lexicon baseline, or ``_DOCUMENT_MODEL = False``): the document model is trained on
``models/sentiment/documents`` (``models/sentiment/pipeline.py``), and this half only
validates it.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.analysis_set import load_labels, materialise
from doclane.ai import _sentiment
from doclane.ai._actions import task_sentences
from doclane.ai._grammar import moods
from doclane.ai.local import judged_segments
from doclane.extraction import SNIFF_BYTES, chunk_document, extract, sniff_content_type
from doclane.schemas.analysis import Sentiment
from doclane.schemas.extraction import Chunk

GRID = {
    "_LABEL_THRESHOLD": (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4),
    "_MIXED_SHARE": (0.02, 0.04, 0.08, 0.12, 0.16),
    "_MIXED_BALANCE": (0.2, 0.35, 0.5, 0.65),
    "_CLEAR": (0.3, 0.4, 0.5, 0.6, 0.7),
    "_INSTRUCTIVE_WEIGHT": (0.0, 0.5, 1.0),
    "_NEGATIVE_SHARE": (0.1, 0.13, 0.16, 0.2, 1.0),
    "_MODEL_WEIGHT": (0.0, 0.5, 0.75, 1.0),
}
FOLDS = 5
LABELS = np.array(["positive", "negative", "neutral", "mixed"])


def _read(chunks: list[Chunk]) -> np.ndarray:
    """(compound, polarity, instructive, weight) per sentence of a document, as the analyzer
    reads it (:func:`doclane.ai._sentiment.sentence_units`; its weights are raw while
    ``_INSTRUCTIVE_WEIGHT`` is 1, which the grid then varies)."""
    segments = judged_segments(chunks)
    units = _sentiment.sentence_units(segments, moods(task_sentences(segments)))
    return np.asarray([[c, p, float(i), w] for c, p, i, w in units], dtype=float).reshape(-1, 4)


def _aggregates(docs: list[np.ndarray], model_w: float, instr_w: float, clear: float) -> np.ndarray:
    """(score stretched like sentiment_of, positive share, negative share) per document."""
    out = np.zeros((len(docs), 3))
    for k, u in enumerate(docs):
        if not len(u):
            continue
        instr = u[:, 2] > 0
        score = np.where(instr, 0.0, model_w * u[:, 1] + (1 - model_w) * u[:, 0])
        weight = np.where(instr, u[:, 3] * instr_w, u[:, 3])
        total = weight.sum()
        if not total:
            continue
        out[k] = [np.clip(1.6 * (score * weight).sum() / total, -1, 1),
                  weight[score >= clear].sum() / total, weight[score <= -clear].sum() / total]
    return out


def _labels(agg: np.ndarray, threshold: float, share: float, balance: float, negative: float
            ) -> np.ndarray:
    """label_for, vectorised over documents."""
    score, pos, neg = agg[:, 0], agg[:, 1], agg[:, 2]
    strong, weak = np.maximum(pos, neg), np.minimum(pos, neg)
    return np.select(
        [(weak >= share) & (weak >= balance * strong), score >= threshold,
         (score <= -threshold) | ((neg >= negative) & (score < 0))],
        ["mixed", "positive", "negative"], "neutral")


def _unit_cases() -> list[tuple[list[Chunk], str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "unit"))
    import test_local_analyzer as unit

    texts = [(" ".join(unit.GLOWING), "positive"), (" ".join(unit.ANGRY), "negative"),
             (" ".join(unit.MIXED), "mixed"), (" ".join(unit.TECHNICAL), "neutral"),
             (unit.MEETING, "neutral"), (unit.EMAIL, "positive"), (unit.CONTRACT, "neutral")]
    return [([Chunk(index=0, text=t)], label) for t, label in texts]


def _smooth(acc: np.ndarray) -> np.ndarray:
    """Each grid point's accuracy averaged with its valid neighbours' (NaN = ruled out)."""
    shape = tuple(len(v) for v in GRID.values())
    grid = acc.reshape(shape)
    total = np.nan_to_num(grid).copy()
    count = (~np.isnan(grid)).astype(float)
    for axis in range(grid.ndim):
        for shift in (-1, 1):
            moved = np.roll(grid, shift, axis=axis)
            edge = [slice(None)] * grid.ndim
            edge[axis] = 0 if shift == 1 else -1
            moved[tuple(edge)] = np.nan
            total += np.nan_to_num(moved)
            count += ~np.isnan(moved)
    smoothed = np.where(np.isnan(grid), np.nan, total / np.maximum(count, 1))
    return smoothed.reshape(-1)


def main() -> None:
    labels = sorted((lab for lab in load_labels() if lab.split == "tuning"), key=lambda x: x.id)
    with tempfile.TemporaryDirectory() as tmp:
        docs = []
        for lab in labels:
            path, _ = materialise(lab, Path(tmp))
            kind = sniff_content_type(path.read_bytes()[:SNIFF_BYTES], path.name, path=path)
            docs.append(_read(chunk_document(extract(path, kind))))
    gold = np.array([lab.sentiment for lab in labels])
    cases = _unit_cases()
    unit_docs, unit_gold = [_read(c) for c, _ in cases], np.array([g for _, g in cases])
    names = list(GRID)
    settings = list(itertools.product(*GRID.values()))
    correct = np.zeros((len(settings), len(docs)), dtype=bool)
    valid = np.ones(len(settings), dtype=bool)
    cache: dict[tuple[float, float, float], tuple[np.ndarray, np.ndarray]] = {}
    for k, values in enumerate(settings):
        v = dict(zip(names, values, strict=True))
        key = (v["_MODEL_WEIGHT"], v["_INSTRUCTIVE_WEIGHT"], v["_CLEAR"])
        if key not in cache:
            cache[key] = (_aggregates(docs, *key), _aggregates(unit_docs, *key))
        agg, unit_agg = cache[key]
        rule = (v["_LABEL_THRESHOLD"], v["_MIXED_SHARE"], v["_MIXED_BALANCE"], v["_NEGATIVE_SHARE"])
        if (_labels(unit_agg, *rule) != unit_gold).any():
            valid[k] = False
            continue
        correct[k] = _labels(agg, *rule) == gold
    fold = np.zeros(len(docs), dtype=int)  # stratified by label, documents sorted by id
    for label in Sentiment:
        idx = np.flatnonzero(gold == label.value)
        fold[idx] = np.arange(len(idx)) % FOLDS
    model_w = np.array([s[names.index("_MODEL_WEIGHT")] for s in settings])
    ways = [(model_w == w, f"model weight {w}") for w in GRID["_MODEL_WEIGHT"]]
    for restrict, title in [*ways, (model_w >= 0.0, "any model weight")]:
        ok = valid & restrict
        if not ok.any():
            print(f"{title}: no setting keeps the unit tests' labels")
            continue
        hits = []
        for f in range(FOLDS):
            train = fold != f
            acc = np.where(ok, correct[:, train].mean(1), np.nan)
            best = int(np.nanargmax(_smooth(acc)))
            hits += list(correct[best, ~train])
        acc = np.where(ok, correct.mean(1), np.nan)
        smoothed = _smooth(acc)
        best = int(np.nanargmax(smoothed))
        print(f"{title}: cross-validated accuracy {np.mean(hits):.3f}; chosen on the whole tuning "
              f"half: accuracy {acc[best]:.3f} (neighbourhood {smoothed[best]:.3f}, best single "
              f"point {np.nanmax(acc):.3f}) with {dict(zip(names, settings[best], strict=True))}")


if __name__ == "__main__":
    main()
