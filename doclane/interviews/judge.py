"""A learnt judge of which named things a job description asks of a candidate.

The rules (:mod:`doclane.interviews.requirements`) were written from the job descriptions they
were tuned on; on job descriptions in other voices they found half to three quarters of the
skills a recruiter lists. The judge widens the net and lets a model trained on many writers' job
descriptions decide: every *candidate* name is gathered (what the rules keep, the NER model's
SKILL spans, the lexicon's names anywhere, every noun phrase and every name-shaped run of up to
five words of a statement), described by where and how the JD names it (its part of the JD, its
heading's and statement's words, the words before and after it, its place in the parse, whether
its statement asks something, is a wish, speaks of what the employer provides, its shape, and
MiniLM's reading of its meaning, and how often recruiters of other writers' job descriptions
listed the same name and names ending in the same word: :class:`NamePriors`), and a logistic
regression trained by ``models/jdskills`` says how likely a recruiter would list it. Of two
kept names that overlap in every statement (*CPA* and *CPA designation*), the likelier stays.

Features are dictionaries of names (a ``DictVectorizer`` turns them into columns), computed
here for training and at run time alike, so the two cannot drift.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from doclane.ai._parser import parse
from doclane.ai.embeddings.minilm import MiniLMEmbedder
from doclane.interviews.layout import BULLET, heading_at, is_heading, section_kind, statements
from doclane.interviews.names import ADJECTIVE, EDGES, NOT_SKILL, name_parts, tidy
from doclane.interviews.profiles import Mention, skill_mentions
from doclane.interviews.requirements import asked_skills, asks, candidates_in, is_wish, phrase_skills
from doclane.interviews.skills import canonical, generic
from doclane.schemas.documents import ChunkRecord
from doclane.schemas.enrichment import EntityLabel

__all__ = ["KIND", "Candidates", "NamePriors", "SkillJudge", "candidate_features", "decide", "load_judge"]

logger = logging.getLogger(__name__)

#: A job description's candidate skills: canonical name -> (features, mentions).
Candidates = dict[str, tuple[dict[str, float], list[Mention]]]

#: The artefact's kind: ``models_dir / "jdskills-<hash>"``, trained by ``models/jdskills``.
KIND = "jdskills"
#: The longest run of words a statement gives as a candidate.
_MAX_WORDS = 5
_STOP = frozenset("""
a an the and or of in on at to for with by from as is are be this that these those our your their its
we you they it our any all some other such more most very also etc e.g i.e per via i he she them us
""".split())  # noqa: SIM905 - a word list reads better as text
_PERSON = re.compile(r"\b(?:we|our|us|you|your)\b", re.I)
#: A statement about what the employer teaches or provides, not what it asks.
_PROVIDED = re.compile(r"\b(?:training|train you|trained on|induction|learn|taught|teach you|we use|"
                       r"we run|our (?:stack|tools?|platform|systems?)|provided|given)\b", re.I)
_WORD = re.compile(r"[\w+#.&/'-]+")
#: The name's meaning (MiniLM's unit vector of the canonical name) weighs like this many
#: binary features would: what a *micrometer* or a *will* is, for names no JD of training named.
_MEANING_WEIGHT = 3.0


def _shape(name: str) -> dict[str, float]:
    words = name.split()
    lower = [w.lower() for w in words]
    feats = {f"words={min(len(words), 4)}": 1.0, f"last={lower[-1]}": 1.0, f"first={lower[0]}": 1.0}
    flags = {
        "upper_first": name[:1].isupper(),
        "inner_upper": any(c.isupper() for c in name[1:]),
        "acronym": len(name) >= 2 and name.isupper(),
        "digit": any(c.isdigit() for c in name),
        "symbol": any(c in "+#./&" for c in name),
        "ing": lower[-1].endswith("ing"),
        "adjective_first": len(words) > 1 and bool(ADJECTIVE.search(lower[0])),
        "generic": generic(name),
        "not_skill": canonical(name) in NOT_SKILL,
        "stop_edge": lower[0] in _STOP or lower[-1] in _STOP,
    }
    feats.update({k: 1.0 for k, v in flags.items() if v})
    return feats


def _context(m: Mention, spans_here: Sequence[tuple[int, int, str]], skill: str) -> set[str]:
    """Where and how one mention sits: ``spans_here`` are every candidate's mentions in its statement."""
    statement = m.statement
    kind = section_kind(m.heading)
    out = {f"kind={kind}"}
    if asks(statement, m.heading):
        out.add("asks")
    if is_wish(statement, m.heading, m.offset):
        out.add("wish")
    if _PERSON.search(statement):
        out.add("person")
    if _PROVIDED.search(statement):
        out.add("provided")
    out.update(f"heading={w}" for w in _WORD.findall(m.heading.split(" / ")[-1].lower()) if len(w) > 2)
    out.update(f"says={w}" for w in _WORD.findall(statement.lower()) if len(w) > 2)
    lead = len(statement) - len(BULLET.sub("", statement))
    if lead:
        out.add("bullet")
    if len(statement.split()) <= 6:
        out.add("short_statement")
    if m.offset < 0:
        return out
    if m.offset <= lead:
        out.add("opening")
    before = [w.lower() for w in _WORD.findall(statement[:m.offset])][-2:]
    after = [w.lower() for w in _WORD.findall(statement[m.offset + len(m.name):])][:1]
    out.add(f"left1={before[-1] if before else '<s>'}")
    out.add(f"left2={' '.join(before) if len(before) == 2 else '<s>'}")
    out.add(f"right1={after[0] if after else '</s>'}")
    if statement[:m.offset].count("(") > statement[:m.offset].count(")"):
        out.add("bracket")
    if statement.count(",") >= 2 or " | " in statement:
        out.add("listy")
    if ":" in statement[:m.offset]:
        out.add("after_colon")
    end = m.offset + len(m.name)
    out |= _grammar(statement, m.offset, end)
    for a, b, other in spans_here:
        if other == skill:
            continue
        if a <= m.offset and end <= b and b - a > end - m.offset:
            out.add("inside")
        elif m.offset <= a and b <= end and end - m.offset > b - a:
            out.add("contains")
    return out


