"""A skill lexicon looked up in the text: the recall fallback behind the statistical model.

The fine-tuned model finds skills it has seen in similar contexts; a curated lexicon
(``models/ner/lexicon/skills.txt`` and ``skill_matcher.txt``, copied into the artefact as
``skill_lexicon.txt`` at build time) finds the ones it misses. Entries of several words
and lower-case words match in any case (*Project Management*, *project management*);
single words with a capital match as written (*Python*, *AWS*), and in lower case too
when they are long enough not to be ordinary words (*pytorch*).

Entries marked ``?`` are also ordinary words, companies or nationalities (*Go*, *R*,
*Excel*, *Spark*, *German*, *teamwork*): they count only in a skill context — listed next
to another skill (``,``, ``and``, ``or``, ``/``), after a cue on the same line (*Skills:*,
*experience with*, *proficient in*, a resume verb such as *built* or *migrated*, a list
bullet), or right after *in*/*with*/*using*. The extractor applies the same test to every
lexicon match it adds on its own: the guideline counts a skill only where a person has it
or a job requires it, not a tool named as a thing (*the Tableau dashboard*).

How a match and the model's spans combine is decided in
:meth:`doclane.ai.ner.spacy_ner.SpacyEntityExtractor.extract`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

__all__ = ["SkillMatch", "SkillMatcher", "in_skill_context"]

# No letter, digit or joining character may continue a match on either side.
_LEFT = r"(?<![\w@#+.&/-])"
_RIGHT = r"(?![\w+#@&]|[./-]\w)"
_CUE = re.compile(
    r"(?:skills?|competenc(?:y|ies)|proficien(?:t|cy)|experience[ds]?|expertise|knowledge|familiar(?:ity)?|"
    r"tools?|stack|technolog(?:y|ies)|languages?|fluent|certifi(?:ed|cation)|background|hands-on|"
    r"nice to have|must have|requirements?|qualifications?|speaks?|trained|frameworks?|platforms?|"
    # what a person did with it, as resume lines say it
    r"built|rebuilt|introduced|implemented|developed|designed|deployed|automated|migrated|maintained|"
    r"wrote|rewrote|used|led|configured|administered)"
    r"\b[^.;\n]*$|^\s*[-•*·]\s",
    re.I,
)
_JUST_BEFORE = re.compile(r"(?:\bin|\bwith|\busing|\bof|\bknows?|\blearning|:)\s*$", re.I)
#: A list bullet opening the line (either cue regex's "^" alternative).
_BULLET_LINE = re.compile(r"\s*[-•*·](?:\s|$)")
#: Characters before a mention that ``_JUST_BEFORE`` reads ("learning" and the spaces after it).
_NEAR = 40
_LIST_SEP = re.compile(r"\s*(?:[,;/&]|,?\s*\b(?:and|or|plus)\b|[()])\s*", re.I)
_MIN_LOWERCASE_VARIANT = 4


@dataclass(frozen=True)
class SkillMatch:
    start: int
    end: int
    #: The entry needs context (``?`` in the lexicon).
    ambiguous: bool
    #: Unambiguous, or ambiguous in a skill context: a skill on the lexicon's word alone.
    confirmed: bool = True


class SkillMatcher:
    """Longest, non-overlapping lexicon matches in a text, with the context rules above."""

    def __init__(self, lines: Iterable[str]) -> None:
        entries: dict[str, bool] = {}
        for raw in lines:
            line = raw.strip()
            if line and not line.startswith("#"):
                term = line.lstrip("?").strip()
                entries[term] = entries.get(term, False) or line.startswith("?")
        sensitive, insensitive = [], []
        for term, ambiguous in entries.items():
            if " " in term or term == term.lower():
                insensitive.append(term)
            else:
                sensitive.append(term)
                if not ambiguous and len(term) >= _MIN_LOWERCASE_VARIANT and term.isalpha():
                    insensitive.append(term.lower())
        self._ambiguous_exact = {t for t, a in entries.items() if a}
        self._ambiguous_lower = {t.lower() for t, a in entries.items() if a and (" " in t or t == t.lower())}
        self._sensitive = _compile(sensitive, 0)
        self._insensitive = _compile(insensitive, re.I)

    def _is_ambiguous(self, mention: str) -> bool:
        mention = re.sub(r"\s+", " ", mention)
        return mention in self._ambiguous_exact or mention.lower() in self._ambiguous_lower

    def _raw(self, text: str) -> list[SkillMatch]:
        found = []
        for pattern in (self._sensitive, self._insensitive):
            if pattern is not None:
                found += [SkillMatch(m.start(), m.end(), self._is_ambiguous(m.group(0)),
                                     not self._is_ambiguous(m.group(0)))
                          for m in pattern.finditer(text)]
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        kept: list[SkillMatch] = []
        for match in found:
            if not kept or match.start >= kept[-1].end:
                kept.append(match)
        return kept

    def find(self, text: str, known: Iterable[tuple[int, int]] = ()) -> list[SkillMatch]:
        """Confirmed matches in ``text``; ``known`` are skill spans found otherwise (the model's),
        as list context."""
        return [m for m in self.find_all(text, known) if m.confirmed]

    def find_all(self, text: str, known: Iterable[tuple[int, int]] = ()) -> list[SkillMatch]:
        """Every match, ambiguous ones out of context too (``confirmed=False``)."""
        matches = self._raw(text)
        anchors = sorted({(m.start, m.end) for m in matches if not m.ambiguous} | set(known))
        return [m if m.confirmed or not _in_context(text, m, anchors) else replace(m, confirmed=True)
                for m in matches]


def _compile(terms: list[str], flags: int) -> re.Pattern[str] | None:
    if not terms:
        return None
    ordered = sorted(set(terms), key=len, reverse=True)
    alternatives = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in ordered)
    return re.compile(f"{_LEFT}(?:{alternatives}){_RIGHT}", flags)


def in_skill_context(text: str, start: int, end: int, anchors: Iterable[tuple[int, int]]) -> bool:
    """Whether ``text[start:end]`` stands where skills do: after a cue on its line, or next to
    one of the ``anchors`` (other skills' spans) across a list separator."""
    return _in_context(text, SkillMatch(start, end, True, False), sorted(anchors))


def _in_context(text: str, match: SkillMatch, anchors: list[tuple[int, int]]) -> bool:
    """A cue before it on its line, or a neighbouring skill across a list separator."""
    line_start = text.rfind("\n", 0, match.start) + 1
    before = text[line_start:match.start]
    # A cue counts only after the line's last full stop or semicolon (``[^.;\n]*$``): searching
    # from there gives the same answer without rescanning a long line for every mention (a
    # page-long line without breaks made this the slowest step of extraction).
    clause = max(before.rfind("."), before.rfind(";")) + 1
    if (_BULLET_LINE.match(before) or _JUST_BEFORE.search(before, max(0, len(before) - _NEAR))
            or _CUE.search(before, clause)):
        return True
    for start, end in anchors:
        between = text[end:match.start] if end <= match.start else text[match.end:start]
        if (end <= match.start or start >= match.end) and _LIST_SEP.fullmatch(between):
            return True
    return False
