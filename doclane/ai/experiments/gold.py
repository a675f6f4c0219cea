"""Gold answers for documents that are items of the evaluation sets, found by content hash.

An experiment's accuracy in production is measured on the documents whose bytes are
those of a held-out item: a classifier document of ``models/classify/heldout``
(rendered as the evaluation renders it, in its own format and as plain text) or a
sentence of the NER gold set (``models/ner/gold/gold.jsonl``, as a text file).

Only the measurement reads this: a gold answer never changes what a document gets,
and nothing here feeds training (the sets stay held out). Without the repository's
``models/`` (an installed package) there is no gold, and accuracy is not reported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from doclane.infra.settings import Settings

__all__ = ["GoldLookup", "entity_f1"]

logger = logging.getLogger(__name__)

_MODELS_ROOT = Path(__file__).resolve().parents[3] / "models"
_HELDOUT = _MODELS_ROOT / "classify" / "heldout"
_NER_GOLD = _MODELS_ROOT / "ner" / "gold" / "gold.jsonl"

EntityKey = tuple[str, str]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entity_f1(found: set[EntityKey], gold: set[EntityKey]) -> float:
    """F1 of the found (label, text) pairs against the gold ones (1.0 when both are empty)."""
    if not found and not gold:
        return 1.0
    hits = len(found & gold)
    if hits == 0:
        return 0.0
    precision, recall = hits / len(found), hits / len(gold)
    return 2 * precision * recall / (precision + recall)


class GoldLookup:
    """Content hash → gold answer, built on first use (a few seconds) and cached on disk."""

    def __init__(self, settings: Settings) -> None:
        self._cache_dir = Path(settings.models_dir)
        self._lock = threading.Lock()
        self._labels: dict[str, str] | None = None
        self._entities: dict[str, set[EntityKey]] | None = None

    def label(self, sha256: str) -> str | None:
        """The document type of the held-out item with these bytes, if it is one."""
        self._load()
        return (self._labels or {}).get(sha256)

    def entities(self, sha256: str) -> set[EntityKey] | None:
        """The gold (label, casefolded text) entities of the gold sentence with these bytes."""
        self._load()
        return (self._entities or {}).get(sha256)

    def _load(self) -> None:
        with self._lock:
            if self._labels is not None:
                return
            try:
                self._labels = self._classifier_gold()
            except Exception:  # measurement only: never fail a document for want of gold
                logger.exception("no gold labels for the classifier experiments")
                self._labels = {}
            self._entities = _ner_gold()

    def _classifier_gold(self) -> dict[str, str]:
        sources = sorted(_HELDOUT.glob("*.txt"))
        if not sources:
            return {}
        digest = hashlib.sha256()
        for path in sources:
            digest.update(path.read_bytes())
        cached = self._cache_dir / f"gold-classify-{digest.hexdigest()[:16]}.json"
        if cached.is_file():
            data: dict[str, str] = json.loads(cached.read_text(encoding="utf-8"))
            return data
        labels = _render_heldout(sources)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(labels), encoding="utf-8")
        except OSError:
            logger.warning("could not cache the gold lookup in %s", cached)
        return labels


def _render_heldout(sources: list[Path]) -> dict[str, str]:
    """sha256 of each held-out document's file, rendered as the evaluation does, → its label."""
    try:
        from models.classify.sources import parse_sources, render
    except ImportError:
        return {}
    from dataclasses import replace

    labels: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for path in sources:
            for doc in parse_sources(path.read_text(encoding="utf-8"), origin=path.name):
                for variant in {doc, replace(doc, format="txt")}:
                    try:
                        labels[_sha(render(variant, directory).read_bytes())] = doc.label
                    except Exception:
                        logger.debug("held-out %s not rendered as %s", doc.id, variant.format)
    return labels


def _ner_gold() -> dict[str, set[EntityKey]]:
    if not _NER_GOLD.is_file():
        return {}
    gold: dict[str, set[EntityKey]] = {}
    for line in _NER_GOLD.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item: dict[str, Any] = json.loads(line)
        text = str(item["text"])
        keys = {(str(label), text[start:end].casefold()) for start, end, label in item["entities"]}
        for variant in (text, text + "\n"):
            gold[_sha(variant.encode())] = keys
    return gold
