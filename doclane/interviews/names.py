"""Skill names as a job description's requirement phrases write them, reduced to the name:
without determiners, qualifiers (*strong*, *hands-on*), head nouns that only say what kind of
thing it is (*skills*, *systems*, *qualification*), versions, what is done with it (*building*
Flows) or where (*C++ for microcontrollers*); lists split at commas, *and*, *or* and slashes
between names (*pandas/NumPy*), never inside a name the lexicon knows (*health and safety*).

Used by :mod:`doclane.interviews.requirements` for the phrases the parse and the cue words
find, and for the SKILL spans the NER model tags.
"""

from __future__ import annotations

import re

from doclane.interviews.skills import NAME_SUFFIXES, canonical, generic

__all__ = ["ADJECTIVE", "ADJECTIVE_ENDINGS", "DETERMINER", "EDGES", "HEAD_NOUN", "LEAD_QUALIFIER",
           "MAX_PHRASE_WORDS", "NOT_SKILL", "NOT_SKILL_START", "PART_SPLIT", "PREPOSITION", "TITLE_PHRASE",
           "name_parts", "phrase_names", "tidy", "without_version"]

#: What a job description's duty bullets begin with: verbs and adjectives the NER model
#: sometimes tags as a skill (*Build* the services, *Own* the roadmap, *Comfortable* with SQL).
NOT_SKILL_START = frozenset("""
build keep own run plan write assess give recognise recognize support teach troubleshoot design model
monitor review lead work take answer prepare manage help deliver maintain create develop drive ensure
coordinate handle advise carry produce check integrate use report make track talk turn explain
comfortable competent confident able familiar experience experienced strong solid good excellent
order train process reconcile expert hold spot onboard submit present analyse analyze answer look
investigate set prepare reply
""".split())  # noqa: SIM905 - a word list reads better as text
#: Names that a NER SKILL span holds but that no one lists as a skill.
NOT_SKILL = frozenset({"customers", "customer", "email", "phone", "chat", "team", "teams", "data", "people",
                        "students", "patients", "staff", "clients", "clear", "expert", "desirable", "a",
                        "an", "the", "essential", "required", "preferred", "ideal", "ideally", "master",
                        "master's", "masters", "bachelor", "bachelor's", "bachelors", "ba/bs", "bs/ba"})
LEAD_QUALIFIER = re.compile(r"^(?:(?:strong|solid|good|great|excellent|proven|clear|sound|deep|advanced|"
                             r"basic|ideally|preferably|uk|us|british|european|eu|"
                             r"working|hands-on|commercial|professional|intermediate|recognised|recognized|"
                             r"thorough|practical|demonstrable|confident|full|clean|reliable|current|valid|"
                             r"expert|effective|outstanding|exceptional|good working)\s+)+", re.I)
#: Where a list of names splits: commas, *and*, *or*, a spaced slash (*Istio / Linkerd*) and a
#: slash between names of three letters or more (*pandas/NumPy*, *HTML/CSS*, not *A/B*, *CI/CD*).
PART_SPLIT = re.compile(r",\s*|\s+(?:and|or|and/or|&)\s+|\s+/\s+|\s*/\s*(?=[a-z])|"
                        r"(?<=\w{3})/(?=[A-Za-z]\w\w)")
DETERMINER = re.compile(
    r"^(?:(?:an?|the|any|your|our|their|its|own|some|one|whose|which|of|with|on|in|at|at least|least|but|and|"
    r"or|\d+\+?|level\s+\d+|"
    r"\d+\s*\+?\s*(?:y|yrs?|years?|months?)\+?(?:\s+of)?)\s+)+", re.I)
