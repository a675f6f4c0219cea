"""Deadline expressions: "by Friday", "due 2024-05-01", "by end of Q3", "within 30 days"."""

from __future__ import annotations

import re

__all__ = ["find_deadline"]

_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_PERIOD = r"(?:day|week|month|quarter|year|sprint|business\s+day|fiscal\s+year)"
_COUNT = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|"
    r"fifteen|twenty|thirty|forty-five|sixty|ninety|a\s+few|a\s+couple\s+of)"
)
_UNIT = r"(?:business\s+|working\s+|calendar\s+)?(?:hours?|days?|weeks?|months?|years?)"
_DATE = "|".join(
    (
        r"\d{4}-\d{1,2}-\d{1,2}",
        r"\d{1,2}/\d{1,2}(?:/\d{2,4})?",
        rf"{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?",
        rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?",
        rf"(?:(?:next|this|the\s+coming|coming)\s+)?{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|noon|eod))?",
        rf"(?:the\s+)?(?:end|close|start|beginning|middle)\s+of\s+(?:the\s+)?"
        rf"(?:(?:next|this|current)\s+)?(?:{_PERIOD}|q[1-4](?:\s+\d{{4}})?|{_MONTH}(?:\s+\d{{4}})?|\d{{4}})",
        r"(?:eod|eow|eom|eoy|cob|close\s+of\s+business)",
        r"q[1-4](?:\s+\d{4})?",
        rf"(?:next|this)\s+{_PERIOD}",
        r"tomorrow(?:\s+(?:morning|afternoon|evening))?|tonight|today|noon|midnight",
        rf"(?:early|mid|late)[-\s]{_MONTH}",
        rf"{_MONTH}(?:\s+\d{{4}})?",
    )
)
_STRIP_PREFIX = re.compile(
    r"^(?:by|due(?:\s+(?:on|by))?|on|deadline(?:\s+is)?:?)\s+", re.IGNORECASE
)
_DEADLINE_RE = re.compile(
    r"\b(?:"
    r"(?:by|before|until|till|no\s+later\s+than|not\s+later\s+than|due(?:\s+(?:on|by))?|"
    rf"deadline(?:\s+is)?:?|on)\s+(?:{_DATE})"
    rf"|within\s+(?:the\s+next\s+)?{_COUNT}(?:\s*\(\d+\))?\s+{_UNIT}(?:\s+of\s+[\w\s]{{3,30}}?(?=[.,;]|$))?"
    rf"|in\s+(?:the\s+next\s+)?{_COUNT}(?:\s*\(\d+\))?\s+{_UNIT}"
    rf"|tomorrow|tonight|(?:next|this)\s+(?:week|month|quarter|{_WEEKDAY})|eod|eow|cob|asap"
    r")\b",
    re.IGNORECASE,
)
# "on" and a bare month are too ambiguous on their own: "on time", "in May we grew".
_BAD = re.compile(rf"^on\s+(?:(?:the\s+)?(?:end|close|start|beginning|middle)\b|{_MONTH}$)", re.I)


def find_deadline(text: str) -> str | None:
    """The first deadline expression in ``text``, without a leading "by"/"due"/"on"."""
    for m in _DEADLINE_RE.finditer(text):
        phrase = m.group(0)
        if _BAD.match(phrase):
            continue
        phrase = _STRIP_PREFIX.sub("", phrase).strip()
        return "ASAP" if phrase.lower() == "asap" else phrase
    return None
