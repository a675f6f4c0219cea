"""Baselines the classifier is judged against: the majority class and keyword rules."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["KEYWORDS", "keyword_rule", "majority"]

#: Words a person would grep for first. A document gets one point per pattern it contains;
#: the class with most points wins (ties go to the class listed first), none means "other".
KEYWORDS: dict[str, list[str]] = {
    "invoice": [r"\binvoice\b", r"\bamount due\b|\bbalance due\b|\btotal due\b", r"\bbill(ed)? to\b",
                r"\bvat\b|\bsales tax\b|\bgst\b", r"\bsubtotal\b", r"\bpayment terms\b|\bdue date\b"],
    "contract": [r"\bagreement\b", r"\bparties\b|\bparty\b", r"\bherein\b|\bwhereas\b|\bhereby\b",
                 r"\bterminat(e|ion)\b", r"\bgoverning law\b|\bgoverned by\b", r"\bshall\b"],
    "resume": [r"\bcurriculum vitae\b|\bresume\b|\brésumé\b|\bcv\b", r"\b(work|professional) experience\b|\bemployment history\b",
               r"\beducation\b", r"\bskills\b", r"\bprofile\b|\bsummary\b", r"\breferences available\b"],
    "job_description": [r"\bresponsibilities\b|\bduties\b", r"\brequirements\b|\bqualifications\b",
                        r"\bwe are looking for\b|\bwe're hiring\b|\bjoin our team\b|\bvacancy\b",
                        r"\bapply\b", r"\bbenefits\b|\bwhat we offer\b", r"\bsalary\b"],
    "report": [r"\breport\b", r"\bexecutive summary\b", r"\bfindings\b", r"\brecommendations?\b",
               r"\bconclusions?\b", r"\bmethodology\b|\bscope\b"],
    "paper": [r"\babstract\b", r"\bintroduction\b", r"\brelated work\b|\bliterature\b", r"\bmethods?\b",
              r"\breferences\b|\bet al\b", r"\bresults\b"],
    "presentation": [r"\bslide\b", r"\bagenda\b", r"\bq&a\b|\bquestions\?", r"\bthank you\b",
                     r"\bpresentation\b|\bdeck\b", r"\bnext steps\b"],
    "letter": [r"^\s*dear\b", r"\byours (sincerely|faithfully)\b|\bkind regards\b|\bbest regards\b",
               r"^\s*(subject|from|to):", r"\bi am writing\b", r"^\s*(hi|hello)\b", r"\bsincerely\b"],
}
_COMPILED = {label: [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in patterns]
             for label, patterns in KEYWORDS.items()}


def keyword_rule(text: str) -> str:
    """The class whose keywords occur most (at least two), else ``other``."""
    points = {label: sum(bool(p.search(text)) for p in patterns) for label, patterns in _COMPILED.items()}
    best = max(points, key=lambda label: points[label])
    return best if points[best] >= 2 else "other"


def majority(train_labels: Sequence[str], n: int) -> list[str]:
    """The most frequent training label for every document (alphabetical first among equals)."""
    counts = Counter(train_labels)
    top = min(counts, key=lambda label: (-counts[label], label))
    return [top] * n
