"""Scores shared by training (model choice, threshold) and evaluation: accuracy, F1, ECE."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

__all__ = ["apply_threshold", "choose_threshold", "expected_calibration_error", "scores"]


def expected_calibration_error(probabilities: np.ndarray, labels: Sequence[str], classes: Sequence[str],
                               bins: int = 10) -> float:
    """ECE of the top-class confidence: the mean |accuracy - confidence| over equal-width bins,
    weighted by how many predictions fall in each bin."""
    top = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    correct = np.array([classes[t] == y for t, y in zip(top, labels, strict=True)], dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def apply_threshold(probabilities: np.ndarray, classes: Sequence[str], threshold: float) -> list[str]:
    """The top class, or ``other`` when its probability is below ``threshold``."""
    top = probabilities.argmax(axis=1)
    return [classes[t] if probabilities[i, t] >= threshold else "other" for i, t in enumerate(top)]


def choose_threshold(probabilities: np.ndarray, labels: Sequence[str], classes: Sequence[str]) -> float:
    """The threshold with the best macro-F1 on a validation split (the lowest of equals: a
    synthetic validation set is easy, and a higher bar would only push more real documents
    to ``other``). The grid starts at 0.2: with 9 classes a lower top score means no signal."""
    best, best_f1 = 0.2, -1.0
    for threshold in np.round(np.arange(0.2, 0.81, 0.05), 2):
        predicted = apply_threshold(probabilities, classes, float(threshold))
        f1 = f1_score(labels, predicted, average="macro", zero_division=0)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(threshold), float(f1)
    return best


def scores(labels: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> dict[str, object]:
    """Accuracy, macro-F1, per-class precision/recall/support and the confusion matrix."""
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=list(classes), zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, labels=list(classes), average="macro", zero_division=0)),
        "per_class": {c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)},
        "confusion": confusion_matrix(labels, predicted, labels=list(classes)).tolist(),
    }
