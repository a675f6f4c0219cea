"""Finding a trained model's artefact in the models directory, for every model that has one.

A model's artefact is ``models_dir / f"{kind}-{hash}"`` holding ``model.joblib`` and
``manifest.json``. With the repository at hand (the training code, ``models/<kind>``, is
importable) the artefact is the one whose hash matches the current training data and code,
trained now if it is missing and ``build_if_missing``; without it (an installed package), the
newest complete ``{kind}-*`` artefact in the directory.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["MANIFEST_FILE", "MODEL_FILE", "artefact_path"]

logger = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"


def artefact_path(models_dir: Path, kind: str, *, what: str, missing: Callable[[str], Exception],
                  build_if_missing: bool = True) -> Path:
    """The folder of the ``kind`` model's artefact (see the module's docstring).

    ``what`` names the model in messages; ``missing(message)`` is the error raised when there
    is no artefact and none may be built here.
    """
    models_dir = Path(models_dir)
    try:  # the training code lives in the repository, not in the installed package
        training = importlib.import_module(f"models.{kind}.pipeline")
    except ImportError:
        training = None
    if training is not None:
        path = Path(training.artefact_dir(models_dir))
        if not (path / MODEL_FILE).is_file():
            if not build_if_missing:
                raise missing(f"No {what} in {path}: run `make models` to train it.")
            started = time.perf_counter()
            logger.warning("%s %s missing: training it now", what, path.name)
            training.build(models_dir)
            logger.warning("%s %s trained in %.1f s", what, path.name, time.perf_counter() - started)
        return path
    built = [p for p in models_dir.glob(f"{kind}-*")
             if (p / MODEL_FILE).is_file() and (p / MANIFEST_FILE).is_file()]
    if not built:
        raise missing(f"No {what} in {models_dir}: run `make models` in the repository "
                      f"(or copy a {kind}-* directory there).")
    newest = max(built, key=lambda p: (p / MODEL_FILE).stat().st_mtime)
    json.loads((newest / MANIFEST_FILE).read_text(encoding="utf-8"))  # fail early if damaged
    return newest
