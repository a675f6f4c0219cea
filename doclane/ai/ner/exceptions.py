"""Errors of the NER extractor."""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = ["NerModelMissing"]


class NerModelMissing(DoclaneError):
    """The trained NER model is not in the models directory: it is built by ``make models``."""

    category = "ner_model_missing"
    retryable = False

    def __init__(self, path: str) -> None:
        super().__init__(
            f"The NER model is not built: {path} does not exist. Run `make models` "
            "(or `python -m models.ner.train`) with the same DOCLANE_MODELS_DIR first."
        )
        self.path = path
