"""The sentence sentiment model's workflow: data -> features -> train -> artefact.

The artefact is ``models_dir / f"sentiment-{hash}"``, the hash covering the training
sentences, this code, the run-time feature code and the libraries' versions: a change to any
of them trains a new artefact; otherwise :func:`build` does nothing. Training is
deterministic (fixed folds, a deterministic solver), so the same inputs give the same
weights (``tests/unit/test_sentiment_model.py``).

Steps: *data* (``data/{positive,negative,neutral}.txt``, one hand-written sentence a line),
*features* (TF-IDF words 1-2 and characters 2-5, fitted on the training sentences, plus the
lexicon features of :func:`doclane.ai._sentiment_model.dense_features`), *select* (``C`` by
5-fold cross-validation on the training sentences only), *train* (all sentences), *write*.
"""

from __future__ import annotations

import json
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from doclane.ai._sentiment import lexicon_scores
from doclane.ai._sentiment_model import MANIFEST_FILE, MODEL_FILE, dense_features, feature_matrix
from models._artefacts import ROOT, named, publish
from models._artefacts import fingerprint as fingerprint_of

__all__ = ["CLASSES", "DATA", "VERSION", "artefact_dir", "build", "fingerprint", "load_sentences"]

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CLASSES = ("positive", "negative", "neutral")
VERSION = "sentence-sentiment-lr@1"
SEED = 13
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
FOLDS = 5
_CODE = [HERE / "pipeline.py", ROOT / "doclane" / "ai" / "_sentiment_model.py",
         ROOT / "doclane" / "ai" / "_sentiment.py"]
_LIBRARIES = ["scikit-learn", "scipy", "numpy", "vadersentiment"]


def load_sentences(data: Path = DATA) -> list[tuple[str, str]]:
    """Step *data*: (sentence, label) for every hand-written training sentence, in file order."""
    out = []
    for label in CLASSES:
        for line in (data / f"{label}.txt").read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append((line.strip(), label))
    return out


def fingerprint(data: Path = DATA) -> str:
    """Hash of everything the trained model depends on (``data``: the training sentences)."""
    return fingerprint_of(f"{VERSION};seed={SEED};C={C_GRID};folds={FOLDS}",
                          [*named(_CODE), *named((data / f"{label}.txt" for label in CLASSES), data.parent)],
                          _LIBRARIES, length=12)


def artefact_dir(models_dir: Path) -> Path:
    return Path(models_dir) / f"sentiment-{fingerprint()}"


def _vectorisers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True,
                            token_pattern=r"(?u)\b\w[\w']*\b")  # noqa: S106 (a regex, not a secret)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    return words, chars


def _fit(texts: list[str], labels: list[str], lexicon: list[tuple[float, float, float]],
         c: float) -> dict[str, Any]:
    words, chars = _vectorisers()
    x = sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts),
                       dense_features(texts, lexicon)]).tocsr()
    classifier = LogisticRegression(C=c, max_iter=5000, solver="lbfgs")
    # One BLAS thread: on a busy machine the default thread pool makes each small fit 20x slower.
    with threadpool_limits(1):
        classifier.fit(x, labels)
    return {"words": words, "chars": chars, "classifier": classifier}


def _predict(parts: dict[str, Any], texts: list[str], lexicon: list[tuple[float, float, float]]) -> Any:
    return parts["classifier"].predict(feature_matrix(parts["words"], parts["chars"], texts, lexicon))


def select(texts: list[str], labels: list[str], lexicon: list[tuple[float, float, float]]
           ) -> tuple[float, dict[str, float]]:
    """Step *select*: ``C`` with the best 5-fold accuracy on the training sentences."""
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    y = np.asarray(labels)
    accuracy: dict[str, float] = {}
    for c in C_GRID:
        hits = 0
        for train, test in folds.split(texts, y):
            parts = _fit([texts[i] for i in train], [labels[i] for i in train],
                         [lexicon[i] for i in train], c)
            hits += int((_predict(parts, [texts[i] for i in test], [lexicon[i] for i in test])
                         == y[test]).sum())
        accuracy[str(c)] = round(hits / len(texts), 4)
    best = max(C_GRID, key=lambda c: (accuracy[str(c)], -c))  # ties: the stronger regularisation
    return best, accuracy


def build(models_dir: Path, *, force: bool = False) -> Path:
    """Train the sentence model into ``artefact_dir(models_dir)`` unless it is already there."""
    target = artefact_dir(models_dir)
    if (target / MODEL_FILE).is_file() and not force:
        return target
    started = time.perf_counter()
    pairs = load_sentences()
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    lexicon = lexicon_scores(texts)
    c, cross_validated = select(texts, labels, lexicon)
    parts = _fit(texts, labels, lexicon, c)
    manifest = {
        "version": VERSION, "hash": target.name.removeprefix("sentiment-"), "C": c,
        "cross_validated_accuracy": cross_validated,
        "label_counts": {label: labels.count(label) for label in CLASSES},
        "sentences": len(texts),
        "libraries": {lib: metadata.version(lib) for lib in _LIBRARIES},
        "build_s": round(time.perf_counter() - started, 1),
    }

    def write(folder: Path) -> None:
        joblib.dump(parts, folder / MODEL_FILE)
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    return publish(target, write, force=force)
