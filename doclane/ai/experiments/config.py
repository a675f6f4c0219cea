"""``DOCLANE_EXPERIMENTS``: the experiments a deployment runs, read and checked once at start.

The value is a JSON list, or the path of a ``.json`` / ``.yaml`` file holding one::

    [{"name": "ner-rules", "component": "ner", "control": "spacy+rules",
      "candidate": "rules", "share": 0.5, "mode": "split"}]

Every mistake is refused with one sentence that says what to fix, so a service with a
bad configuration does not start at all (it never runs half of an experiment).

Versions by component (all of them exist offline):

* ``classifier``: ``trained`` (the model ``make models`` built, at its own threshold),
  ``trained-lr`` (a logistic regression on the same features and training documents, built
  once at start from the trained model's dataset), either with ``@threshold=0.70`` (below
  0.70 the label is ``other``).
* ``ner``: ``spacy+rules`` (the trained spaCy model with the rules) or ``rules`` (rules only:
  emails, phones, amounts, dates).
* ``embeddings``: ``minilm-l6-v2`` or ``wordllama-l2``; shadow mode only, with the
  configured model as the control (the search index holds one model's vectors).
* ``analysis``: a provider, ``local``, ``mock`` or ``openai`` (with a key or a server),
  optionally with a prompt version: ``mock/v1``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from doclane.schemas.experiments import Component, ExperimentConfig, ExperimentMode

if TYPE_CHECKING:
    from doclane.infra.settings import Settings

__all__ = ["ENV", "THRESHOLD_VERSION", "parse_experiments", "read_experiments"]

ENV = "DOCLANE_EXPERIMENTS"
#: ``trained`` or ``trained-lr``, optionally ``@threshold=<0..1>``.
THRESHOLD_VERSION = re.compile(
    r"^trained(?P<lr>-lr)?(?:@threshold=(?P<t>0(?:\.\d{1,4})?|1(?:\.0{1,4})?))?$")
_NER_VERSIONS = ("spacy+rules", "rules")
_EMBEDDING_VERSIONS = ("minilm-l6-v2", "wordllama-l2")
_ANALYSIS_PROVIDERS = ("local", "mock", "openai")
_CONFIGS = TypeAdapter(list[ExperimentConfig])


def read_experiments(raw: str) -> list[dict[str, Any]]:
    """The list ``raw`` holds, or names the file of (JSON, or YAML when PyYAML is installed)."""
    text = raw.strip()
    if not text.startswith("["):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValueError(f"{ENV}: no file {text!r}; give a JSON list or the path of a .json/.yaml file")
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as exc:
                raise ValueError(f"{ENV}: {path.name} is YAML but PyYAML is not installed; "
                                 "write the file as JSON") from exc
            try:
                loaded = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ValueError(f"{ENV}: {path.name} is not valid YAML ({exc})") from exc
            return _as_list(loaded)
    try:
        return _as_list(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{ENV}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc


def _as_list(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{ENV}: must be a list of objects, one per experiment")
    return value


def parse_experiments(raw: str | None, settings: Settings) -> list[ExperimentConfig]:
    """The experiments ``raw`` declares, checked against ``settings``; ``ValueError`` says what to fix."""
    if raw is None or not raw.strip():
        return []
    items = read_experiments(raw)
    try:
        configs = _CONFIGS.validate_python(items)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        where = ".".join(str(p) for p in (loc[1:] if loc and isinstance(loc[0], int) else loc))
        name = _name_at(items, first["loc"])
        raise ValueError(f"{ENV}: experiment {name}field {where!r}: {first['msg']}") from None
    seen: dict[str, str] = {}
    for config in configs:
        if config.name in seen.values():
            raise ValueError(f"{ENV}: two experiments are named {config.name!r}; names must be unique")
        if config.component.value in seen:
            raise ValueError(
                f"{ENV}: experiments {seen[config.component.value]!r} and {config.name!r} both test the "
                f"{config.component.value}; run one experiment per component at a time")
        seen[config.component.value] = config.name
        _check_versions(config, settings)
    return configs


def _name_at(items: list[dict[str, Any]], loc: tuple[int | str, ...]) -> str:
    if loc and isinstance(loc[0], int) and loc[0] < len(items):
        name = items[loc[0]].get("name")
        return f"{name!r} " if isinstance(name, str) else f"#{loc[0] + 1} "
    return ""


def _check_versions(config: ExperimentConfig, settings: Settings) -> None:
    prefix = f"{ENV}: experiment {config.name!r}"
    if config.control == config.candidate:
        raise ValueError(f"{prefix}: control and candidate are both {config.control!r}; "
                         "the candidate must be another version")
    for version in (config.control, config.candidate):
        problem = _version_problem(config.component, version, settings)
        if problem:
            raise ValueError(f"{prefix}: {problem}")
    if config.component is Component.EMBEDDINGS:
        if config.mode is not ExperimentMode.SHADOW:
            raise ValueError(f"{prefix}: embeddings can only be compared in shadow mode (the search index "
                             "holds one model's vectors); set \"mode\": \"shadow\"")
        configured = configured_embeddings(settings)
        if config.control != configured:
            raise ValueError(f"{prefix}: the control must be the embeddings the index is built with, "
                             f"{configured!r} (DOCLANE_EMBEDDINGS_LOCAL_MODEL)")


def configured_embeddings(settings: Settings) -> str:
    """The configured embeddings as an experiment names them."""
    from doclane.ai.embeddings import embeddings_kind

    return "openai" if embeddings_kind(settings) == "openai" else settings.embeddings_local_model


def _version_problem(component: Component, version: str, settings: Settings) -> str | None:
    if component is Component.CLASSIFIER:
        if THRESHOLD_VERSION.match(version) is None:
            return (f"unknown classifier version {version!r}; use 'trained' or 'trained-lr', "
                    "optionally with '@threshold=0.70' (a threshold between 0 and 1)")
    elif component is Component.NER:
        if version not in _NER_VERSIONS:
            return f"unknown NER version {version!r}; use one of {', '.join(_NER_VERSIONS)}"
    elif component is Component.EMBEDDINGS:
        if version not in (*_EMBEDDING_VERSIONS, configured_embeddings(settings)):
            return f"unknown embeddings {version!r}; use one of {', '.join(_EMBEDDING_VERSIONS)}"
    else:
        from doclane.ai.prompts import available_versions

        provider, _, prompts = version.partition("/")
        if provider not in _ANALYSIS_PROVIDERS:
            return (f"unknown analysis version {version!r}; use a provider "
                    f"({', '.join(_ANALYSIS_PROVIDERS)}), optionally with a prompt version: 'mock/v1'")
        if prompts and prompts not in available_versions():
            return (f"no prompts of version {prompts!r} in {version!r}; "
                    f"available: {', '.join(available_versions())}")
        if provider == "openai" and settings.openai_api_key is None and settings.ai_base_url is None:
            return f"{version!r} needs OPENAI_API_KEY (or OPENAI_BASE_URL) to be set"
    return None