#: Parts of speech a name may begin with, end with, and hold inside (*Federal Rules of Civil
#: Procedure*, *IAS 16*, *CM/ECF e-filing*, *driver's licence*).
_NAME_START = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "VERB", "X"})
_NAME_END = frozenset({"NOUN", "PROPN", "NUM", "X"})
_NAME_INSIDE = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "PART", "X", "VERB"})
_JOINERS = frozenset({"of", "and", "&", "-", "/", "'s", "for", "in"})


def _grammar(statement: str, start: int, end: int) -> set[str]:
    """How the words at ``start:end`` of ``statement`` sit in its parse: their parts of speech,
    whether the phrase goes on to the left or right (a fragment of a longer name), and what
    the phrase hangs on (*knowledge of* X, *using* X)."""
    doc = parse(statement)
    if doc is None:
        return set()
    tokens = [t for t in doc if start <= t.idx < end]
    if not tokens:
        return set()
    first, last = tokens[0], tokens[-1]
    out = {f"pos_first={first.pos_}", f"pos_last={last.pos_}", f"tag_first={first.tag_}"}
    if first.i > 0:
        before = doc[first.i - 1]
        out.add(f"before_pos={before.pos_}")
        if before.pos_ in ("NOUN", "PROPN", "ADJ") and before.whitespace_:
            out.add("goes_on_left")
    if last.i + 1 < len(doc):
        after = doc[last.i + 1]
        out.add(f"after_pos={after.pos_}")
        if after.pos_ in ("NOUN", "PROPN") and last.whitespace_:
            out.add("goes_on_right")
    inside = {t.i for t in tokens}
    roots = [t for t in tokens if t.head.i not in inside or t.head.i == t.i]
    if roots:
        root = roots[-1]
        out.add(f"dep={root.dep_}")
        if root.head.i != root.i:
            out.add(f"hangs_on={root.head.lower_}")
            governor = root.head.head if root.head.dep_ == "prep" else root.head
            out.add(f"governor={governor.lower_}")
    return out


def _noun_phrase_names(statement: str, known: frozenset[str]) -> list[str]:
    """Runs of up to five words of ``statement`` shaped like a name (nouns, adjectives and
    numbers, joined by *of*, *and*, hyphens, slashes), and its noun phrases tidied of
    determiners and qualifiers (:func:`doclane.interviews.names.tidy`)."""
    doc = parse(statement)
    if doc is None:
        return []
    names = [tidy(chunk.text, known) for chunk in doc.noun_chunks]
    tokens = list(doc)
    for i, first in enumerate(tokens):
        if first.pos_ not in _NAME_START or first.lower_ in _STOP:
            continue
        for j in range(i, min(len(tokens), i + 8)):
            token = tokens[j]
            inside = token.pos_ in _NAME_INSIDE or token.lower_ in _JOINERS
            if (j > i and not inside) or token.lower_ in (",", ";"):
                break
            text = statement[first.idx:token.idx + len(token.text)]
            if len(text.split()) > _MAX_WORDS:
                break
            if token.pos_ in _NAME_END and token.lower_ not in _STOP:
                names.append(text)
    return [n for n in names if n and n[0].isalnum() and n[-1].isalnum() and re.search(r"[A-Za-z]", n)
            and n.split()[0].lower() not in _STOP and n.split()[-1].lower() not in _STOP]


