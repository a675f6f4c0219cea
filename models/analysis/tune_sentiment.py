"""Grid search of the sentiment settings on the TUNING half only (never the held-out half).

    python -m models.analysis.tune_sentiment

Every tuning document is read once down to its sentences' VADER compounds, whether the
parser finds each one instructive, and their weights. Each setting of ``_LABEL_THRESHOLD``,
``_MIXED_SHARE``, ``_MIXED_BALANCE``, ``_CLEAR``, ``_INSTRUCTIVE_WEIGHT`` and
``_NEGATIVE_SHARE`` (``doclane/ai/_sentiment.py``) then labels the documents in two ways:

* ``document``: one label from all of the document's sentences (what ``extractive-v4`` does);
* ``chunks``: a label per chunk, combined by chunk length (what ``extractive-v3`` did).

Settings that change a reader's label on the unit tests' texts (tests/unit/
test_local_analyzer.py, themselves hand-labelled and never part of the held-out half) are
ruled out. A setting is judged by its accuracy averaged with its grid neighbours' (so that
a lucky point on a cliff edge loses to a plateau), and each way is scored by 5-fold cross-
validation inside the tuning half: choose on four fifths, score on the fifth. The chosen
values are written into ``_sentiment.py`` by hand, with the accuracy they reached.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np

from bench.analysis_set import load_labels, materialise
from doclane.ai import _sentiment
from doclane.ai._actions import task_sentences
from doclane.ai._grammar import moods
from doclane.ai._text import segment
from doclane.ai.local import _document_segments
from doclane.extraction import chunk_document, extract, sniff_content_type
from doclane.schemas.analysis import Sentiment
from doclane.schemas.extraction import Chunk

GRID = {
    "_LABEL_THRESHOLD": (0.05, 0.1, 0.15, 0.2, 0.25),
    "_MIXED_SHARE": (0.04, 0.08, 0.12, 0.16),
    "_MIXED_BALANCE": (0.2, 0.35, 0.5, 0.65),
    "_CLEAR": (0.2, 0.3, 0.4, 0.5),
    "_INSTRUCTIVE_WEIGHT": (0.0, 0.5, 1.0),
    "_NEGATIVE_SHARE": (0.1, 0.13, 0.16, 0.2, 1.0),
}
FOLDS = 5
#: (compound, instructive, weight) per sentence.
Units = list[tuple[float, bool, float]]


def _units(segments: list) -> Units:  # type: ignore[type-arg]
    parsed = moods(task_sentences(segments))
    out = []
    for seg, mood in zip(segments, parsed, strict=True):
        if seg.kind == "heading":
            continue
        weight = min(float(seg.text.count(" ") + 1), 40.0) ** 0.5
        if not _sentiment.evaluative(seg, mood):
            out.append((0.0, True, weight))
            continue
        out += [(compound, False, w) for compound, w in _sentiment.sentence_scores([seg], [mood])]
    return out


def _read(chunks: list[Chunk]) -> tuple[Units, list[tuple[Units, float]]]:
    """The document's units (as one text) and each chunk's units with its length."""
    whole = segment(chunks[0].text) if len(chunks) == 1 else _document_segments(chunks)
    return _units(whole), [(_units(segment(c.text)), float(max(len(c.text), 1))) for c in chunks]


def _aggregate(units: Units) -> tuple[float, float, float]:
    w_instr = _sentiment._INSTRUCTIVE_WEIGHT
    return _sentiment._aggregate((c, w * w_instr if instr else w) for c, instr, w in units)


def _document_label(units: Units) -> str:
    score, pos, neg = _aggregate(units)
    return _sentiment.label_for(max(-1.0, min(1.0, score * 1.6)), pos, neg).value


def _chunks_label(parts: list[tuple[Units, float]]) -> str:
    labelled = []
    for units, weight in parts:
        score, pos, neg = _aggregate(units)
        signed = max(-1.0, min(1.0, score * 1.6))
        labelled.append((_sentiment.label_for(signed, pos, neg), signed, weight))
    if len(labelled) == 1:
        return labelled[0][0].value
    return _sentiment.combine(labelled)[0].value


def _unit_cases() -> list[tuple[list[Chunk], str]]:
    import sys

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
            kind = sniff_content_type(path.read_bytes()[:8192], path.name, path=path)
            docs.append(_read(chunk_document(extract(path, kind))))
    gold = np.array([lab.sentiment for lab in labels])
    unit = [(_read(chunks), label) for chunks, label in _unit_cases()]
    settings = list(itertools.product(*GRID.values()))
    correct = {m: np.zeros((len(settings), len(docs)), dtype=bool) for m in ("document", "chunks")}
    valid = {m: np.ones(len(settings), dtype=bool) for m in correct}
    for k, values in enumerate(settings):
        for name, value in zip(GRID, values, strict=True):
            setattr(_sentiment, name, value)
        for method, read in (("document", lambda d: _document_label(d[0])),
                             ("chunks", lambda d: _chunks_label(d[1]))):
            if any(read(d) != label for d, label in unit):
                valid[method][k] = False
                continue
            correct[method][k] = [read(d) == g for d, g in zip(docs, gold, strict=True)]
    # Folds stratified by label: documents sorted by id, dealt out label by label.
    fold = np.zeros(len(docs), dtype=int)
    for label in Sentiment:
        idx = np.flatnonzero(gold == label.value)
        fold[idx] = np.arange(len(idx)) % FOLDS
    for method in correct:
        hits = []
        for f in range(FOLDS):
            train = fold != f
            acc = np.where(valid[method], correct[method][:, train].mean(1), np.nan)
            best = int(np.nanargmax(_smooth(acc)))
            hits += list(correct[method][best, ~train])
        acc = np.where(valid[method], correct[method].mean(1), np.nan)
        smoothed = _smooth(acc)
        best = int(np.nanargmax(smoothed))
        print(f"{method}: cross-validated accuracy {np.mean(hits):.3f}; chosen on the whole "
              f"tuning half: accuracy {acc[best]:.3f} (neighbourhood {smoothed[best]:.3f}, "
              f"best single point {np.nanmax(acc):.3f}) with "
              f"{dict(zip(GRID, settings[best], strict=True))}")


if __name__ == "__main__":
    main()
