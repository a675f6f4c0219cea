"""Named entities: the :class:`EntityExtractor` interface and doclane's trained extractor.

:func:`load_extractor` returns the process's extractor for the current training
inputs, loaded once per process and cached: call it in each worker (a spawned
process-pool worker included) rather than pickling an extractor across. The model
is built ahead of time by ``make models`` (``python -m models.ner.train``); when it
is missing, :class:`NerModelMissing` says so instead of training at run time, since
a build costs a minute or two of both cores and would stall the stage that found it
missing (and race with sibling processes doing the same).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from doclane.ai.ner.base import EntityExtractor
from doclane.ai.ner.exceptions import NerModelMissing

if TYPE_CHECKING:
    from doclane.infra.settings import Settings
    from doclane.schemas.enrichment import Entity

__all__ = ["EntityExtractor", "NerModelMissing", "extract_entities", "load_extractor", "model_path"]


def model_path(models_dir: Path) -> Path:
    """Where the model of the current training inputs lives (``models_dir/ner-<hash>``)."""
    from doclane.ai.ner._artefact import artefact_dir

    return artefact_dir(models_dir)


@cache
def _load(models_dir: Path) -> EntityExtractor:
    from doclane.ai.ner.spacy_ner import SpacyEntityExtractor

    path = model_path(models_dir)
    if not (path / "meta.json").is_file():
        raise NerModelMissing(str(path))
    return SpacyEntityExtractor(path)


def load_extractor(settings: Settings) -> EntityExtractor:
    """The process's entity extractor (loaded on first call, about a second; cached after).

    Raises :class:`NerModelMissing` when ``make models`` has not built the model
    into ``settings.models_dir``.
    """
    return _load(settings.models_dir)


def extract_entities(text: str, models_dir: Path) -> list[Entity]:
    """``load_extractor(...).extract(text)`` as a plain function of picklable arguments.

    For ``loop.run_in_executor(process_pool, extract_entities, text, models_dir)``:
    each worker process loads the model on its first call and keeps it.
    """
    return _load(models_dir).extract(text)
