"""Training as named steps: data -> convert -> fit candidates -> select (development set) ->
sharpen (out-of-fold hand-written documents) -> threshold (development set) -> artefact.

The artefact directory is ``models_dir / f"classify-{hash}"``, the hash covering the
training data, the training code, the feature code, the readers that turn files into
text, and the versions of the libraries that shape the result. ``build`` is a no-op when
that directory exists; it writes into a temporary directory and renames it into place, so
processes that race to build never see half an artefact.
"""

from __future__ import annotations

import json
import random
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
from doclane.ai.classify.linear import MANIFEST_FILE, MODEL_FILE, sharpen
from models._artefacts import ROOT, named, publish
from models._artefacts import fingerprint as fingerprint_of
from models.classify.generate import generated_docs
from models.classify.metrics import apply_threshold, choose_threshold, expected_calibration_error, scores
from models.classify.sources import SourceDoc, document_text, read_source_dir

__all__ = ["CANDIDATES", "CLASSES", "DEV", "Example", "artefact_dir", "build", "convert", "dev_docs",
           "fingerprint", "make_model", "training_docs"]

HERE = Path(__file__).resolve().parent
HANDWRITTEN = HERE / "data" / "handwritten"
#: The development set: hand-written apart from the training and held-out documents; it
#: chooses the candidate and the ``other`` threshold, so it is part of the artefact's hash.
DEV = HERE / "dev"
#: Folds of the out-of-fold predictions on the hand-written training documents that set
#: the probability exponent (see :func:`sharpening`).
SHARPEN_FOLDS = 5
SHARPEN_GRID = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
SEED = 20240607
PER_CLASS = 70
DATASET_FILE = "dataset.jsonl"
CLASSES = ["contract", "invoice", "job_description", "letter", "other", "paper", "presentation", "report",
           "resume"]
#: Candidates compared on the development set; the first is the uncalibrated reference.
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
    return fingerprint_of(f"per_class={per_class};seed={SEED}",
                          named([*_CODE, *sorted(HANDWRITTEN.glob("*.txt")), *sorted(DEV.glob("*.txt"))]),
                          _LIBRARIES, length=16)


def artefact_dir(models_dir: Path, per_class: int = PER_CLASS) -> Path:
    return Path(models_dir) / f"classify-{fingerprint(per_class)}"


def training_docs(per_class: int = PER_CLASS) -> list[SourceDoc]:
    """Step *data*: the generated documents and the hand-written training documents."""
    return generated_docs(per_class, SEED) + read_source_dir(HANDWRITTEN)


def dev_docs() -> list[SourceDoc]:
    """The development set (never trained on; it chooses the model and the threshold)."""
    return read_source_dir(DEV)


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


def sharpening(name: str, examples: list[Example]) -> tuple[float, dict[str, float]]:
    """Step *sharpen*: the exponent (``SHARPEN_GRID``) with the lowest log loss on out-of-fold
    predictions for the hand-written training documents, each fold's model fitted on all the
    generated documents and the other folds. The temperature that ``CalibratedClassifierCV``
    fits on folds of mostly generated documents leaves real documents' scores too flat; the
    hand-written ones are the nearest thing to real documents the training data has."""
    generated = [e for e in examples if e.id.startswith("gen-")]
    written = [e for e in examples if not e.id.startswith("gen-")]
    rng = random.Random(SEED)  # noqa: S311 - a reproducible split, not secrets
    order = list(range(len(written)))
    rng.shuffle(order)
    proba = np.zeros((len(written), len(CLASSES)))
    for fold in range(SHARPEN_FOLDS):
        held = [i for k, i in enumerate(order) if k % SHARPEN_FOLDS == fold]
        fit = generated + [written[i] for k, i in enumerate(order) if k % SHARPEN_FOLDS != fold]
        model = make_model(name).fit([e.prepared for e in fit], [e.label for e in fit])
        classes = [str(c) for c in model.classes_]
        p = model.predict_proba([written[i].prepared for i in held])
        proba[held] = p[:, [classes.index(c) for c in CLASSES]]
    labels = [e.label for e in written]
    losses = {str(a): float(log_loss(labels, sharpen(proba, a), labels=CLASSES)) for a in SHARPEN_GRID}
    best = min(SHARPEN_GRID, key=lambda a: (round(losses[str(a)], 6), abs(a - 1.0)))
    return float(best), losses