def candidate_features(doc_id: str, chunks: Sequence[ChunkRecord], known: frozenset[str],
                       rule_skills: frozenset[str], *, lexicon: Sequence[tuple[str, str]] | None = None,
                       phrases: Sequence[tuple[str, str]] | None = None) -> Candidates:
    """Every candidate skill of a job description (canonical name) with its features and mentions.

    ``rule_skills`` are the skills the rules keep (required or preferred); ``lexicon`` and
    ``phrases`` what :func:`~doclane.interviews.requirements.asked_skills` and
    :func:`~doclane.interviews.requirements.phrase_skills` found, when the caller has them."""
    sources: dict[str, set[str]] = {}
    named: dict[str, str] = {}

    def add(name: str, source: str) -> None:
        key = canonical(name)
        if key and len(key) <= 60:
            sources.setdefault(key, set()).add(source)
            named.setdefault(key, name.strip(EDGES))

    for _, name in asked_skills(chunks, known) if lexicon is None else lexicon:
        add(name, "lexicon_asked")
    for _, name in phrase_skills(chunks, known) if phrases is None else phrases:
        add(name, "phrase")
    for chunk in chunks:
        for entity in chunk.entities or ():
            if entity.label is EntityLabel.SKILL:
                for part in name_parts(tidy(entity.text, known) or entity.text, known):
                    add(part, "ner")
        for a, b in statements(chunk.text):
            if is_heading(chunk, a) or section_kind(heading_at(chunk, a)) == "offer":
                continue
            statement = chunk.text[a:b]
            for key in candidates_in(statement, known):
                add(key, "lexicon")
            for name in _noun_phrase_names(statement, known):
                add(name, "noun")
    mentions = skill_mentions(doc_id, chunks, known, list(named.items()), lenient=True)
    by_statement: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for skill, found in mentions.items():
        for m in found:
            if m.offset >= 0:
                by_statement.setdefault((m.span.chunk_index, m.span.start), []).append(
                    (m.offset, m.offset + len(m.name), skill))
    out = {}
    skills = list(mentions)
    vectors = _embedder().embed_sync(skills)
    for skill, vector in zip(skills, vectors, strict=True):
        found = mentions[skill]
        name = named.get(skill, found[0].name)
        feats = _shape(name)
        feats.update({f"meaning{i}": float(x) * _MEANING_WEIGHT for i, x in enumerate(vector)})
        feats.update({f"source={s}": 1.0 for s in sources.get(skill, ())})
        if skill in known:
            feats["known"] = 1.0
        if skill in rule_skills:
            feats["rule"] = 1.0
        contexts = [_context(m, by_statement.get((m.span.chunk_index, m.span.start), []), skill)
                    for m in found]
        for context in contexts:
            feats.update(dict.fromkeys(context, 1.0))
        feats["mentions"] = math.log1p(len(found))
        feats["asks_share"] = sum("asks" in c for c in contexts) / len(contexts)
        feats["wish_share"] = sum("wish" in c for c in contexts) / len(contexts)
        feats["inside_share"] = sum("inside" in c for c in contexts) / len(contexts)
        out[skill] = (feats, found)
    return out


@lru_cache(maxsize=1)
def _embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(threads=1)


#: How many candidates' worth of the base rate a name's own count is smoothed towards.
_PRIOR_SMOOTHING = 5


