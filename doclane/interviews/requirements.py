"""How a job description asks for skills: the statements that ask something of a candidate
(by their words, their part of the JD, their grammar), whether they require or wish, and the
skill names in them.

The NER model tags most skills; these rules catch what it misses or mislabels in job
descriptions: duty verbs that begin bullets (*Build*, *Own*), places, skills only the lexicon
knows, skills named in so many words after *experience with* or before *skills*, the noun
phrases the parse says are asked for, list items after a label, names in brackets. The JD's
layout (headings, labels, tables) is read by :mod:`doclane.interviews.layout`, a phrase is made
a name by :mod:`doclane.interviews.names`. Measured on the interview set
(``models/interviews``, ``bench/interview.py``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import cache

from doclane.interviews.layout import (
    BULLET,
    asks_heading,
    heading_at,
    is_heading,
    line_label,
    section_kind,
    statement_at,
    statements,
)
from doclane.interviews.names import (
    ADJECTIVE,
    ADJECTIVE_ENDINGS,
    DETERMINER,
    EDGES,
    HEAD_NOUN,
    LEAD_QUALIFIER,
    MAX_PHRASE_WORDS,
    NOT_SKILL,
    NOT_SKILL_START,
    PART_SPLIT,
    PREPOSITION,
    TITLE_PHRASE,
    name_parts,
    phrase_names,
    tidy,
    without_version,
)
from doclane.interviews.phrases import asked_phrases
from doclane.interviews.skills import canonical, clean_skill, generic, surface_pattern
from doclane.interviews.usage import ordinary, past_verb
from doclane.schemas.documents import ChunkRecord

__all__ = ["BULLET", "asked_skills", "asks", "candidates_in", "duty_verb", "heading_at", "is_wish",
           "name_parts", "phrase_skills", "section_kind", "skill_name", "statement_at",
           "statements", "without_version"]

#: Words that make a job description's statement a wish rather than a requirement.
_PREFERRED = re.compile(
    r"\b(?:nice[- ]to[- ]haves?|preferred|preferably|a plus|pluses|bonus(?:es)?|desirable|ideally|"
    r"advantage(?:ous)?|optional|would be great|is welcome|good to have|not required|not essential|"
    r"would (?:be )?(?:useful|helpful|nice|welcome|suit|help)|would (?:set you apart|make you stand out))\b",
    re.I)
#: A label or heading that is only a wish: *Plus:*, *Bonus*, *Extras*.
_WISH_LABEL = re.compile(r"^\W*(?:plus|bonus|extras?|optional)\W*$", re.I)
_CLAUSE = re.compile(r"[,;()]")
_FORWARD_ONLY = re.compile(r"\s*(?:ideally|preferably)\b", re.I)
#: Words of a statement that asks something of a candidate, wherever it sits.
_ASKS = re.compile(
    r"\b(?:experience|knowledge|proficien\w*|skills?|familiar\w*|understanding|degree|qualified|"
    r"qualification|certifi\w*|years?(?!\s*\d)|must|required|requirement|strong|solid|expert|competent|comfortable|"
    r"confident|fluent|preferred|desirable|a plus|nice to have|essential|important|matters?|should|"
    r"advantage|must-have|nice-to-have|interest in|"
    # the candidate described: "we want someone whose ...", "the person we are looking for is ..."
    r"(?:want|need|looking for|after|seeking|hiring)\s+(?:someone|somebody|a person|people|"
    r"an?\s+(?:\w+\s+){1,2}(?:who|with|whose))|someone (?:who|with|whose)|"
    r"(?:person|candidate) (?:we|who|with|whose)|(?:ideal|right|successful) (?:person|candidate|applicant)|"
    r"you(?:'ll| will)? need)\b", re.I)
#: A place or an employer, not a skill: "based in Hull", "at Acme".
_PLACE_BEFORE = re.compile(r"\b(?:in|at|from|near|based in)\s+$", re.I)
_LOWER_SKILL = re.compile(r"^[a-z][a-z&/+-]*(?: [a-z][a-z&/+-]*){0,2}$")


def duty_verb(statement: str, offset: int, name: str) -> bool:
    """``name`` at ``offset`` opens ``statement`` as its verb (*Design* cast parts, *Lead* a
    shift), so this occurrence is not the skill of that name."""
    lead = len(statement) - len(BULLET.sub("", statement))
    return offset <= lead and len(name.split()) == 1 and name.lower() in NOT_SKILL_START


def _activity(word: str, after: str, known: frozenset[str]) -> bool:
    """A single word opening a statement that names what one does (*Running* tests, *Testing*
    with Jest, *Orchestration* with Airflow), not a skill: capitalised only because it opens."""
    return (len(word.split()) == 1 and word[1:].islower() and word.lower().endswith(("ing", "ion"))
            and (canonical(word) not in known or bool(re.match(r"\s+(?:with|in|using)\b", after))))


def asks(statement: str, heading: str) -> bool:
    """The statement asks something of a candidate: it sits under a requirements heading
    (*Requirements*, *Nice to have*) or says *experience*, *knowledge*, *years* ..."""
    return asks_heading(heading) or bool(_ASKS.search(statement) or _PREFERRED.search(statement))


def skill_name(text: str, chunk_text: str, start: int, a: int, b: int, heading: str,
                known: frozenset[str], lenient: bool) -> str | None:
    """The skill a SKILL span names (:func:`~doclane.interviews.skills.clean_skill`), or ``None``.

    Besides the lexicon's checks: a name that is not a known skill is dropped when it begins
    a statement with a duty verb (*Build*, *Own*, *Support students*) or follows *in* / *at*
    (a place); a known skill at its end is kept (*Orchestration with Airflow*, *Clear written
    communication*).
    """
    text = without_version(DETERMINER.sub("", text.strip(EDGES)), known)
    words = text.split()
    kind = section_kind(heading)
    if not words or kind == "offer":
        return None
    if ordinary(text):
        return None  # "a sous chef", "other teams", "the rest": words, not Chef, Teams or REST
    for i in range(1, len(words)):  # "Orchestration with Airflow", "Patient troubleshooting"
        tail = " ".join(words[i:])
        if ordinary(tail):
            continue  # "junior sous chef" is a job, not the Chef tool
        if canonical(text) not in known and canonical(tail) in known:
            return clean_skill(tail, known)
    statement = chunk_text[a:b]
    opening = start - a <= len(statement) - len(BULLET.sub("", statement))
    if opening and _activity(text, chunk_text[start + len(text):], known):
        return None  # "Orchestration with Airflow", "Running tests": the activity, the tool is asked
    name = clean_skill(text, known)
    if name is not None and canonical(name) not in known:
        name = without_version(HEAD_NOUN.sub("", name).strip(EDGES) or name, known)
    if name is not None and (generic(name) or canonical(name) in NOT_SKILL
                             or re.fullmatch(r"level\s*\d+", canonical(name))):
        return None
    if name is None:
        bare = HEAD_NOUN.sub("", LEAD_QUALIFIER.sub("", text.strip())).strip(EDGES)
        adjective = " " not in bare and bool(ADJECTIVE.search(bare))  # "verbal" (and written communication)
        if lenient and _LOWER_SKILL.match(bare) and canonical(bare) not in NOT_SKILL and not generic(bare) \
                and not LEAD_QUALIFIER.fullmatch(bare + " ") and not adjective and asks(statement, heading):
            return bare
        return None
    if canonical(name) in known:
        return name
    duty_opening = len(words) == 1 and kind == "duties"  # "Shape solutions": its verb
    if opening and (words[0].lower() in NOT_SKILL_START or duty_opening):
        return None
    if opening and not lenient and past_verb(statement, start - a):
        # A resume's bullet opens with what the person did: "Planned" is no skill, and
        # "Completed MHE" names the verb's object; when the rest names nothing on its own
        # ("Supervised learning"), the participle was part of the name
        rest = text.split(maxsplit=1)[1:]
        if not rest:
            return None
        named = skill_name(rest[0], chunk_text, start + text.index(rest[0]), a, b, heading, known, lenient)
        if named is None:
            return name
        return named if re.search(r"[A-Za-z]", named) else None  # "Migrated 120": a count
    if _PLACE_BEFORE.search(chunk_text[max(0, start - 12):start]) and name[:1].isupper() \
            and name[1:].islower():
        return None
    return name


#: What introduces a skill in a requirement: *experience with X*, *knowledge of X and Y*.
_CUE = re.compile(r"\b(?:experience (?:with|in|of)|knowledge of|proficien(?:t|cy) (?:in|with)|skilled in|"
                  r"familiarity with|expertise in|understanding of|competent in|trained in)\s+"
                  r"(?P<phrase>[^.;:()]+)", re.I)
#: *Strong negotiation skills*, *Pastry skills would be great*.
_SKILLS_NOUN = re.compile(r"^(?:(?:strong|good|excellent|solid|clear|proven|sound)\s+)?"
                          r"(?P<phrase>[A-Za-z][\w&/ -]{1,40}?)\s+skills\b", re.I)
#: A statement that says of itself that it is required or wished for: *Bicep or ARM templates
#: (required).*, *Terraform (preferred).*: a requirements bullet wherever it sits.
_MARKED = re.compile(r"\((?:required|must|essential|mandatory|preferred|desirable|nice to have|a plus|"
                     r"optional|bonus)\)|\b(?:is|are) (?:essential|required|a must|desirable|a plus)\b", re.I)


def _items(text: str) -> list[str]:
    """``text`` split at its commas and semicolons outside brackets."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth <= 0 and char in ",;":
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip(EDGES)]


