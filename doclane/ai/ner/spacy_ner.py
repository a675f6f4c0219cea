"""doclane's entity extractor: the project's fine-tuned spaCy NER plus rules.

The model (``models/ner/train.py``) finds people, organisations, places, dates,
amounts, skills and job titles; the rules in :mod:`doclane.ai.ner._rules` find
emails, phone numbers, amounts with a currency and full dates, and win over any
model span they overlap. The skill lexicon shipped in the artefact
(:mod:`doclane.ai.ner._skills`) adds the skills the model missed: a lexicon match
is kept where no model span overlaps it, replaces a shorter model skill inside it
(*SAP* in *SAP FICO*) or a longer model skill that only adds plain lower-case words
(*Kubernetes security*, *little Spark*: then an ambiguous word needs no context, the
model supplied it), and relabels a model span of exactly its extent that the
model called a place, person or organisation (an unambiguous entry only: *Revit*,
*Databricks*); otherwise the model's span stands. A model skill outside the lexicon
is kept only where skills stand (after a cue, or in a list next to another skill).
Every mention gets a normalised value (:mod:`doclane.ai.ner._normalise`).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from doclane.ai.ner._normalise import normalise
from doclane.ai.ner._rules import find_rule_spans
from doclane.ai.ner._skills import SkillMatcher, in_skill_context
from doclane.schemas.enrichment import Entity, EntityLabel

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["MODEL_LABELS", "SKILL_LEXICON", "SpacyEntityExtractor"]

#: The skill lexicon's file name inside the artefact (written by ``models/ner/train.py``).
SKILL_LEXICON = "skill_lexicon.txt"

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
    # "between March", "since 2016": the preposition is not part of the date.
    EntityLabel.DATE: re.compile(r"^(?:between|from|since|until|till|by|during|before|after)\s+", re.I),
}
# A list bullet before a mention ("- Linux systems programming") is not part of it.
_BULLET = re.compile(r"^[-•*·–—]\s+")
_TRAILING = re.compile(r"(?:'s|’s|[\s,;:.!?)\]])+$")
# ... but the full stop of a legal suffix is part of the name ("Acme Inc.", "Rossi S.r.l.").
_ABBREVIATED_SUFFIX = re.compile(
    r"(?:\b(?:Inc|Corp|Co|Ltd|Bros|Pty|Intl)|\b(?:[A-Za-z]\.){1,3}[A-Za-z]{1,3})$")
# An amount is money only with its currency (the base model calls "10 million" MONEY).
_CURRENCY = re.compile(
    r"[$€£¥₹]|\b[A-Z]{3}\b|(?i:\b(?:dollars?|euros?|pounds?|yen|francs?|rupees?|sterling|cents?)\b)")
# A duration is not a date: "three years", "30 days" (the base model calls them DATE).
_DURATION = re.compile(
    r"^(?:\d+\+?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"several|few|a few)\s+(?:(?:more|full|calendar|business|working)\s+)?"
    r"(?:days?|weeks?|months?|years?|quarters?|hours?)(?:'|’)?$",
    re.I,
)
# A time of day is not a date: "10:00", "2 pm"; after a date it is cut off ("Wednesday, 2 pm").
_TIME = re.compile(
    r"(?:,?\s*(?:at\s+)?)?\b\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)$|(?:,?\s*(?:at\s+)?)?\b\d{1,2}:\d{2}$", re.I)
# A range is two dates ("January and April 2025", "March 2019 to August 2023", "2016-2022").
_RANGE = re.compile(r"\s+(?:and|to|until|till|through)\s+|\s*[–—]\s*|\s+-\s+|(?<=\b\d{4})-(?=\d{4}\b)")
_DATE_WORD = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|q[1-4]|h[12]|fy)",
    re.I)


def _dates(text: str, start: int, end: int) -> list[tuple[int, int, EntityLabel]]:
    """A model DATE span as the guideline counts dates: without a time of day, not a duration,
    a range as two dates."""
    time = _TIME.search(text[start:end])
    if time is not None:
        end = start + time.start()
    mention = text[start:end]
    if not mention.strip() or _DURATION.match(mention):
        return []
    parts, cursor = [], start
    for sep in _RANGE.finditer(mention):
        parts.append((cursor, start + sep.start()))
        cursor = start + sep.end()
    parts.append((cursor, end))
    if len(parts) > 1 and all(_DATE_WORD.search(text[s:e]) for s, e in parts):
        return [(s, e, EntityLabel.DATE) for s, e in parts if not _DURATION.match(text[s:e])]
    return [(start, end, EntityLabel.DATE)]


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
        lexicon = model_dir / SKILL_LEXICON
        self._skills = (SkillMatcher(lexicon.read_text(encoding="utf-8").splitlines())
                        if lexicon.is_file() else None)
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
            bullet = _BULLET.match(text[start:end])
            if bullet is not None:
                start += bullet.end()
            lead = _LEADING.get(label)
            if lead is not None:
                m = lead.match(text[start:end])
                if m is not None:
                    start += m.end()
            trail = _TRAILING.search(text[start:end])
            if trail is not None:
                end = start + trail.start()
                if (label is EntityLabel.ORG and text[end:end + 1] == "."
                        and _ABBREVIATED_SUFFIX.search(text[start:end])):
                    end += 1
            if end <= start:
                continue
            if label is EntityLabel.MONEY and not _CURRENCY.search(text[start:end]):
                continue
            if label is EntityLabel.DATE:
                spans.extend(_dates(text, start, end))
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
        if self._skills is not None:
            model = _with_lexicon(self._skills, text, model)
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




def _with_lexicon(skills: SkillMatcher, text: str,
                  model: list[tuple[int, int, EntityLabel]]) -> list[tuple[int, int, EntityLabel]]:
    """The model's spans with the skill lexicon's matches merged in (rules in the module docstring)."""
    known = [(s, e) for s, e, label in model if label is EntityLabel.SKILL]
    spans = list(model)
    for match in skills.find_all(text, known):
        overlapping = [span for span in spans if span[0] < match.end and match.start < span[1]]
        if not overlapping:
            # Alone, a lexicon word counts only where skills stand (a cue, a list, "in"/"with" before it):
            # "the Tableau dashboard" in a status email names a tool, not something a person has.
            if match.confirmed and in_skill_context(text, match.start, match.end, known):
                spans.append((match.start, match.end, EntityLabel.SKILL))
            continue
        (start, end, label), single = overlapping[0], len(overlapping) == 1
        # "Kubernetes security", "little Spark": the model took a plain word along.
        extra = text[start:match.start] + " " + text[match.end:end]
        trimmed = (single and label is EntityLabel.SKILL and (start, end) != (match.start, match.end)
                   and start <= match.start and end >= match.end
                   and _LOWER_WORDS.fullmatch(extra) is not None)
        inside = all(s >= match.start and e <= match.end for s, e, _ in overlapping)
        skills_inside = inside and all(lab is EntityLabel.SKILL for _, _, lab in overlapping)
        relabel = (not match.ambiguous and single and (start, end) == (match.start, match.end)
                   and label in _LEXICON_OVERRIDES)
        if trimmed or (match.confirmed and (skills_inside or relabel)):
            spans = [span for span in spans if span not in overlapping]
            spans.append((match.start, match.end, EntityLabel.SKILL))
    # A phrase the model calls a skill that the lexicon does not know must at least stand where
    # skills do: after a cue, or in a list next to another skill. Lower case ("local suppliers",
    # "cut p99") as much as capitalised: an unknown name out of such a place is more often a
    # town, a person or an agency the model has not seen ("Valencia", "Yusuf", "UNICEF") than
    # a technology (development set: SKILL precision up, recall unchanged).
    lexicon = {(m.start, m.end) for m in skills.find(text, known)}
    skill_spans = [(s, e) for s, e, label in spans if label is EntityLabel.SKILL]
    kept = []
    for start, end, label in spans:
        if (label is EntityLabel.SKILL and (start, end) not in lexicon
                and not in_skill_context(text, start, end, [a for a in skill_spans if a != (start, end)])):
            continue
        kept.append((start, end, label))
    return kept


_LOWER_WORDS = re.compile(r"\s*(?:[a-z]+\s+)*(?:[a-z]+)?\s*")
#: Labels the model gives skills it does not know (a product name looks like a place or a firm).
_LEXICON_OVERRIDES = {EntityLabel.LOCATION, EntityLabel.PERSON, EntityLabel.ORG, EntityLabel.JOB_TITLE}


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
