"""Document classification: what kind of document an upload is.

``load_classifier(settings)`` returns the trained model for the current training data
and code. When that artefact isn't built yet it is trained on the spot if the training
code (``models/classify``, in the repository) is importable — about 20 s cold on two
cores — and otherwise :class:`ClassifierUnavailable` says to run ``make models``.
"""

from __future__ import annotations

from pathlib import Path

from doclane.ai._artefacts import artefact_path
from doclane.ai.classify.base import DocumentClassifier
from doclane.ai.classify.exceptions import ClassifierUnavailable
from doclane.ai.classify.features import classification_text, prepare_text
from doclane.ai.classify.linear import LinearDocClassifier, load_artefact
from doclane.infra.settings import Settings

__all__ = [
    "ClassifierUnavailable",
    "DocumentClassifier",
    "LinearDocClassifier",
    "classification_text",
    "load_classifier",
    "prepare_text",
]


def load_classifier(settings: Settings, *, build_if_missing: bool = True) -> LinearDocClassifier:
    """The document classifier for ``settings.models_dir``, loaded once per process.

    With the repository at hand the artefact is the one whose hash matches the current
    training data and code (built now if missing and ``build_if_missing``). Without it
    (an installed package), the newest ``classify-*`` artefact in the directory is used.
    The result is picklable and cheap to send to a process-pool worker.
    """
    return load_artefact(str(artefact_path(
        Path(settings.models_dir), "classify", what="document classifier", missing=ClassifierUnavailable,
        build_if_missing=build_if_missing)))
