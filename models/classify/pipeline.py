"""Training as named steps: data -> convert -> select (validation split) -> fit -> artefact.

The artefact directory is ``models_dir / f"classify-{hash}"``, the hash covering the
training data, the training code, the feature code, the readers that turn files into
text, and the versions of the libraries that shape the result. ``build`` is a no-op when
that directory exists; it writes into a temporary directory and renames it into place, so
processes that race to build never see half an artefact.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from doclane.ai.classify.features import prepare_text
from doclane.ai.classify.linear import MANIFEST_FILE, MODEL_FILE
from models.classify.generate import generated_docs
from models.classify.metrics import apply_threshold, choose_threshold, expected_calibration_error, scores
from models.classify.sources import SourceDoc, document_text, read_source_dir

__all__ = ["CANDIDATES", "CLASSES", "Example", "artefact_dir", "build", "convert", "fingerprint",
           "make_model", "training_docs"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HANDWRITTEN = HERE / "data" / "handwritten"
SEED = 20240607
PER_CLASS = 70
DATASET_FILE = "dataset.jsonl"
CLASSES = ["contract", "invoice", "job_description", "letter", "other", "paper", "presentation", "report", "resume"]
#: Candidates compared on the validation split; the first is the uncalibrated reference.
CANDIDATES = ["lr", "lr-temperature", "svc-sigmoid", "svc-temperature"]
_CODE = [*sorted(HERE.glob("_gen_*.py")), HERE / "generate.py", HERE / "sources.py", HERE / "pipeline.py",
         HERE / "metrics.py", ROOT / "doclane" / "ai" / "classify" / "features.py",
         *sorted((ROOT / "doclane" / "extraction").glob("*.py"))]
_LIBRARIES = ["scikit-learn", "faker", "pymupdf", "python-docx", "python-pptx"]


@dataclass(frozen=True)
class Example:
    """A training document as the model sees it, and where it came from."""

    id: str
    label: str
    text: str  # what the readers extracted (the leak check compares this)
    content_type: str
    filename: str

    @property
    def prepared(self) -> str:
        return prepare_text(self.text, filename=self.filename, content_type=self.content_type)


def fingerprint(per_class: int = PER_CLASS) -> str:
    """Hash of everything the trained model depends on."""
    digest = hashlib.sha256(f"per_class={per_class};seed={SEED}".encode())
    for path in [*_CODE, *sorted(HANDWRITTEN.glob("*.txt"))]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}={metadata.version(library)}".encode())
    return digest.hexdigest()[:16]


def artefact_dir(models_dir: Path, per_class: int = PER_CLASS) -> Path:
    return Path(models_dir) / f"classify-{fingerprint(per_class)}"


def training_docs(per_class: int = PER_CLASS) -> list[SourceDoc]:
    """Step *data*: the generated documents and the hand-written training documents."""
    return generated_docs(per_class, SEED) + read_source_dir(HANDWRITTEN)


def convert(docs: list[SourceDoc]) -> list[Example]:
    """Step *convert*: render each document to its format and read it back with doclane's readers."""
    with tempfile.TemporaryDirectory(prefix="doclane-classify-") as tmp:
        out = []
        for doc in docs:
            text, content_type = document_text(doc, Path(tmp))
            out.append(Example(doc.id, doc.label, text, content_type, doc.filename))
        return out


def make_model(name: str) -> Pipeline:
    """A TF-IDF (words and character n-grams) + linear classifier pipeline; ``name`` in CANDIDATES."""
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.9)),
        # Character n-grams inside word boundaries survive OCR-like noise, plurals and
        # formatting ("Inv.No", "Qty") that word tokens split badly.
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                  max_features=60_000)),
    ])
    # Fixed seeds: liblinear shuffles its coordinate descent, so an unseeded SVC differs run to run.
    lr = LogisticRegression(C=20.0, max_iter=1000, random_state=SEED)
    svc = LinearSVC(C=0.5, random_state=SEED)
    classifier: Any = {
        "lr": lr,
        "lr-temperature": CalibratedClassifierCV(lr, method="temperature", cv=3),
        "svc-sigmoid": CalibratedClassifierCV(svc, method="sigmoid", cv=3),
        "svc-temperature": CalibratedClassifierCV(svc, method="temperature", cv=3),
    }[name]
    return Pipeline([("features", features), ("classifier", classifier)])


