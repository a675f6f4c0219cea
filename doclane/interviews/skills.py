"""Skill names as people write them, reduced to one canonical name to match on.

*K8s* and *Kubernetes*, *Postgres* and *PostgreSQL*, *JS* and *JavaScript* are the same
skill to a recruiter. The table is short on purpose: it holds the abbreviations and
spellings that differ in more than case and punctuation; the rest match by their
normalised form (case, spaces, a trailing ``.js``/``js`` left as written).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

__all__ = ["NAME_SUFFIXES", "canonical", "clean_skill", "generic", "known_skills", "surface_pattern"]

_ALIASES = {
    "k8s": "kubernetes",
    "postgres": "postgresql",
    "psql": "postgresql",
    "js": "javascript",
    "ecmascript": "javascript",
    "ts": "typescript",
    "golang": "go",
    "nodejs": "node.js",
    "node": "node.js",
    "reactjs": "react",
    "react.js": "react",
    "vuejs": "vue",
    "vue.js": "vue",
    "ml": "machine learning",
    "dl": "deep learning",
    "nlp": "natural language processing",
    "gcp": "google cloud",
    "google cloud platform": "google cloud",
    "amazon web services": "aws",
    "ms excel": "excel",
    "microsoft excel": "excel",
    "ci/cd": "ci/cd",
    "cicd": "ci/cd",
    "continuous integration": "ci/cd",
    "rest": "rest apis",
    "restful apis": "rest apis",
    "rest api": "rest apis",
    "sklearn": "scikit-learn",
    "tf": "tensorflow",
    "c sharp": "c#",
    "cpp": "c++",
    "py": "python",
    "python3": "python",
    "mongo": "mongodb",
    "apache kafka": "kafka",
    "apache spark": "spark",
    "amazon s3": "s3",
    "eye for detail": "attention to detail",
    "an eye for detail": "attention to detail",
    "detail-oriented": "attention to detail",
}

_SPACE = re.compile(r"\s+")
_EDGES = " \t\n.,;:()[]{}\"'"


def canonical(name: str) -> str:
    """The name to match on: lower case, single spaces, known aliases resolved."""
    key = _SPACE.sub(" ", name.strip(_EDGES)).lower()
    return _ALIASES.get(key, key)


#: Words that name no skill by themselves: a name made only of them ("professional experience",
#: "streaming platform", "relevant tools") asks for nothing an interview could probe.
_GENERIC = frozenset({"professional", "experience", "experienced", "years", "year", "knowledge", "ability",
                      "abilities", "background", "platform", "platforms", "streaming", "system", "systems",
                      "tool", "tools", "technology", "technologies", "solution", "solutions", "service",
                      "services", "environment", "environments", "skills", "skill", "relevant", "related",
                      "similar", "modern", "production", "industry", "field", "role", "work", "data",
                      "deployment", "deployments", "portfolio", "problems", "issues", "technical", "tests",
                      "subject", "area", "areas", "discipline", "degree", "card", "certificate", "level",
                      "record", "records", "team", "teams", "models", "code", "numbers", "story", "stories",
                      "customers", "clients", "users", "people", "stakeholders", "senior", "junior",
                      "commercial", "good", "great", "qualification", "qualifications", "applications",
                      "apps", "app", "features", "products", "product", "projects", "project", "sites",
                      "site", "business", "company", "companies", "office", "hand", "week", "day", "time",
                      "things", "other", "others", "equivalent", "plus", "bonus", "advantage", "software",
                      "someone", "anyone", "you", "candidate", "candidates", "understanding", "exposure",
                      "familiarity", "proficiency", "working", "expertise", "way", "grasp", "eye", "track",
                      "workloads", "workload", "knack", "flair", "aptitude", "difference",
                      "control", "approach", "year's", "month's", "week's", "key"})
#: Last words of a name that make it a job or a place of work, not a skill (*an SRE role*).
_NOT_SKILL_END = frozenset({"role", "roles", "position", "positions", "environment", "environments", "team",
                            "teams", "setting", "settings", "company", "companies", "firm", "chef", "manager",
                            "engineer", "developer", "nurse", "assistant", "supervisor", "officer", "analyst",
                            "consultant", "designer", "technician", "kitchen", "office", "warehouse",
                            # people a job works with or for: *non-technical staff*, *senior audiences*
                            "staff", "colleagues", "users", "customers", "clients", "people", "patients",
                            "students", "pupils", "children", "stakeholders", "audiences", "owners",
                            "tenants", "members", "managers"})


def generic(name: str) -> bool:
    """Every word of ``name`` is one that names no skill by itself, or it names a job or a place
    of work (*an infrastructure role*), or an activity on nothing in particular (*shaping data*)."""
    words = [w for w in re.split(r"[\s/-]+", canonical(name)) if w]
    if not words:
        return False
    if words[-1] in _NOT_SKILL_END:
        return True
    if len(words) > 1 and words[0].endswith("ing") and all(w in _GENERIC for w in words[1:]):
        return True
    return all(w in _GENERIC for w in words)


def _names_of(skill: str) -> set[str]:
    return {skill} | {alias for alias, target in _ALIASES.items() if target == skill}


#: What a hyphen joins to a name without making another one: *Git-based*, *API-first*.
NAME_SUFFIXES = r"(?:based|driven|first|native|hosted|powered|centric|heavy|focused|led|enabled|compatible)"


@lru_cache(maxsize=8192)  # compiling one costs ~1 ms, and re's own cache keeps only 512
def surface_pattern(skill: str, *names: str) -> re.Pattern[str]:
    """A pattern that finds ``skill`` under any of its names as a whole word.

    Names of one or two letters (*Go*, *R*, *C#* is three) match only as written,
    capitalised, since in lower case they are ordinary words. A slash joins two names
    (*pandas/NumPy*) unless one side is a letter or two (*A/B*, *CI/CD*, *TCP/IP*); a hyphen
    makes a longer name (*Python-like*), except before a suffix such as *-based*.
    """
    parts = []
    for name in sorted(_names_of(skill) | {n.strip(_EDGES) for n in names}, key=len, reverse=True):
        if not name:
            continue
        if len(name.rstrip("#+")) <= 2:
            forms = {name} if name != name.lower() else {name.upper(), name.capitalize()}
            parts.append("(?-i:" + "|".join(re.escape(f) for f in sorted(forms)) + ")")
        else:
            parts.append(re.escape(name))
    return re.compile(r"(?<![\w@#+.&-])(?<!(?<!\w\w\w)/)(?:" + "|".join(parts) + r")"
                      r"(?![\w+#@&]|\.\w|-(?!" + NAME_SUFFIXES + r"\b)\w|/(?!\w{3}))", re.IGNORECASE)


#: Words a document puts before a skill that are not part of it (*strong* Python,
#: *hands-on* Kubernetes, *experience with* Kafka).
_QUALIFIERS = re.compile(
    r"^(?:(?:strong|solid|good|great|excellent|deep|proven|hands-on|advanced|basic|working|expert|"
    r"fluent|comfortable|introduced|modern|professional|practical|"
    r"experience (?:with|in|of)|knowledge of|proficiency (?:in|with)|proficient (?:in|with)|"
    r"familiarity with|exposure to|understanding of)\s+)+", re.I)
_TECHNICAL = re.compile(r"[A-Z0-9+#./]")
_MAX_WORDS = 3


def clean_skill(text: str, known: frozenset[str]) -> str | None:
    """The skill a SKILL mention names, without qualifiers; ``None`` if it is not one.

    The NER model tags spans such as *Strong Python* or *professional experience
    building backend services*. A name is kept when the skill lexicon knows it, or when
    it is short and written like a technology (a capital, a digit, ``+``, ``#``, ``.``).
    """
    name = _QUALIFIERS.sub("", text.strip(_EDGES)).strip(_EDGES)
    if not name:
        return None
    if canonical(name) in known:
        return name
    if len(name.split()) > _MAX_WORDS or not _TECHNICAL.search(name):
        return None
    return name


@cache
def known_skills(models_dir: Path) -> frozenset[str]:
    """The canonical names of the NER model's skill lexicon (empty before ``make models``)."""
    from doclane.ai.ner import model_path
    from doclane.ai.ner.spacy_ner import SKILL_LEXICON

    path = model_path(models_dir) / SKILL_LEXICON
    if not path.is_file():
        return frozenset()
    names = (line.strip().lstrip("?").strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(canonical(n) for n in names if n and not n.startswith("#"))
