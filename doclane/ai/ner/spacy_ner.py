"""doclane's entity extractor: the project's fine-tuned spaCy NER plus rules.

The model (``models/ner/train.py``) finds people, organisations, places, dates,
amounts, skills and job titles; the rules in :mod:`doclane.ai.ner._rules` find
emails, phone numbers, amounts with a currency and full dates, and win over any
model span they overlap. Every mention gets a normalised value
(:mod:`doclane.ai.ner._normalise`).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from doclane.ai.ner._normalise import normalise
from doclane.ai.ner._rules import find_rule_spans
from doclane.schemas.enrichment import Entity, EntityLabel

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["MODEL_LABELS", "SpacyEntityExtractor"]

#: The spaCy model's labels → doclane's. Labels not here (CARDINAL, NORP, ...) are dropped.
MODEL_LABELS = {
    "PERSON": EntityLabel.PERSON, "ORG": EntityLabel.ORG, "GPE": EntityLabel.LOCATION,
    "LOC": EntityLabel.LOCATION, "FAC": EntityLabel.LOCATION, "DATE": EntityLabel.DATE,
    "MONEY": EntityLabel.MONEY, "SKILL": EntityLabel.SKILL, "JOB_TITLE": EntityLabel.JOB_TITLE,
}
# What a reader does not count as part of the mention: "Dr." before a name, "the"
# before a place, "'s" after an organisation.
_LEADING = {
    EntityLabel.PERSON: re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Mx|Prof|Professor|Sir|Dame)\.?\s+)+"),
    EntityLabel.LOCATION: re.compile(r"^the\s+", re.I),
    EntityLabel.ORG: re.compile(r"^the\s+", re.I),
}
_TRAILING = re.compile(r"(?:'s|’s|[\s,;:.!?)\]])+$")
# A duration is not a date: "three years", "30 days" (the base model calls them DATE).
_DURATION = re.compile(
    r"^(?:\d+\+?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"several|few|a few)\s+(?:(?:more|full|calendar|business|working)\s+)?"
    r"(?:days?|weeks?|months?|years?|quarters?|hours?)(?:'|’)?$",
    re.I,
)
#: Texts longer than this are cut into pieces at line breaks before the model reads them
#: (spaCy's own limit is far higher; this bounds memory per call).
_MAX_PIECE_CHARS = 100_000


class SpacyEntityExtractor:
    """Entities of a text: the fine-tuned spaCy NER plus rules; cheap to call, thread-safe.

    Build it once per process (:func:`doclane.ai.ner.load_extractor` caches it): loading
    takes about a second, a call a few milliseconds per sentence.
    """

    version = "ner-spacy-sm@1"

    def __init__(self, model_dir: Path) -> None:
        import spacy

        self.model_dir = model_dir
        self._nlp: Language = spacy.load(model_dir)
        # spaCy pipelines are not documented as thread-safe; one call at a time per
        # process costs nothing extra, since the work holds the GIL anyway.
        self._lock = threading.Lock()

    def _model_spans(self, text: str) -> list[tuple[int, int, EntityLabel]]:
        with self._lock:
            doc = self._nlp(text)
        spans = []
        for ent in doc.ents:
            label = MODEL_LABELS.get(ent.label_)
            if label is None:
                continue
            start, end = ent.start_char, ent.end_char
            lead = _LEADING.get(label)
            if lead is not None:
                m = lead.match(text[start:end])
                if m is not None:
                    start += m.end()
            trail = _TRAILING.search(text[start:end])
            if trail is not None:
                end = start + trail.start()
            if end <= start:
                continue
            if label is EntityLabel.DATE and _DURATION.match(text[start:end]):
                continue
            spans.append((start, end, label))
        return spans

    def extract(self, text: str) -> list[Entity]:
        """Entities of ``text`` with offsets into it, sorted by ``start``, not overlapping."""
        rules = [(s.start, s.end, s.label) for s in find_rule_spans(text)]
        model: list[tuple[int, int, EntityLabel]] = []
        offset = 0
        for piece in _pieces(text):
            model.extend((s + offset, e + offset, label) for s, e, label in self._model_spans(piece))
            offset += len(piece)
        kept = list(rules)
        for start, end, label in model:
            if all(end <= s or start >= e for s, e, _ in rules):
                kept.append((start, end, label))
        kept.sort()
        return [
            Entity(label=label, text=text[start:end], value=normalise(label, text[start:end]),
                   start=start, end=end)
            for start, end, label in kept
        ]


def _pieces(text: str) -> list[str]:
    """``text`` cut at line breaks into pieces of at most ``_MAX_PIECE_CHARS`` (joined, they are ``text``)."""
    if len(text) <= _MAX_PIECE_CHARS:
        return [text]
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + _MAX_PIECE_CHARS)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        pieces.append(text[start:end])
        start = end
    return pieces
