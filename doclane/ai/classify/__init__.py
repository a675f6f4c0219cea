"""Document classification: what kind of document an upload is.

``load_classifier(settings)`` returns the trained model for the current training data
and code. When that artefact isn't built yet it is trained on the spot if the training
code (``models/classify``, in the repository) is importable — about 20 s cold on two
cores — and otherwise :class:`ClassifierUnavailable` says to run ``make models``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from types import ModuleType

from doclane.ai.classify.base import DocumentClassifier
from doclane.ai.classify.exceptions import ClassifierUnavailable
from doclane.ai.classify.features import classification_text, prepare_text
from doclane.ai.classify.linear import MANIFEST_FILE, MODEL_FILE, LinearDocClassifier, load_artefact
from doclane.infra.settings import Settings

__all__ = [
    "ClassifierUnavailable",
    "DocumentClassifier",
    "LinearDocClassifier",
    "classification_text",
    "load_classifier",
    "prepare_text",
]

logger = logging.getLogger(__name__)


def load_classifier(settings: Settings, *, build_if_missing: bool = True) -> LinearDocClassifier:
    """The document classifier for ``settings.models_dir``, loaded once per process.

    With the repository at hand the artefact is the one whose hash matches the current
    training data and code (built now if missing and ``build_if_missing``). Without it
    (an installed package), the newest ``classify-*`` artefact in the directory is used.
    The result is picklable and cheap to send to a process-pool worker.
    """
    models_dir = Path(settings.models_dir)
    training: ModuleType | None
    try:  # the training code lives in the repository, not in the installed package
        from models.classify import pipeline as training
    except ImportError:
        training = None
    if training is not None:
        path = training.artefact_dir(models_dir)
        if not (path / MODEL_FILE).is_file():
            if not build_if_missing:
                raise ClassifierUnavailable(
                    f"No document classifier in {path}: run `make models` to train it."
                )
            started = time.perf_counter()
            logger.warning("classifier %s missing: training it now", path.name)
            training.build(models_dir)
            logger.warning("classifier %s trained in %.1f s", path.name, time.perf_counter() - started)
        return load_artefact(str(path))
    return load_artefact(str(_newest_artefact(models_dir)))


def _newest_artefact(models_dir: Path) -> Path:
    """The most recently built complete artefact, for installs without the training code."""
    built = [
        p for p in models_dir.glob("classify-*")
        if (p / MODEL_FILE).is_file() and (p / MANIFEST_FILE).is_file()
    ]
    if not built:
        raise ClassifierUnavailable(
            f"No document classifier in {models_dir}: run `make models` in the repository "
            "(or copy a classify-* directory there)."
        )
    newest = max(built, key=lambda p: (p / MODEL_FILE).stat().st_mtime)
    json.loads((newest / MANIFEST_FILE).read_text(encoding="utf-8"))  # fail early if damaged
    return newest
