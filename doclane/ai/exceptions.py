"""Errors of the analysis providers."""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = ["AnalysisError"]


class AnalysisError(DoclaneError):
    """Analysing a chunk or reducing a document failed.

    ``retryable`` is set per instance: a provider timeout or rate limit is
    worth retrying with backoff, a malformed answer or a bug in the local
    analyzer is not (the same input would fail the same way).
    """

    category = "analysis"

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.retryable = retryable