#: What opens a bracket of examples: *(e.g. Ceph, HDFS)*, *(such as Klaviyo)*.
_EXAMPLES = re.compile(r"^\s*(?:e\.g\.?|i\.e\.?|eg|ie|such as|for example|including|like)[,:]?\s+", re.I)


def _bracketed(statement: str, known: frozenset[str]) -> list[str]:
    """Names a statement gives in brackets: *Python (pandas/NumPy, scikit-learn)*, *basic
    networking (DHCP, DNS)*; only names the lexicon knows or written like a technology, so
    *(green or blue)* and *(must)* name nothing."""
    names = []
    for group in re.findall(r"\(([^()]{1,80})\)", statement):
        if _MARKED.search(f"({group})"):
            continue
        for part in PART_SPLIT.split(_EXAMPLES.sub("", group)):
            part = tidy(part, known)
            if part and len(part.split()) <= MAX_PHRASE_WORDS and clean_skill(part, known) is not None \
                    and (part[0].isupper() or canonical(part) in known):  # not "(grade C/4)"
                names.append(part)
    return names


_MINOR_WORDS = frozenset({"the", "and", "of", "at", "to", "for", "in", "on", "a", "with", "&"})
_TITLE_WORD = re.compile(r"^[A-Z][a-z'-]+$")


