"""Training sentences for the NER model, generated from templates and word lists.

Step 1 of the NER workflow (generate → train → evaluate). Sentences come from
``templates.txt`` (one per line, slots in braces) filled from the hand-written
lists in ``lexicon/``; every slot knows its label, so the character offsets are
exact by construction. The same seed gives the same sentences: ``random.Random``
is stable across Python versions for ``choice``/``randint``/``random``.

Hand-written sentences (``handwritten/*.txt``, mentions inline as in the dev set) join
them: each as written, and again with its entities swapped for values the slots draw
for the same label, so real phrasing carries varied names. Their emails and phones go
unlabelled, like the templates': rules find those at run time.

Nothing here reads the gold or development sets; ``evaluate.py`` refuses to score a model
whose training data contains a gold or development sentence.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

__all__ = ["HERE", "Example", "generate", "handwritten_examples"]

HERE = Path(__file__).resolve().parent
#: A sentence and its entities as ``(start, end, label)`` character offsets.
Example = tuple[str, list[tuple[int, int, str]]]

_SLOT = re.compile(r"\{([A-Z]+)\}")
_INLINE = re.compile(r"\[\[(.+?)\|([A-Z_]+)\]\]")
#: Copies of each hand-written sentence: as written, and with entities swapped.
HANDWRITTEN_AS_WRITTEN = 2
HANDWRITTEN_SWAPPED = 3
#: A hand-written label → the slot that draws another value for it.
_SWAP_SLOT = {"PERSON": "PERSON", "ORG": "ORG", "LOCATION": "LOC", "SKILL": "SKILL", "JOB_TITLE": "TITLE",
              "MONEY": "MONEY"}


def _lines(name: str) -> list[str]:
    text = (HERE / "lexicon" / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _templates() -> list[str]:
    text = (HERE / "templates.txt").read_text(encoding="utf-8")
    return [line.replace("\\n", "\n") for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_NUMBERS = ["two", "three", "four", "five", "six", "ten", "twelve", "fifteen", "thirty"]
#: Roles a contract gives its parties: capitalised, yet no job titles.
_PARTIES = ["Contractor", "Licensee", "Licensor", "Borrower", "Lender", "Tenant", "Landlord",
            "Supplier", "Buyer", "Seller", "Client", "Customer", "Company", "Employer", "Freelancer",
            "Processor", "Guarantor", "Party", "Distributor", "Agency", "Purchaser", "Vendor"]
_SENIORITY = ["Senior", "Junior", "Lead", "Principal", "Staff", "Associate", "Sr.", "Chief",
              "Head", "Regional", "Assistant", "Deputy"]


class _Filler:
    """Draws slot values; each returns ``(text, label or None)``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.first = _lines("first_names.txt")
        self.last = _lines("last_names.txt")
        self.skills = _lines("skills.txt")
        # The run-time matcher's unambiguous entries ("?" marks a word that needs context).
        self.more_skills = [s for s in _lines("skill_matcher.txt") if not s.startswith(("#", "?"))]
        self.roles = _lines("job_roles.txt")
        self.fixed_titles = _lines("job_titles_fixed.txt")
        self.orgs = _lines("orgs.txt")
        self.org_parts = _lines("org_parts.txt")
        self.org_suffixes = _lines("org_suffixes.txt")
        self.locations = _lines("locations.txt")
        self.industries = _lines("org_industries.txt")
        self.noun_phrases = _lines("noun_phrases.txt")
        self.slots: dict[str, Callable[[], tuple[str, str | None]]] = {
            "PERSON": lambda: (self.person(), "PERSON"),
            "FIRST": lambda: (rng.choice(self.first), "PERSON"),
            "LAST": lambda: (rng.choice(self.last), "PERSON"),
            "ORG": lambda: (self.org(), "ORG"),
            "LOC": lambda: (rng.choice(self.locations), "LOCATION"),
            "DATE": lambda: (self.date(), "DATE"),
            "MY": lambda: (self.month_year(), "DATE"),
            "YEAR": lambda: (str(rng.randint(1988, 2026)), "DATE"),
            "QDATE": lambda: (self.quarter(), "DATE"),
            "MONEY": lambda: (self.money(), "MONEY"),
            "SKILL": lambda: (self.skill(), "SKILL"),
            # A technology named as a thing (a licence, a dashboard), not as a person's skill.
            "TOOL": lambda: (self.skill(), None),
            "TITLE": lambda: (self.title(), "JOB_TITLE"),
            # Emails and phones are found by rules; the model is taught to leave them.
            "EMAIL": lambda: (self.email(), None),
            "PHONE": lambda: (self.phone(), None),
            "NUM": lambda: (str(rng.choice([2, 3, 5, 8, 12, 40, 150, 1200, 25000])), None),
            "DUR": lambda: (self.duration(), None),
            "PCT": lambda: (rng.choice([f"{rng.randint(1, 60)}%", f"{rng.randint(1, 60)} percent"]), None),
            "REF": lambda: (self.reference(), None),
            "Q": lambda: (str(rng.randint(1, 4)), None),
            # Noun phrases in the places skills and titles take: not every object is a skill.
            "NP": lambda: (rng.choice(self.noun_phrases), None),
            "PARTY": lambda: (rng.choice(_PARTIES), None),
        }

    def person(self) -> str:
        rng = self.rng
        first, last = rng.choice(self.first), rng.choice(self.last)
        r = rng.random()
        if r < 0.12:
            return f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
        if r < 0.18:
            return f"{first} {rng.choice(self.first)} {last}"
        if r < 0.22:
            return f"{first[0]}. {last}"
        return f"{first} {last}"

    def org(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return rng.choice(self.orgs)
        if r < 0.5:
            return f"{rng.choice(self.org_parts)} {rng.choice(self.org_suffixes)}"
        if r < 0.7:
            return f"{rng.choice(self.org_parts)} {rng.choice(self.industries)}"
        if r < 0.8:
            return f"{rng.choice(self.last)} {rng.choice(self.industries + self.org_suffixes)}"
        if r < 0.85:
            return f"{rng.choice(self.last)} & {rng.choice(self.last)}"
        if r < 0.9:
            return (f"{rng.choice(self.org_parts)} {rng.choice(self.industries)} "
                    f"{rng.choice(self.org_suffixes)}")
        if r < 0.95:
            return _brand(rng)
        place = rng.choice(self.locations)
        return rng.choice([f"University of {place}", f"{place} General Hospital", f"{place} City Council",
                           f"St. {rng.choice(self.first)}'s Hospital", f"{place} Chamber of Commerce"])

    def date(self) -> str:
        rng = self.rng
        y, m, d = rng.randint(1995, 2027), rng.randint(1, 12), rng.randint(1, 28)
        month = _MONTHS[m - 1]
        return rng.choice([
            f"{month} {d}, {y}", f"{d} {month} {y}", f"{month[:3]} {d}, {y}", f"{y}-{m:02d}-{d:02d}",
            f"{m:02d}/{d:02d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{month} {d}", f"{d} {month[:3]} {y}",
            f"{rng.choice(['Monday', 'Tuesday', 'Thursday', 'Friday'])}, {month} {d}",
            rng.choice(["tomorrow", "next Monday", "next Friday", "Friday", "the end of the month",
                        "end of Q3", "yesterday"]),
        ])

    def quarter(self) -> str:
        rng = self.rng
        y = rng.randint(2015, 2027)
        q, h = rng.randint(1, 4), rng.randint(1, 2)
        return rng.choice([f"Q{q}", f"Q{q} {y}", f"H{h} {y}", f"FY{y}", f"FY {y}", f"Q{q} FY{y % 100}",
                           f"the first half of {y}"])

    def month_year(self) -> str:
        rng = self.rng
        month, y = rng.choice(_MONTHS), rng.randint(1995, 2026)
        return rng.choice([f"{month} {y}", f"{month[:3]} {y}", f"{month[:3]}. {y}", f"{month} {y}"])

    def money(self) -> str:
        rng = self.rng
        n = rng.choice([rng.randint(5, 999), rng.randint(1000, 99999), rng.randint(100000, 950000)])
        cents = rng.randint(0, 99)
        return rng.choice([
            f"${n:,}", f"${n:,}.{cents:02d}", f"€{n:,}".replace(",", "."), f"£{n:,}",
            f"USD {n:,}", f"EUR {n:,}.{cents:02d}", f"{n:,} euros", f"${n // 1000 + 1}k",
            f"€{n:,}.{cents:02d}".replace(",", "X").replace(".", ",").replace("X", "."),
            f"CHF {n:,}", f"{n:,} USD", f"${rng.randint(1, 9)}.{rng.randint(1, 9)} million",
        ])

    def skill(self) -> str:
        s = self.rng.choice(self.skills if self.rng.random() < 0.7 else self.more_skills)
        # Multi-word skills are written in lower case as often as in title case.
        return s.lower() if " " in s and s[0].isupper() and self.rng.random() < 0.3 else s

    def title(self) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            return rng.choice(self.fixed_titles)
        role = rng.choice(self.roles)
        title = f"{rng.choice(_SENIORITY)} {role}" if rng.random() < 0.45 else role
        return title.lower() if rng.random() < 0.1 else title

    def reference(self) -> str:
        """Invoice, order and account numbers: digits a model might take for dates or phones."""
        rng = self.rng
        return rng.choice([
            f"{rng.choice(['INV', 'PO', 'CN', 'ORD'])}-{rng.randint(1000, 99999)}",
            f"{rng.randint(2015, 2027)}-{rng.randint(1, 9999):04d}",
            f"INV/{rng.randint(2015, 2027)}/{rng.randint(1, 999)}",
            f"{rng.randint(0, 99):02d}{rng.randint(100000, 999999)}", f"A{rng.randint(10000, 99999)}",
        ])

    def email(self) -> str:
        rng = self.rng
        domain = rng.choice(self.org_parts).lower().replace(" ", "")
        return f"{rng.choice(self.first).lower()}.{rng.choice(self.last).lower()}@{domain}.com"

    def phone(self) -> str:
        rng = self.rng
        a, b, c = rng.randint(200, 989), rng.randint(200, 999), rng.randint(1000, 9999)
        return rng.choice([f"({a}) {b}-{c}", f"+1 {a} {b} {c}", f"+44 20 {b}{c % 10} {c}", f"{a}-{b}-{c}"])

    def duration(self) -> str:
        rng = self.rng
        return rng.choice([f"{rng.randint(2, 12)} years", f"{rng.randint(2, 10)}+ years",
                           f"{rng.choice(_NUMBERS)} years", f"{rng.randint(7, 90)} days",
                           f"{rng.choice(_NUMBERS)} months", "two weeks'", "six months"])


_SYLLABLES = ["ka", "lo", "vi", "ra", "ne", "zu", "tor", "mi", "sa", "qu", "dex", "lan", "bri", "no",
              "ve", "ta", "ro", "lix", "po", "sen", "ar", "el", "on", "is"]


def _brand(rng: random.Random) -> str:
    """An invented one-word company name (*Kavira*, *Lotordex*), as new firms call themselves."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _fill(template: str, filler: _Filler) -> Example:
    text, ents, pos = "", [], 0
    for m in _SLOT.finditer(template):
        text += template[pos:m.start()]
        pos = m.end()
        slot = m.group(1)
        if slot == "SKILLS":
            skills = [filler.skill() for _ in range(filler.rng.randint(2, 5))]
            for i, skill in enumerate(skills):
                if i:
                    text += " and " if i == len(skills) - 1 and filler.rng.random() < 0.5 else ", "
                ents.append((len(text), len(text) + len(skill), "SKILL"))
                text += skill
            continue
        value, label = filler.slots[slot]()
        if label is not None:
            ents.append((len(text), len(text) + len(value), label))
        text += value
    text += template[pos:]
    return text, ents


def _handwritten() -> list[list[tuple[str, str | None]]]:
    """The hand-written sentences as pieces ``(text, label or None)``; emails and phones unlabelled."""
    out = []
    for path in sorted((HERE / "handwritten").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            annotated = line.split("\t", 1)[1].replace("\\n", "\n")
            pieces: list[tuple[str, str | None]] = []
            pos = 0
            for m in _INLINE.finditer(annotated):
                pieces.append((annotated[pos:m.start()], None))
                label = m.group(2)
                pieces.append((m.group(1), None if label in ("EMAIL", "PHONE") else label))
                pos = m.end()
            pieces.append((annotated[pos:], None))
            out.append(pieces)
    return out


def _join(pieces: list[tuple[str, str | None]], filler: _Filler | None) -> Example:
    """A hand-written sentence as an example; with ``filler``, half its entities get new values."""
    text, ents = "", []
    for value, label in pieces:
        if label is not None and filler is not None and label in _SWAP_SLOT and filler.rng.random() < 0.5:
            value = filler.slots[_SWAP_SLOT[label]]()[0]
        if label is not None:
            ents.append((len(text), len(text) + len(value), label))
        text += value
    return text, ents


def handwritten_examples(seed: int = 0) -> list[Example]:
    """Every hand-written sentence ``HANDWRITTEN_AS_WRITTEN`` times as written and
    ``HANDWRITTEN_SWAPPED`` times with entities swapped (deterministic for a seed)."""
    filler = _Filler(random.Random(seed + 1))  # noqa: S311 - reproducible data, not secrets
    out: list[Example] = []
    for pieces in _handwritten():
        out += [_join(pieces, None)] * HANDWRITTEN_AS_WRITTEN
        out += [_join(pieces, filler) for _ in range(HANDWRITTEN_SWAPPED)]
    return out


def generate(n: int, seed: int = 0, *, handwritten: bool = True) -> list[Example]:
    """``n`` template examples (one in four joins two sentences, as in real paragraphs),
    then the hand-written sentences (:func:`handwritten_examples`) unless ``handwritten`` is false."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    filler = _Filler(rng)
    templates = _templates()
    examples: list[Example] = []
    while len(examples) < n:
        text, ents = _fill(rng.choice(templates), filler)
        if rng.random() < 0.25:
            more, more_ents = _fill(rng.choice(templates), filler)
            shift = len(text) + 1
            text = f"{text} {more}"
            ents = ents + [(s + shift, e + shift, label) for s, e, label in more_ents]
        examples.append((text, ents))
    return examples + (handwritten_examples(seed) if handwritten else [])