_VAGUE = re.compile(r"^(?:another|other|similar|some|relevant|related|equivalent|above|below|higher)\b", re.I)
MAX_PHRASE_WORDS = 3
#: Words after a skill that only say what kind of thing it is (*PLC systems*, *negotiation skills*,
#: *a dental nursing qualification*, *B2B sales experience*).
HEAD_NOUN = re.compile(r"(?:\s+(?:skills?|systems?|casework|frameworks?|regulations|techniques|principles|"
                        r"matters|works|experience|knowledge|qualifications?|certificates?|card|background|fundamentals|"
                        r"understanding|abilities|ability|service|services|expertise|licence|license|degree|training|"
                        r"pipelines?|level\s+\d+|scripting|programming|coding|administration|apps|certification|"
                        r"applications|models|qualified|certified|accredited)|(?-i:(?<=[A-Z\d]))\s+level)+$",
                        re.I)
PREPOSITION = re.compile(r"\b(?:in|with|of|for|on|at|to|from)\b", re.I)
#: A version after a name: *Python 3.10+*, *Postgres 15*, *Angular v17*, *Terraform 1.x*.
_VERSION = re.compile(r"\s+v?\d+(?:\.(?:\d+|x))*\+?$", re.I)
EDGES = " \t\n.,;:()[]{}\"'"
_PRONOUNS = frozenset({"you", "we", "they", "i", "he", "she", "it", "your", "our", "their", "my", "this",
                       "that"})
#: A number on its own (*3 years*, *Level 3*), not one inside a name (*B2B*, *NEWS2*, *AZ-104*).
_NUMBER = re.compile(r"(?<![\w-])\d+(?:[.\u2013-]\d+)?\+?(?![\w-])|"
                     r"^(?:one|two|three|four|five|six|seven|eight|nine|ten|a few|several|many)\s", re.I)
#: A word written like a product or a standard: *NEWS2*, *GDPR*, *PyTorch*.
_TECHNICAL_WORD = re.compile(r"^\w(?=\w*[A-Z0-9])\w+$")


def without_version(name: str, known: frozenset[str]) -> str:
    """``name`` without a trailing version when what remains is a known skill (*Python 3* ->
    *Python*); *Level 3* and *18th Edition* stay as they are."""
    bare = _VERSION.sub("", name)
    return bare if bare != name and canonical(bare) in known else name


#: A subject or a body written as a name with *and* in it: *Health and Social Care*.
TITLE_PHRASE = re.compile(r"^[A-Z][a-z'-]+(?: [A-Z][a-z'-]+)* (?:and|&) [A-Z][a-z'-]+(?: [A-Z][a-z'-]+)?$")


def phrase_names(phrase: str, known: frozenset[str] = frozenset(), opening: bool = True) -> list[str]:
    """The skills a requirement's phrase lists: *three-phase motors and inverters*, *a tool
    such as Klaviyo or Mailchimp* (what follows *such as*), at most three words each; a known
    name is not split (*health and safety regulations*). A phrase that ``opening`` a statement
    may begin with a duty verb (*Build* ...); one after a cue begins with a noun (*knowledge of
    design for manufacture*)."""
    if re.search(r"\bsuch as\b", phrase, re.I):
        phrase = re.split(r"\bsuch as\b", phrase, maxsplit=1, flags=re.I)[1]
    phrase = phrase.split("(")[0]
    whole = tidy(phrase, known)
    words = whole.split()
    if len(words) > MAX_PHRASE_WORDS and _TECHNICAL_WORD.match(words[0]) and not PART_SPLIT.search(whole):
        return [words[0]]  # "the NEWS2 early warning score": NEWS2
    if whole and (canonical(whole) in known or canonical(HEAD_NOUN.sub("", whole)) in known):
        parts = [whole]
    elif TITLE_PHRASE.match(whole) and not any(canonical(p) in known for p in PART_SPLIT.split(whole)):
        return [whole]  # "Health and Social Care": one subject, written as a name
    else:
        parts = PART_SPLIT.split(phrase)
    names = []
    tidied = [tidy(raw, known) for raw in parts]
    if len(tidied) > 1 and generic(tidied[-1]) and all(len(p.split()) == 1 for p in tidied[:-1]):
        return []  # "finance and operations teams": the words share a head that names no skill
    for raw in parts:
        part = tidy(raw, known)
        words = part.split()
        if not words or len(words) > MAX_PHRASE_WORDS or _VAGUE.match(part) or not re.search(r"\w", part):
            continue
        if ((opening and words[0].lower() in NOT_SKILL_START) or words[0].lower() in _PRONOUNS
                or (len(words) == 1 and part.islower() and part in NOT_SKILL_START and part not in known)
                or canonical(part) in NOT_SKILL
                or generic(part) or (_NUMBER.search(part) and canonical(part) not in known)):
            continue
        if len(words) == 1 and part[1:].islower() and canonical(part) not in known \
                and ADJECTIVE.search(part):
            continue  # "electrical", "written", "Patient": adjectives split off their noun
        joined = _JOINED_NAME.match(part)
        if joined and canonical(joined.group(1)) in known:
            names.append(joined.group(1))  # "Git-based workflows": Git
            continue
        names.append(part)
    return names