def _title_name(item: str, known: frozenset[str]) -> str | None:
    """A list item written as a name, a capital to each word and no final stop (*Seeing the
    Big Picture*, *Communicating and Influencing*, a competency framework's behaviours), of
    words the lexicon does not know one by one (*Python and Django* are two skills)."""
    text = item.strip()
    words = text.split()
    if not 2 <= len(words) <= 5 or text[-1] in ".!?" or words[0].lower() in _MINOR_WORDS \
            or words[-1].lower() in _MINOR_WORDS:
        return None
    major = [w for w in words if w.lower() not in _MINOR_WORDS]
    if len(major) < 2 or not all(_TITLE_WORD.match(w) for w in major) \
            or any(canonical(w) in known or w.lower() in NOT_SKILL_START for w in major):
        return None
    return text


#: A bullet's opening that names a skill before what it says of it (*Audio typing* at 60 wpm):
#: two or three words, no gerund or adjective first (*Consuming* REST APIs, *Patient*
#: troubleshooting), no number, no clause (*You have worked* on).
_NAME_BEFORE = re.compile(
    rf"^(?!\w*(?:ing|{ADJECTIVE_ENDINGS})\b)(?!.*\b(?:you|we|have|has|is|are|be|can|will|"
    r"work|happy|willing|keen|ready|prepared)\b)[A-Za-z][\w-]*(?: [\w-]+){1,2}$", re.I)


