"""What a job description asks and what a resume shows, read from the pipeline's results.

Both documents went through the pipeline: their chunks carry the text with its section
path and the named entities the NER model found (SKILL, JOB_TITLE, ORG, DATE, PERSON).
A profile is built from those, never from the raw file, so every item points at an exact
span of a chunk (:class:`~doclane.schemas.interviews.SourceSpan`): the *statement* (the
bullet or sentence) in which the item occurs, which is what a recruiter wants to read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from doclane.interviews.requirements import (
    BULLET,
    asked_skills,
    asks,
    duty_verb,
    heading_at,
    is_wish,
    name_parts,
    phrase_skills,
    section_kind,
    skill_name,
    statement_at,
    statements,
)
from doclane.interviews.skills import canonical, surface_pattern
from doclane.interviews.usage import ordinary_use
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.enrichment import EntityLabel
from doclane.schemas.interviews import CandidateProfile, JobProfile, SkillRequirement, SourceSpan, SpanItem

__all__ = ["Judge", "Mention", "candidate_profile", "is_preferred", "job_profile", "shown", "skill_mentions",
           "statements"]


#: A statement in which the employer or the candidate speaks or is spoken to (*we use Python*).
_FIRST_OR_SECOND_PERSON = re.compile(r"\b(?:we|our|us|you|your)\b", re.I)
#: Headings of the parts of a resume that say what a person did (not just lists of skills).
_EXPERIENCE_HEADING = re.compile(r"experience|employment|work|career|projects?|history|achievements", re.I)
#: Verbs a resume uses for what a person did with a skill.
_DID = re.compile(
    r"\b(?:built|rebuilt|led|designed|implemented|developed|deployed|migrated|wrote|rewrote|used|using|"
    r"maintained|optimi[sz]ed|created|automated|managed|shipped|reduced|improved|launched|introduced|"
    r"delivered|architected|ran|operated|owned|scaled|integrated|refactored|tuned|trained|analy[sz]ed|"
    r"modell?ed|configured|administered|mentored|taught|set up|moved|cut|raised|grew)\b", re.I)
_SKILL_LIST = re.compile(r"^\s*(?:[-•*·]\s*)?(?:technical\s+)?(?:skills|tools|stack|technologies|"
                         r"languages|competencies|expertise)\s*[:\-\u2013]", re.I)
_RESPONSIBILITY_HEADING = re.compile(
    r"responsibilit|what you.{0,12}(?:do|work on)|duties|the role|your role|day[- ]to[- ]day|your impact|"
    r"what you will", re.I)
_YOU_WILL = re.compile(r"^\s*(?:[-•*·]\s*)?(?:you will|you'll|in this role you)\b", re.I)
_PROJECT_HEADING = re.compile(r"project", re.I)
_SENIORITY = (
    ("intern", re.compile(r"\b(?:intern|internship|trainee|apprentice)\b", re.I)),
    ("junior", re.compile(r"\b(?:junior|jr\.?|entry[- ]level|graduate)\b", re.I)),
    ("principal", re.compile(r"\b(?:principal|distinguished|head of|director|vp)\b", re.I)),
    ("staff", re.compile(r"\bstaff\b", re.I)),
    ("lead", re.compile(r"\b(?:lead|team lead|tech lead|manager)\b", re.I)),
    ("senior", re.compile(r"\b(?:senior|sr\.?)\b", re.I)),
    ("mid", re.compile(r"\b(?:mid[- ]level|intermediate)\b", re.I)),
)
_YEARS = re.compile(r"\b(\d{1,2})\s*\+?\s*(?:(?:-|\u2013|to)\s*\d{1,2}\s*)?(?:years?|yrs?)\b", re.I)
_YEAR = re.compile(r"\b(19[7-9]\d|20\d\d)\b")
_NOW = re.compile(r"\b(?:present|current|now|today|ongoing)\b", re.I)
_EDUCATION_HEADING = re.compile(r"education|degree|university|school|certific|training", re.I)


@dataclass(frozen=True)
class Mention:
    """One occurrence of a skill (or another entity) with the statement it sits in."""

    value: str
    name: str
    span: SourceSpan
    heading: str
    #: Where the skill starts in its statement (``-1``: unknown).
    offset: int = -1

    @property
    def statement(self) -> str:
        return self.span.text


def _span(doc_id: str, chunk: ChunkRecord, a: int, b: int) -> SourceSpan:
    return SourceSpan(document_id=doc_id, chunk_index=chunk.index, start=a, end=b, text=chunk.text[a:b],
                      section_path=list(chunk.section_path), page=chunk.page_start)


def _entity_mentions(doc_id: str, chunks: Iterable[ChunkRecord], label: EntityLabel) -> Iterator[Mention]:
    for chunk in chunks:
        spans = statements(chunk.text)
        for entity in chunk.entities or ():
            if entity.label is not label:
                continue
            a, b = statement_at(spans, entity.start, entity.end)
            yield Mention(entity.value, entity.text, _span(doc_id, chunk, a, b),
                          " / ".join(chunk.section_path))


def skill_mentions(doc_id: str, chunks: Sequence[ChunkRecord], known: frozenset[str],
                   also: Iterable[tuple[str, str]] = (), lenient: bool = False) -> dict[str, list[Mention]]:
    """Each skill's mentions by canonical name: the SKILL entities that name a skill (see
    :func:`~doclane.interviews.skills.clean_skill`; ``known`` is the skill lexicon), plus
    every occurrence of the ``also`` skills (canonical, name) in the text, which the model
    may not have tagged in this document; one mention per statement (chunks overlap).

    ``lenient`` (for a job description) also keeps lower-case names the lexicon does not
    know (*tolerance analysis*, *acute care*) when their statement asks something of the
    candidate (see :func:`_asks`)."""
    found: dict[str, list[Mention]] = {}
    seen: set[tuple[str, int, int, int]] = set()
    seen_text: set[tuple[str, str]] = set()

    def add(skill: str, mention: Mention) -> None:
        key = (skill, mention.span.chunk_index, mention.span.start, mention.span.end)
        if key in seen or (skill, mention.statement) in seen_text:
            return
        seen.add(key)
        seen_text.add((skill, mention.statement))
        found.setdefault(skill, []).append(mention)

    for chunk in chunks:
        spans = statements(chunk.text)
        for entity in chunk.entities or ():
            if entity.label is not EntityLabel.SKILL:
                continue
            a, b = statement_at(spans, entity.start, entity.end)
            heading = heading_at(chunk, a)
            name = skill_name(entity.text, chunk.text, entity.start, a, b, heading, known, lenient)
            if name is None:
                continue
            parts = name_parts(name, known)  # "pandas/NumPy": two skills
            for part in parts:
                where = max(entity.text.find(part), 0)  # "Patient troubleshooting": the name's own place
                mention = Mention(part, part, _span(doc_id, chunk, a, b), heading, entity.start - a + where)
                add(canonical(part), mention)
    chunk_spans = [(chunk, statements(chunk.text)) for chunk in chunks]  # split once, not once per skill
    for skill, name in also:
        pattern = surface_pattern(skill, name)
        for chunk, spans in chunk_spans:
            for match in pattern.finditer(chunk.text):
                a, b = statement_at(spans, match.start(), match.end())
                if ordinary_use(chunk.text[a:b], match.start() - a, match.group(0)):
                    continue  # "the rest of the time", "I excel at": not REST, not Excel
                if lenient and duty_verb(chunk.text[a:b], match.start() - a, match.group(0)):
                    continue
                add(skill, Mention(skill, match.group(0), _span(doc_id, chunk, a, b),
                                   heading_at(chunk, a), match.start() - a))
    return found


def _outermost(mentions: dict[str, list[Mention]]) -> dict[str, list[Mention]]:
    """Each skill's mentions without those inside a longer skill's name in the same statement
    (*counselling* in *patient counselling skills*, *safety* in *health and safety*, *VAT* in
    *VAT returns*), and without what a job description's benefits or pay say or what it tells of
    the company in the third person outside its duties and asks (*Tallyhoe makes accounting
    software*, but *we use Python* counts); a skill left with no mention is dropped."""
    names: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for skill, found in mentions.items():
        for m in found:
            if m.offset >= 0:
                key = (m.span.chunk_index, m.span.start)
                names.setdefault(key, []).append((m.offset, m.offset + len(m.name), skill))
    kept: dict[str, list[Mention]] = {}
    for skill, found in mentions.items():
        own = []
        for m in found:
            kind = section_kind(m.heading)
            if kind == "offer" or (kind == "other" and not asks(m.statement, m.heading)
                                   and not _FIRST_OR_SECOND_PERSON.search(m.statement)):
                continue  # benefits; the company told of ("makes accounting software"), not "we use Python"
            others = names.get((m.span.chunk_index, m.span.start), [])
            end = m.offset + len(m.name)
            inside = m.offset >= 0 and any(
                s != skill and a <= m.offset and end <= b and b - a > end - m.offset for a, b, s in others)
            if not inside:
                own.append(m)
        if own:
            kept[skill] = own
    return kept


def is_preferred(mentions: Sequence[Mention]) -> bool:
    """A job description wishes for the skill when every statement naming it says so."""
    return all(is_wish(m.statement, m.heading, m.offset) for m in mentions)


def _seniority(*texts: str | None) -> str | None:
    for text in texts:
        if not text:
            continue
        for level, pattern in _SENIORITY:
            if pattern.search(text):
                return level
    return None


def _first(mentions: list[Mention]) -> str:
    return mentions[0].name


class Judge(Protocol):
    """What decides which names a job description asks for (:class:`doclane.interviews.judge.SkillJudge`)."""

    #: Named in the assessment's version, beside the rules'.
    version: str

    def asked(self, doc_id: str, chunks: Sequence[ChunkRecord], known: frozenset[str],
              rule_skills: frozenset[str], *, lexicon: Sequence[tuple[str, str]] | None = None,
              phrases: Sequence[tuple[str, str]] | None = None) -> dict[str, list[Mention]]: ...


def job_profile(doc: DocumentRecord, chunks: Sequence[ChunkRecord], known: frozenset[str],
                judge: Judge | None = None) -> JobProfile:
    """Required and preferred skills, responsibilities and seniority of a job description.

    The rules find the skills; a ``judge`` (the trained model), when given, decides among
    them and the other names of the JD. A skill is *preferred* when every statement naming
    it says so (*nice to have*, *a plus*, a *Preferred* heading); otherwise it is required.
    """
    lexicon, phrases = asked_skills(chunks, known), phrase_skills(chunks, known)
    mentions = _outermost(skill_mentions(doc.id, chunks, known, [*lexicon, *phrases], lenient=True))
    if judge is not None:
        mentions = judge.asked(doc.id, chunks, known, frozenset(mentions), lexicon=lexicon, phrases=phrases)
    required: list[SkillRequirement] = []
    preferred: list[SkillRequirement] = []
    for skill, found in mentions.items():
        wish = is_preferred(found)
        requirement = SkillRequirement(skill=skill, name=_first(found), required=not wish,
                                       evidence=[m.span for m in found[:3]])
        (preferred if wish else required).append(requirement)
    titles = list(_entity_mentions(doc.id, chunks, EntityLabel.JOB_TITLE))
    title = doc.title or (titles[0].name if titles else None)
    text = "\n".join(c.text for c in chunks)
    years = [int(m.group(1)) for m in _YEARS.finditer(text) if int(m.group(1)) <= 30]
    return JobProfile(
        document_id=doc.id,
        title=title,
        seniority=_seniority(title, *(t.name for t in titles[:3]), text[:2000]),
        min_years=min(years) if years else None,
        required_skills=required,
        preferred_skills=preferred,
        responsibilities=_responsibilities(doc.id, chunks),
    )


def _responsibilities(doc_id: str, chunks: Sequence[ChunkRecord]) -> list[SpanItem]:
    items: list[SpanItem] = []
    seen: set[str] = set()
    for chunk in chunks:
        in_section = bool(_RESPONSIBILITY_HEADING.search(" / ".join(chunk.section_path)))
        for a, b in statements(chunk.text):
            line = chunk.text[a:b]
            if line in seen or len(line.split()) < 3:
                continue
            if (in_section and line not in chunk.section_path) or _YOU_WILL.match(line):
                seen.add(line)
                items.append(SpanItem(value=BULLET.sub("", line), evidence=_span(doc_id, chunk, a, b)))
    return items


def _spans(doc_id: str, chunks: Sequence[ChunkRecord], label: EntityLabel,
           skip_education: bool = False) -> list[SpanItem]:
    items, seen = [], set()
    for mention in _entity_mentions(doc_id, chunks, label):
        if mention.value.lower() in seen:
            continue
        if skip_education and (_EDUCATION_HEADING.search(mention.heading)
                               or _EDUCATION_HEADING.search(mention.statement)):
            continue
        seen.add(mention.value.lower())
        items.append(SpanItem(value=mention.value, evidence=mention.span))
    return items


def _years_of_experience(chunks: Sequence[ChunkRecord], now: int) -> int | None:
    """Earliest to latest year dated outside the education part (``present`` = this year)."""
    years: list[int] = []
    for chunk in chunks:
        if _EDUCATION_HEADING.search(" / ".join(chunk.section_path)):
            continue
        for a, b in statements(chunk.text):
            line = chunk.text[a:b]
            if _EDUCATION_HEADING.search(line):
                continue
            found = [int(y) for y in _YEAR.findall(line) if int(y) <= now]
            if found and _NOW.search(line):
                found.append(now)
            years.extend(found)
    return max(years) - min(years) if len(years) >= 2 else None


def candidate_profile(doc: DocumentRecord, chunks: Sequence[ChunkRecord], mentions: dict[str, list[Mention]],
                      now: datetime | None = None) -> CandidateProfile:
    """Skills, roles, employers, dates and projects of a resume, each with its span.

    ``mentions`` are the resume's skill mentions (:func:`skill_mentions`, given the job
    description's skills too, so that a skill the model missed is still found).
    """
    skills = [SkillRequirement(skill=skill, name=_first(found), required=False,
                               evidence=[m.span for m in found[:5]])
              for skill, found in mentions.items()]
    persons = list(_entity_mentions(doc.id, chunks, EntityLabel.PERSON))
    return CandidateProfile(
        document_id=doc.id,
        name=persons[0].name if persons else None,
        skills=skills,
        roles=_spans(doc.id, chunks, EntityLabel.JOB_TITLE),
        employers=_spans(doc.id, chunks, EntityLabel.ORG, skip_education=True),
        dates=_spans(doc.id, chunks, EntityLabel.DATE),
        projects=_projects(doc.id, chunks),
        years_of_experience=_years_of_experience(chunks, (now or datetime.now(UTC)).year),
    )


def _projects(doc_id: str, chunks: Sequence[ChunkRecord]) -> list[SpanItem]:
    items, seen = [], set()
    for chunk in chunks:
        if not _PROJECT_HEADING.search(" / ".join(chunk.section_path)):
            continue
        for a, b in statements(chunk.text):
            line = chunk.text[a:b]
            if len(line.split()) >= 4 and line not in seen:
                seen.add(line)
                items.append(SpanItem(value=BULLET.sub("", line), evidence=_span(doc_id, chunk, a, b)))
    return items


def shown(mention: Mention) -> bool:
    """The statement says what the person did with the skill, not only that they list it."""
    if _SKILL_LIST.match(mention.statement):
        return False
    return bool(_DID.search(mention.statement)) or bool(
        _EXPERIENCE_HEADING.search(mention.heading) and len(mention.statement.split()) >= 6)
