"""The alternative versions an experiment can run, and the timed calls the CPU pool makes.

Everything here is picklable and cheap to send to a process-pool worker: a classifier
pickles as its artefact's path, an entity extractor is named by its version and loaded
once per worker.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from doclane.ai.classify.base import DocumentClassifier
from doclane.schemas.enrichment import Classification, DocType, Entity

__all__ = [
    "DEFAULT_NER",
    "RULES_VERSION",
    "ClassifierTrial",
    "NerRun",
    "ThresholdClassifier",
    "classify_trials",
    "build_lr_variant",
    "extract_entities_as",
    "neighbour_agreement",
    "rules_entities",
]

#: The NER version that runs outside experiments: the trained model with the rules.
DEFAULT_NER = "spacy+rules"
#: The version the rules-only extractor records on its entities.
RULES_VERSION = "ner-rules@1"


class ThresholdClassifier:
    """A trained classifier with another confidence threshold: below it the label is ``other``.

    The same model and probabilities, so an experiment measures the threshold alone.
    Picklable: the base classifier pickles as its artefact's path.
    """

    def __init__(self, base: DocumentClassifier, threshold: float) -> None:
        self.base = base
        self.threshold = threshold
        self.version = f"{base.version}+threshold={threshold:g}"

    def classify(self, text: str, *, filename: str | None = None,
                 content_type: str | None = None) -> Classification:
        found = self.base.classify(text, filename=filename, content_type=content_type)
        scores = found.scores or {found.label.value: found.confidence}
        best = max(scores, key=lambda label: (scores[label], label))
        label = best if scores[best] >= self.threshold else DocType.OTHER.value
        return Classification(label=DocType(label), confidence=min(1.0, scores.get(label, 0.0)),
                              version=self.version, scores=scores)


class ClassifierTrial(NamedTuple):
    """One version's answer on a document, how long it took, and whether it failed."""

    name: str
    classification: Classification | None
    latency_ms: float
    error: str | None = None


def classify_trials(arms: list[tuple[str, DocumentClassifier]], text: str, *, filename: str | None,
                    content_type: str | None) -> list[ClassifierTrial]:
    """Each named classifier on the text, in order (the served one first), each timed.

    A failing shadow version is measured as a failure and never takes the document down
    with it; the served version's failure is raised, as it would be without an experiment.
    """
    trials = []
    for i, (name, classifier) in enumerate(arms):
        started = time.perf_counter()
        try:
            found: Classification | None = classifier.classify(text, filename=filename,
                                                               content_type=content_type)
            error = None
        except Exception as exc:
            if i == 0:  # the served version: its failure is the document's, as without experiments
                raise
            found, error = None, f"{exc.__class__.__name__}: {exc}"
        trials.append(ClassifierTrial(name, found, (time.perf_counter() - started) * 1000, error))
    return trials


def rules_entities(text: str) -> list[Entity]:
    """Entities the rules alone find (emails, phones, amounts with a currency, full dates)."""
    from doclane.ai.ner._normalise import normalise
    from doclane.ai.ner._rules import find_rule_spans

    return [
        Entity(label=s.label, text=text[s.start:s.end], value=normalise(s.label, text[s.start:s.end]),
               start=s.start, end=s.end, version=RULES_VERSION)
        for s in sorted(find_rule_spans(text), key=lambda s: s.start)
    ]


class NerRun(NamedTuple):
    """One NER version's entities on a text, the extractor's own version, and the time it took."""

    entities: list[Entity]
    model_version: str
    latency_ms: float


def extract_entities_as(version: str, text: str, models_dir: Path) -> NerRun:
    """One NER version on ``text``, timed, for the CPU pool.

    ``spacy+rules`` is doclane's trained extractor, ``rules`` the rules alone. Each
    entity records the extractor's version.
    """
    started = time.perf_counter()
    if version == "rules":
        found, model_version = rules_entities(text), RULES_VERSION
    else:
        from doclane.ai.ner import extract_entities
        from doclane.ai.ner.spacy_ner import SpacyEntityExtractor

        model_version = SpacyEntityExtractor.version
        found = [e.model_copy(update={"version": model_version}) for e in extract_entities(text, models_dir)]
    return NerRun(found, model_version, (time.perf_counter() - started) * 1000)


def neighbour_agreement(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float | None:
    """How often two embeddings of the same passages pick the same nearest other passage, 0 to 1.

    What search feels: two models that agree on which passages are alike rank alike.
    ``None`` under three passages (with two, each one's nearest is the other, always).
    """
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if len(a) < 3 or len(a) != len(b):
        return None

    def nearest(m: npt.NDArray[np.float32]) -> npt.NDArray[np.intp]:
        sims = m @ m.T
        np.fill_diagonal(sims, -np.inf)
        found: npt.NDArray[np.intp] = np.argmax(sims, axis=1)
        return found

    return float(np.mean(nearest(a) == nearest(b)))


#: The logistic-regression variant's artefact, beside the trained model it is made from. (Not
#: ``classify-*``: an install without the training code loads the newest of those.)
LR_PREFIX = "abtest-lr-"


def build_lr_variant(trained_dir: Path, threshold: float) -> Path:
    """A logistic regression on the trained classifier's own training documents and features.

    A second model family for experiments, cheap to make: the trained artefact keeps its
    converted training set (``dataset.jsonl``), so this is one fit (seconds), done once and
    cached beside it; it has the trained model's threshold for ``other``. Needs the training
    code (``models/classify``, in the repository).
    """
    from doclane.ai.classify.exceptions import ClassifierUnavailable
    from doclane.ai.classify.linear import MANIFEST_FILE, MODEL_FILE

    target = trained_dir.with_name(LR_PREFIX + trained_dir.name)
    if (target / MODEL_FILE).is_file():
        return target
    try:
        from models.classify.pipeline import DATASET_FILE, load_dataset, make_model
    except ImportError as exc:
        raise ClassifierUnavailable(
            "The classifier version 'trained-lr' is built from the training code in the repository "
            "(models/classify), which this install lacks; use 'trained' versions.") from exc
    import json
    import shutil
    import tempfile

    import joblib

    examples = load_dataset(trained_dir) if (trained_dir / DATASET_FILE).is_file() else []
    if not examples:
        raise ClassifierUnavailable(f"No training set in {trained_dir} to build 'trained-lr' from; "
                                    "run `make models`.")
    model = make_model("lr").fit([e.prepared for e in examples], [e.label for e in examples])
    tmp = Path(tempfile.mkdtemp(prefix=".abtest-", dir=trained_dir.parent))
    joblib.dump(model, tmp / MODEL_FILE)
    (tmp / MANIFEST_FILE).write_text(json.dumps({
        "version": "doctype-tfidf-lr@1", "threshold": threshold,
        "classes": [str(c) for c in model.classes_], "made_from": trained_dir.name,
        "training_documents": len(examples),
    }, indent=2), encoding="utf-8")
    try:
        tmp.rename(target)
    except OSError:  # another process built it first: the same fit on the same data
        shutil.rmtree(tmp, ignore_errors=True)
    return target