def _titles_joined(spans: list[tuple[int, int, bool]], statement: str,
                   known: frozenset[str]) -> list[tuple[int, int, bool]]:
    """Coordinated phrases that together are one name (*Health* and *Social Care*: the parse
    makes two noun phrases of *NVQ Level 2 in Health and Social Care*)."""
    joined: list[tuple[int, int, bool]] = []
    for start, end, weak in spans:
        if joined:
            a, b, w = joined[-1]
            first, second = canonical(statement[a:b]), canonical(statement[start:end])
            if statement[b:start] in (" and ", " & ") and TITLE_PHRASE.match(statement[a:end]) \
                    and first not in known and second not in known:
                joined[-1] = (a, end, w and weak)
                continue
        joined.append((start, end, weak))
    return joined


def _asked_in(statement: str, kind: str, requirement: bool,
              known: frozenset[str]) -> list[tuple[str, bool, bool]]:
    """The phrases of a statement that name what it asks, each as (phrase, only a bullet's head
    naming its tools, opens the statement)."""
    phrases = [(m.group("phrase"), False, False) for m in _CUE.finditer(statement)]
    skills_noun = _SKILLS_NOUN.match(statement)
    if skills_noun:
        phrases.append((skills_noun.group("phrase"), False, True))
    whole = LEAD_QUALIFIER.sub("", statement.split("(")[0].strip(EDGES))
    before = PREPOSITION.search(whole)
    head = whole[:before.start()].strip() if before else whole
    parts = PART_SPLIT.split(head)
    short = len(head.split()) <= MAX_PHRASE_WORDS or (  # "Menu costing and stock control"
        len(parts) == 2 and not re.search(r"[,:;]|^\w+ing\b", head)
        and all(len(p.split()) <= 2 for p in parts))
    if (kind == "asks" and head and short
            and ((not before and not phrases) or (before and _NAME_BEFORE.match(head)))):
        # a bullet that is only names ("Menu costing and stock control", "Audio typing at 60 wpm")
        phrases.append((head, False, True))
    phrases += [(statement[x:y], weak, not statement[:x].strip())
                for x, y, weak in _titles_joined(asked_phrases(statement, requirement), statement, known)]
    phrases += [(name, False, False) for name in _bracketed(statement, known)]
    return phrases