#: A name written in capitals word by word after *the*: *the Working Time Directive*.
_PROPER_NAME = re.compile(r"^the\s+((?:[A-Z][\w'-]*\s+(?:(?:of|and|for|on)\s+)?){1,5}[A-Z][\w'-]*)$")


#: Endings of adjectives that a list splits off their noun: *electrical* (qualification), *written* (and
#: verbal communication), *Patient* (, clear communication).
ADJECTIVE_ENDINGS = r"al|en|ive|ous|ful|ible|able|ic|(?<!m)ent"
ADJECTIVE = re.compile(rf"(?:{ADJECTIVE_ENDINGS}|ly)$", re.I)
_JOINED_NAME = re.compile(r"^([\w+#.]+)-" + NAME_SUFFIXES + r"\b")
_SLASH = re.compile(r"(?<=\w{3})/(?=[A-Za-z]\w\w)|\s+/\s+")


def name_parts(name: str, known: frozenset[str]) -> list[str]:
    """The names a slash joins (*pandas/NumPy*: pandas, NumPy), or ``name`` itself when it is
    one (*CI/CD*, *A/B testing*, a name the lexicon knows)."""
    if canonical(name) in known or not _SLASH.search(name):
        return [name]
    return [part.strip() for part in _SLASH.split(name) if part.strip()]


#: What one does with a named thing, before its name: *building* Flows, *using* Excel.
_DOING = re.compile(r"^[a-z]+ing\s+(?=[A-Z])")


_CUE_LEAD = re.compile(r"^(?:experience|knowledge|understanding|familiarity|proficiency|expertise)\s+"
                       r"(?:of|in|with)\s+", re.I)
_WISH_AFTER = re.compile(r"\s+(?:preferably|ideally|preferred|desirable|essential|required)$", re.I)
_TECHNICAL_NAME = re.compile(r"[A-Z0-9+#]")
#: A name and what it is for or where: *C++ for microcontrollers*, *Python in production*; a
#: name in lower case keeps it (*design for manufacture*).
_POSTMODIFIER = re.compile(r"^(.+?)\s+(?:for|in|on|at|within)\s+\S.*$", re.I)


def tidy(part: str, known: frozenset[str]) -> str:
    part = part.strip(EDGES)
    proper = _PROPER_NAME.match(part)
    if proper:
        return proper.group(1)  # "Working" there is part of the name, not a qualifier
    for _ in range(2):  # "a strong", "strong, clear"
        part = DETERMINER.sub("", LEAD_QUALIFIER.sub("", part.strip(EDGES)))
    part = _WISH_AFTER.sub("", _DOING.sub("", _CUE_LEAD.sub("", part)))
    cut = _POSTMODIFIER.match(part)
    if cut and canonical(cut.group(1)) in known and _TECHNICAL_NAME.search(cut.group(1)):
        part = cut.group(1)  # "C++ for microcontrollers": C++
    part = without_version(part, known)
    if canonical(part) not in known:
        bare = HEAD_NOUN.sub("", part)
        # "driving licence" is not "driving": a credential named by an activity keeps its noun
        part = part if re.fullmatch(r"[a-z]+ing", bare) and re.search(r"(?:licen[cs]e|card)$", part) else bare
    return part.strip(EDGES)
