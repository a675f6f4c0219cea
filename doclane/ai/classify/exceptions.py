"""Errors of the document classifier."""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = ["ClassifierUnavailable"]


class ClassifierUnavailable(DoclaneError):
    """No trained classifier in the models directory, and none could be built here."""

    category = "model_unavailable"
    retryable = False
