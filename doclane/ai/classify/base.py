"""The document classifier interface (scikit-learn's estimator habits: fit elsewhere, predict here)."""

from __future__ import annotations

from typing import Protocol

from doclane.schemas.enrichment import Classification

__all__ = ["DocumentClassifier"]


class DocumentClassifier(Protocol):
    #: Model name and version, recorded on every result and in metrics.
    version: str

    def classify(self, text: str, *, filename: str | None = None,
                 content_type: str | None = None) -> Classification:
        """The document's type from its text (the first ~20,000 characters are enough).

        Pure CPU work, synchronous: the pipeline runs it in its process pool.
        """