def _split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """Selection split: a quarter of the generated documents of each class plus every
    hand-written training document go to validation (they read least like the templates)."""
    rng = random.Random(SEED)
    train, valid = [], []
    for label in CLASSES:
        generated = [e for e in examples if e.label == label and e.id.startswith("gen-")]
        rng.shuffle(generated)
        cut = len(generated) // 4
        valid += generated[:cut]
        train += generated[cut:]
    valid += [e for e in examples if not e.id.startswith("gen-")]
    return train, valid


def select(examples: list[Example]) -> tuple[dict[str, dict[str, Any]], str, float]:
    """Step *select*: every candidate fitted on the split's training part and scored on its
    validation part; the best macro-F1 wins (lower ECE breaks ties); its threshold for
    ``other`` is chosen on the same validation part."""
    train, valid = _split(examples)
    y_valid = [e.label for e in valid]
    results: dict[str, dict[str, Any]] = {}
    probabilities: dict[str, np.ndarray] = {}
    for name in CANDIDATES:
        started = time.perf_counter()
        model = make_model(name).fit([e.prepared for e in train], [e.label for e in train])
        proba = model.predict_proba([e.prepared for e in valid])
        classes = [str(c) for c in model.classes_]
        predicted = [classes[i] for i in proba.argmax(axis=1)]
        s = scores(y_valid, predicted, classes)
        results[name] = {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"],
                         "ece": expected_calibration_error(proba, y_valid, classes),
                         "log_loss": float(log_loss(y_valid, proba, labels=classes)),
                         "fit_s": round(time.perf_counter() - started, 2)}
        probabilities[name] = proba
    # Calibrated candidates only: the uncalibrated LR is the "before calibration" reference.
    chosen = max(CANDIDATES[1:], key=lambda n: (round(results[n]["macro_f1"], 4), -results[n]["ece"]))
    threshold = choose_threshold(probabilities[chosen], y_valid, CLASSES)
    results[chosen]["thresholded"] = scores(y_valid, apply_threshold(probabilities[chosen], CLASSES, threshold),
                                            CLASSES)["accuracy"]
    return results, chosen, threshold


def build(models_dir: Path, *, per_class: int = PER_CLASS, force: bool = False) -> Path:
    """Train the classifier into ``artefact_dir(models_dir)`` unless it is already there."""
    target = artefact_dir(models_dir, per_class)
    if (target / MODEL_FILE).is_file() and not force:
        return target
    started = time.perf_counter()
    examples = convert(training_docs(per_class))
    converted_s = time.perf_counter() - started
    selection, chosen, threshold = select(examples)
    model = make_model(chosen).fit([e.prepared for e in examples], [e.label for e in examples])
    counts = {c: sum(e.label == c for e in examples) for c in CLASSES}
    manifest = {
        "version": f"doctype-tfidf-{chosen}@1", "hash": target.name.removeprefix("classify-"),
        "model": chosen, "threshold": threshold, "classes": [str(c) for c in model.classes_],
        "training_documents": len(examples), "label_counts": counts, "selection": selection,
        "libraries": {lib: metadata.version(lib) for lib in _LIBRARIES},
        "convert_s": round(converted_s, 1), "build_s": round(time.perf_counter() - started, 1),
    }
    Path(models_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".classify-", dir=models_dir))
    joblib.dump(model, tmp / MODEL_FILE)
    with (tmp / DATASET_FILE).open("w", encoding="utf-8") as out:
        for e in examples:
            out.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
    (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if force and target.exists():
        shutil.rmtree(target)
    try:
        os.rename(tmp, target)
    except OSError:  # another process finished first: its artefact is the same one
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_dataset(path: Path) -> list[Example]:
    """The training examples an artefact was built from (for the leak check)."""
    with (path / DATASET_FILE).open(encoding="utf-8") as lines:
        return [Example(**json.loads(line)) for line in lines]