@dataclass(frozen=True)
class NamePriors:
    """How often the recruiters of the training job descriptions listed a candidate name, and any
    name ending in its last word (*... act*, *... licence*, *... skills*): per key, (times it was a
    candidate, times a recruiter listed it), and the share of all candidates listed.

    The model learns how far to trust these from rows whose counts leave their own writer out,
    as a new writer's job description meets them at run time."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    base: float = 0.0

    @staticmethod
    def keys(skill: str) -> tuple[str, str]:
        return f"name:{skill}", f"last:{skill.split()[-1]}"

    @classmethod
    def tally(cls, labelled: Iterable[tuple[str, int]]) -> NamePriors:
        """The priors of ``(canonical name, 1 when listed else 0)`` pairs."""
        seen: Counter[str] = Counter()
        listed: Counter[str] = Counter()
        total = positives = 0
        for skill, label in labelled:
            total, positives = total + 1, positives + label
            for key in cls.keys(skill):
                seen[key] += 1
                listed[key] += label
        return cls({key: (n, listed[key]) for key, n in seen.items()}, positives / max(total, 1))

    def without(self, other: NamePriors) -> NamePriors:
        """These counts less ``other``'s (which were tallied from a part of the same rows)."""
        counts = {}
        for key, (n, listed) in self.counts.items():
            less = other.counts.get(key, (0, 0))
            if n > less[0]:
                counts[key] = (n - less[0], listed - less[1])
        total = sum(n for key, (n, _) in counts.items() if key.startswith("name:"))
        positives = sum(p for key, (_, p) in counts.items() if key.startswith("name:"))
        return NamePriors(counts, positives / max(total, 1))

    def features(self, skill: str) -> dict[str, float]:
        out = {}
        for kind, key in zip(("name", "last"), self.keys(skill), strict=True):
            n, listed = self.counts.get(key, (0, 0))
            smoothed = (listed + _PRIOR_SMOOTHING * self.base + 1e-6) / (n + _PRIOR_SMOOTHING)
            out[f"prior_{kind}"] = math.log(smoothed)
            out[f"prior_{kind}_seen"] = math.log1p(n)
        return out


class SkillJudge:
    """The trained model: a probability per candidate, and the threshold chosen in training."""

    def __init__(self, model: Any, threshold: float, version: str,
                 manifest: dict[str, Any] | None = None, priors: NamePriors | None = None) -> None:
        self.model = model
        self.threshold = threshold
        self.version = version
        #: What training wrote beside the model (its selection's figures, its writers).
        self.manifest = manifest or {}
        self.priors = priors or NamePriors()

    def probabilities(self, found: Candidates) -> dict[str, float]:
        """Each candidate's probability of being a skill a recruiter would list."""
        if not found:
            return {}
        skills = list(found)
        rows = [found[s][0] | self.priors.features(s) for s in skills]
        return dict(zip(skills, (float(p) for p in self.model.predict_proba(rows)[:, 1]), strict=True))

    def asked(self, doc_id: str, chunks: Sequence[ChunkRecord], known: frozenset[str],
              rule_skills: frozenset[str], *, lexicon: Sequence[tuple[str, str]] | None = None,
              phrases: Sequence[tuple[str, str]] | None = None) -> dict[str, list[Mention]]:
        """The skills the job description asks for, each with its mentions."""
        found = candidate_features(doc_id, chunks, known, rule_skills, lexicon=lexicon, phrases=phrases)
        return decide(found, self.probabilities(found), self.threshold)


def decide(found: Candidates, probability: dict[str, float], threshold: float) -> dict[str, list[Mention]]:
    """The candidates kept at ``threshold``, each with its mentions, but those outranked."""
    kept = {s for s in found if probability[s] >= threshold}
    return {s: found[s][1] for s in found
            if s in kept and not _outranked(s, found[s][1], kept, found, probability)}


def _outranked(skill: str, mentions: list[Mention], kept: set[str], found: Candidates,
               probability: dict[str, float]) -> bool:
    """Every mention of ``skill`` overlaps a more likely kept skill's mention in the same
    statement (*CPA* and *CPA designation*: one name, the likelier reading wins)."""
    for m in mentions:
        if m.offset < 0:
            return False
        end = m.offset + len(m.name)
        if not any(o.span.chunk_index == m.span.chunk_index and o.span.start == m.span.start
                   and o.offset < end and m.offset < o.offset + len(o.name)
                   and (probability[other], other) > (probability[skill], skill)
                   for other in kept if other != skill for o in found[other][1]):
            return False
    return True


@lru_cache(maxsize=4)
def _load(path: Path) -> SkillJudge:
    import json

    import joblib

    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    saved = joblib.load(path / "model.joblib")
    if not isinstance(saved, dict):  # jdskills-lr@1, before the priors: its columns ignore theirs
        return SkillJudge(saved, float(manifest["threshold"]), manifest["version"], manifest)
    priors = NamePriors({key: (n, listed) for key, (n, listed) in saved["priors"]["counts"].items()},
                        float(saved["priors"]["base"]))
    return SkillJudge(saved["model"], float(manifest["threshold"]), manifest["version"], manifest, priors)


def load_judge(models_dir: Path) -> SkillJudge | None:
    """The trained judge, or ``None`` (the rules decide alone) when there is none."""
    from doclane.ai._artefacts import artefact_path

    try:
        path = artefact_path(models_dir, KIND, what="job description skill model", missing=FileNotFoundError)
    except FileNotFoundError as exc:
        logger.warning("%s; job descriptions are read by the rules alone", exc)
        return None
    return _load(path)