def select(examples: list[Example], dev: list[Example]) -> tuple[dict[str, dict[str, Any]], str, Any]:
    """Step *select*: every candidate fitted on all the training documents and scored on the
    development set; the best macro-F1 wins (lower ECE breaks ties). Returns the scores, the
    winner's name and its fitted model (the final model: it saw every training document)."""
    y_dev = [e.label for e in dev]
    results: dict[str, dict[str, Any]] = {}
    fitted: dict[str, Any] = {}
    for name in CANDIDATES:
        started = time.perf_counter()
        model = make_model(name).fit([e.prepared for e in examples], [e.label for e in examples])
        proba = model.predict_proba([e.prepared for e in dev])
        classes = [str(c) for c in model.classes_]
        predicted = [classes[i] for i in proba.argmax(axis=1)]
        s = scores(y_dev, predicted, classes)
        results[name] = {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"],
                         "ece": expected_calibration_error(proba, y_dev, classes),
                         "log_loss": float(log_loss(y_dev, proba, labels=classes)),
                         "fit_s": round(time.perf_counter() - started, 2)}
        fitted[name] = model
    # Calibrated candidates only: the uncalibrated LR is the "before calibration" reference.
    chosen = max(CANDIDATES[1:], key=lambda n: (round(results[n]["macro_f1"], 4), -results[n]["ece"]))
    return results, chosen, fitted[chosen]


def build(models_dir: Path, *, per_class: int = PER_CLASS, force: bool = False) -> Path:
    """Train the classifier into ``artefact_dir(models_dir)`` unless it is already there."""
    target = artefact_dir(models_dir, per_class)
    if (target / MODEL_FILE).is_file() and not force:
        return target
    started = time.perf_counter()
    examples = convert(training_docs(per_class))
    dev = convert(dev_docs())
    converted_s = time.perf_counter() - started
    selection, chosen, model = select(examples, dev)
    exponent, sharpen_losses = sharpening(chosen, examples)
    classes = [str(c) for c in model.classes_]
    dev_proba = sharpen(model.predict_proba([e.prepared for e in dev]), exponent)
    y_dev = [e.label for e in dev]
    # Step *threshold*: below it the label is ``other``; chosen on the development set.
    threshold = choose_threshold(dev_proba, y_dev, classes)
    dev_scores = scores(y_dev, apply_threshold(dev_proba, classes, threshold), classes)
    selection[chosen]["thresholded"] = dev_scores["accuracy"]
    counts = {c: sum(e.label == c for e in examples) for c in CLASSES}
    manifest = {
        "version": f"doctype-tfidf-{chosen}@2", "hash": target.name.removeprefix("classify-"),
        "model": chosen, "threshold": threshold, "sharpen": exponent, "sharpen_log_loss": sharpen_losses,
        "classes": classes, "training_documents": len(examples), "dev_documents": len(dev),
        "dev": {"accuracy": dev_scores["accuracy"], "macro_f1": dev_scores["macro_f1"],
                "ece": expected_calibration_error(dev_proba, y_dev, classes)},
        "label_counts": counts, "selection": selection,
        "libraries": {lib: metadata.version(lib) for lib in _LIBRARIES},
        "convert_s": round(converted_s, 1), "build_s": round(time.perf_counter() - started, 1),
    }

    def write(folder: Path) -> None:
        joblib.dump(model, folder / MODEL_FILE)
        with (folder / DATASET_FILE).open("w", encoding="utf-8") as out:
            for e in examples:
                out.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    return publish(target, write, force=force)


def load_dataset(path: Path) -> list[Example]:
    """The training examples an artefact was built from (for the leak check)."""
    with (path / DATASET_FILE).open(encoding="utf-8") as lines:
        return [Example(**json.loads(line)) for line in lines]