def phrase_skills(chunks: Sequence[ChunkRecord],
                  known: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """Skills the requirement statements name in so many words, whether or not the NER model
    or the lexicon knows them: the noun phrases the parse says are asked for
    (:func:`doclane.interviews.phrases.asked_phrases`), and, by word patterns, what follows a
    cue (*experience with*), what precedes *skills*, and a bullet that is only a name (*Good
    record keeping.*, *SEO.*)."""
    found: dict[str, str] = {}
    for chunk in chunks:
        for a, b in statements(chunk.text):
            if is_heading(chunk, a):
                continue
            heading = heading_at(chunk, a)
            kind = section_kind(heading)
            label = line_label(chunk.text, a)
            labelled = label is not None and a < label[0] < b and section_kind(label[1]) != "other"
            statement = chunk.text[label[0]:b] if labelled and label else BULLET.sub("", chunk.text[a:b])
            if kind == "offer" or not asks(statement, heading):
                continue
            requirement = kind == "asks" or bool(_MARKED.search(statement))
            # a labelled line lists its items: "Key skills: drainage, kerbing, block paving"
            listing = labelled or " | " in chunk.text[max(0, a - 3):b + 3]  # a label's or a cell's items
            for item in (_items(statement) if listing else [statement]):
                title = _title_name(item, known) if kind == "asks" else None
                if title:  # "Seeing the Big Picture": one name, however many words
                    found.setdefault(canonical(title), title)
                    continue
                for phrase, weak, opening in _asked_in(item, kind, requirement, known):
                    for name in phrase_names(phrase, known, opening):
                        if weak and len(name.split()) == 1:
                            continue  # "Orchestration with Airflow", "Programming in Java": the tools
                        found.setdefault(canonical(name), name)
    return list(found.items())


#: The longest skill name the lexicon scan looks for, in words.
_MAX_NAME_WORDS = 5


@cache
def _pattern(skill: str) -> re.Pattern[str]:
    return surface_pattern(skill)


def candidates_in(text: str, known: frozenset[str]) -> list[str]:
    """Known skills some run of words of ``text`` names (aliases resolved): the only ones
    worth a pattern, so a lexicon of a thousand skills costs a few lookups per word."""
    words = text.split()
    found = set()
    for i in range(len(words)):
        for n in range(1, min(_MAX_NAME_WORDS, len(words) - i) + 1):
            key = canonical(" ".join(words[i:i + n]))
            if key in known:
                found.add(key)
    return sorted(found)


def asked_skills(chunks: Sequence[ChunkRecord], known: frozenset[str]) -> list[tuple[str, str]]:
    """Known skills named in the statements that ask something of a candidate, as
    (canonical, name as written): the NER model may not have tagged every one."""
    asking = []
    for chunk in chunks:
        for a, b in statements(chunk.text):
            if is_heading(chunk, a):
                continue
            heading = heading_at(chunk, a)  # the section path, the layout, the line's label and column
            if section_kind(heading) != "offer" and asks(chunk.text[a:b], heading):
                asking.append(chunk.text[a:b])
    text = "\n".join(asking)
    matches = []
    for skill in candidates_in(text, known):
        for match in _pattern(skill).finditer(text):
            if ordinary(match.group(0)):
                continue  # "other teams", "a swift reply", "the rest": words, not Teams, Swift or REST
            line_start = text.rfind("\n", 0, match.start()) + 1
            opening = not BULLET.sub("", text[line_start:match.start()]).strip()
            if opening and _activity(match.group(0), text[match.end():], known):
                continue
            matches.append((match.start(), match.end(), skill, match.group(0)))
    found: dict[str, str] = {}
    for start, end, skill, name in matches:
        inside = any(a <= start and end <= b and (a, b) != (start, end) for a, b, _, _ in matches)
        if not inside:  # "APIs" inside "REST APIs" is that skill, not another one
            found.setdefault(skill, name)
    return list(found.items())


def is_wish(statement: str, heading: str, offset: int = -1) -> bool:
    """The job description wishes for the skill rather than requiring it: its heading says so,
    a label before a colon does (*Nice to have: ...*), or its own clause or a later one does
    (*Kafka, RabbitMQ or similar is a plus*); *ideally* and *preferably* only reach forward
    (*PLC systems, ideally Siemens*: PLC is required, Siemens preferred) unless they end the
    statement (*IOSH Managing Safely, ideally*). ``offset`` is where the
    skill starts in ``statement`` (``-1``: anywhere, the whole statement decides)."""
    if _PREFERRED.search(heading) or _WISH_LABEL.match(heading.split(" / ")[-1]):
        return True
    if offset < 0:
        return bool(_PREFERRED.search(statement))
    label = statement.split(":", 1)[0] if ":" in statement else ""
    if label and (_PREFERRED.search(label) or _WISH_LABEL.match(label)):
        return True
    bounds = [0, *(m.end() for m in _CLAUSE.finditer(statement)), len(statement) + 1]
    for start, end in itertools.pairwise(bounds):
        clause = statement[start:end]
        if end <= offset or not _PREFERRED.search(clause):
            continue
        forward = _FORWARD_ONLY.match(clause)
        # "IOSH Managing Safely, ideally.": the word ends the statement, so it looks back
        if start <= offset or not forward or not clause[forward.end():].strip(EDGES):
            return True
    return False
