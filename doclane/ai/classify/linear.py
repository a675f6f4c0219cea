"""The linear document classifier: TF-IDF words and character n-grams, calibrated probabilities.

The artefact is a directory ``classify-{hash}`` under ``settings.models_dir`` holding the
scikit-learn pipeline (``model.joblib``) and a ``manifest.json`` (version, classes,
threshold). It is written by ``models/classify/train.py`` (``make models``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from doclane.ai._artefacts import MANIFEST_FILE, MODEL_FILE
from doclane.ai.classify.exceptions import ClassifierUnavailable
from doclane.ai.classify.features import prepare_text
from doclane.schemas.enrichment import Classification, DocType

__all__ = ["MANIFEST_FILE", "MODEL_FILE", "LinearDocClassifier", "load_artefact", "sharpen"]


def sharpen(probabilities: Any, exponent: float) -> Any:
    """Probabilities raised to ``exponent`` and renormalised per row: a temperature on the
    calibrated scores (``softmax(z / T) ** a``, renormalised, is ``softmax(z * a / T)``)."""
    if exponent == 1.0:
        return probabilities
    raised = np.power(np.clip(probabilities, 1e-12, 1.0), exponent)
    return raised / raised.sum(axis=1, keepdims=True)


class LinearDocClassifier:
    """A :class:`~doclane.ai.classify.base.DocumentClassifier` backed by a trained artefact.

    Pickling sends only the artefact's path: a process-pool worker that unpickles it loads
    the model from disk once and keeps it (:func:`load_artefact` is cached per process), so
    ``pool.run(classifier.classify, text)`` costs a path on the wire, not the model.
    """

    def __init__(self, path: Path, pipeline: Any, manifest: dict[str, Any]) -> None:
        self.path = path
        self._pipeline = pipeline
        self.version: str = str(manifest["version"])
        #: Below this calibrated probability the label is ``other`` (chosen on the
        #: development set, ``models/classify/dev``).
        self.threshold: float = float(manifest["threshold"])
        self.manifest = manifest
        #: Exponent on the calibrated probabilities (a temperature fitted on hand-written
        #: training documents out of fold; 1.0 in artefacts older than it).
        self.sharpen: float = float(manifest.get("sharpen", 1.0))
        self._classes: list[str] = [str(c) for c in pipeline.classes_]

    def classify(self, text: str, *, filename: str | None = None,
                 content_type: str | None = None) -> Classification:
        """The document's type, the calibrated probability of it, and every class's probability."""
        probabilities = self.predict_proba([prepare_text(text, filename=filename,
                                                         content_type=content_type)])[0]
        scores = {label: round(float(p), 6) for label, p in zip(self._classes, probabilities, strict=True)}
        for missing in DocType:  # a class absent from training still gets a score
            scores.setdefault(missing.value, 0.0)
        best = max(self._classes, key=lambda c: scores[c])
        label = best if scores[best] >= self.threshold else DocType.OTHER.value
        return Classification(label=DocType(label), confidence=min(1.0, scores[label]),
                              version=self.version, scores=scores)

    def predict_proba(self, prepared: list[str]) -> Any:
        """Calibrated probabilities for texts already passed through ``prepare_text``."""
        return sharpen(np.asarray(self._pipeline.predict_proba(prepared), dtype=float), self.sharpen)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (load_artefact, (str(self.path),))


@functools.lru_cache(maxsize=4)
def load_artefact(path: str | Path) -> LinearDocClassifier:
    """Load the classifier in ``path`` (a ``classify-{hash}`` directory), once per process."""
    directory = Path(path)
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
        # joblib is pickle: only artefacts this project wrote to its own models directory
        # are loaded, never a file that came from a user or the network.
        pipeline = joblib.load(directory / MODEL_FILE)
    except (OSError, ValueError, EOFError) as exc:
        raise ClassifierUnavailable(
            f"The document classifier in {directory} can't be read ({exc.__class__.__name__}). "
            "Rebuild it with `make models`."
        ) from exc
    return LinearDocClassifier(directory, pipeline, manifest)
