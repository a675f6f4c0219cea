"""The sentence sentiment model: is a sentence good news, bad news or neither?

A multinomial logistic regression over TF-IDF word 1-2-grams and character 2-5-grams, plus
three lexicon features (VADER's compound, positive and negative shares) and a count of
negations. It is trained by ``python -m models.sentiment.train`` (``make models``) on
sentences written by hand for it (``models/sentiment/data``), into
``settings.models_dir / "sentiment-{hash}"`` (``model.joblib`` and ``manifest.json``); the hash
covers the training data and code, so a change retrains. It reads what VADER's word list
cannot: bad news told as facts ("the parcel never arrived", "only 40 of the 200 laptops were
delivered").

The model is loaded once per process (:func:`load_sentence_model`) and scores all the
sentences of a text in one call (one sparse matrix), not one call per sentence.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

from doclane.ai._artefacts import MANIFEST_FILE, MODEL_FILE, artefact_path
from doclane.ai.exceptions import AnalysisError
from doclane.infra.settings import get_settings

__all__ = [
    "MANIFEST_FILE", "MODEL_FILE", "SentenceModel", "dense_features", "feature_matrix",
    "load_sentence_model", "stacked",
]

_SEEN_MAX = 20_000
_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|nobody|nothing|none|neither|nor|without|cannot)\b|n't\b", re.IGNORECASE
)


def dense_features(texts: Sequence[str], lexicon: Sequence[tuple[float, float, float]]) -> Any:
    """(compound, positive share, negative share, negations / 3) per text, as a sparse matrix.

    ``lexicon`` holds VADER's scores of each text (``doclane.ai._sentiment`` computes them with
    its business-sense overrides, for training and at run time alike).
    """
    rows = [[c, p, n, min(len(_NEGATION_RE.findall(t)), 3) / 3.0]
            for t, (c, p, n) in zip(texts, lexicon, strict=True)]
    return sparse.csr_matrix(np.asarray(rows, dtype=float).reshape(len(rows), 4))


def feature_matrix(words: Any, chars: Any, texts: Sequence[str],
                   lexicon: Sequence[tuple[float, float, float]]) -> Any:
    """The model's features of ``texts`` (one row each), from its fitted word and character
    vectorisers and :func:`dense_features`."""
    return sparse.hstack([words.transform(texts), chars.transform(texts),
                          dense_features(texts, lexicon)]).tocsr()


def stacked(document: dict[str, Any], features: Any, texts: Sequence[str]) -> Any:
    """What the document model's label model reads: each text's sentence features beside its
    word model's class probabilities (one row a text)."""
    return np.hstack([np.asarray(features, dtype=float).reshape(len(texts), -1),
                      document["words"].predict_proba(list(texts))])


class SentenceModel:
    """Trained vectorisers and classifier; ``polarity`` is P(positive) - P(negative) per sentence.

    The artefact also holds the document model (``document``): a word model of a text's
    words (TF-IDF and logistic regression) whose four class probabilities join the text's
    sentence features (``doclane.ai._sentiment.document_features``) in a second logistic
    regression, which gives the text's label (:meth:`judge_document`).
    """

    def __init__(self, path: Path, parts: dict[str, Any], manifest: dict[str, Any]) -> None:
        self.path = path
        self.version = str(manifest["version"])
        self._words = parts["words"]
        self._chars = parts["chars"]
        self._classifier = parts["classifier"]
        classes = [str(c) for c in self._classifier.classes_]
        self._pos, self._neg = classes.index("positive"), classes.index("negative")
        #: Polarity of sentences already scored: chunks overlap, and the reduce reads the
        #: document's sentences again after its chunks (insertion order, oldest dropped first).
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._document: dict[str, Any] | None = parts.get("document")

    def judge_document(self, features: Sequence[float], text: str) -> tuple[str, float]:
        """(label, P(positive) - P(negative)) of a text from its sentence features and its words."""
        if self._document is None:
            raise AnalysisError(f"The sentiment model {self.path.name} has no document model: run `make models`.")
        stack = self._document["stack"]
        proba = stack.predict_proba(stacked(self._document, [features], [text]))[0]
        classes = [str(c) for c in stack.classes_]
        best = classes[int(np.argmax(proba))]
        return best, float(proba[classes.index("positive")] - proba[classes.index("negative")])

    def polarity(self, texts: Sequence[str], lexicon: Sequence[tuple[float, float, float]]) -> list[float]:
        """P(positive) - P(negative) of each text, in [-1, 1]; one matrix for all of them."""
        with self._lock:  # analysis threads share the model and its memory of sentences
            fresh = {t: lex for t, lex in zip(texts, lexicon, strict=True) if t not in self._seen}
            if fresh:
                matrix = feature_matrix(self._words, self._chars, list(fresh), list(fresh.values()))
                proba = self._classifier.predict_proba(matrix)
                for text, p in zip(fresh, proba[:, self._pos] - proba[:, self._neg], strict=True):
                    self._seen[text] = float(p)
            out = [self._seen[t] for t in texts]
            while len(self._seen) > _SEEN_MAX:
                self._seen.pop(next(iter(self._seen)))
        return out


@functools.lru_cache(maxsize=4)
def _load(path: str) -> SentenceModel:
    folder = Path(path)
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    return SentenceModel(folder, joblib.load(folder / MODEL_FILE), manifest)


@functools.lru_cache(maxsize=1)
def load_sentence_model() -> SentenceModel:
    """The sentence model for the current training data and code, loaded once per process.

    With the repository at hand (``models/sentiment``) it is the artefact whose hash matches
    the data and code, trained now if missing (a few seconds). Without it (an installed
    package), the newest complete ``sentiment-*`` artefact in ``settings.models_dir``.
    """
    return _load(str(artefact_path(Path(get_settings().models_dir), "sentiment",
                                   what="sentence sentiment model", missing=AnalysisError)))
