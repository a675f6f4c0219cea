"""Pattern-based action items: who must do what, and by when.

A sentence is an action item when it carries an explicit marker (an open
``- [ ]`` box, ``TODO``, ``Action:``, a bullet under an "Action items" or
"Next steps" heading), a request ("Please send…", "Could you review…"), an
obligation of a person or role ("Maria will send…", "The vendor must
deliver…", "Tom to book…"), or an imperative / passive obligation / "due"
that comes with a deadline. Plain descriptive sentences ("The scheduler will
retry failed jobs") have none of these and are left alone: a future or modal
verb only counts with a person or role as subject and an action verb after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Literal

from doclane.ai._dates import find_deadline
from doclane.ai._grammar import Mood, moods
from doclane.ai._names import FIRST_NAMES, people_in
from doclane.ai._text import DUE_COLUMNS, OWNER_COLUMNS, Segment, normalize_key
from doclane.schemas.analysis import ActionItem

__all__ = ["ACTION_VERBS", "dedupe_actions", "extract_actions", "is_directive", "task_sentences"]

ACTION_VERBS = frozenset(
    ["add", "address", "agree", "copy", "ensure", "produce", "stop", "avoid", "bring", "disable", "draw", "encrypt", "explain", "include", "label", "list", "pack", "pass", "restore", "show", "sketch", "store", "tell", "use", "work",  "align", "analyse", "analyze", "announce", "answer", "apply", "approve", "archive", "arrange", "ask", "assess", "assign", "attach", "attend", "audit", "back", "benchmark", "book", "brief", "bring", "build", "buy", "calculate", "call", "cancel", "change", "check", "circulate", "clarify", "clean", "close", "collect", "communicate", "compile", "complete", "confirm", "consider", "contact", "coordinate", "correct", "create", "cut", "decide", "define", "delete", "deliver", "demo", "deploy", "design", "develop", "discuss", "distribute", "document", "double-check", "draft", "drive", "edit", "email", "escalate", "establish", "estimate", "evaluate", "examine", "expand", "file", "fill", "finalise", "finalize", "find", "fix", "follow", "forward", "gather", "get", "give", "handle", "help", "hire", "host", "identify", "implement", "improve", "inform", "install", "interview", "introduce", "investigate", "invite", "invoice", "issue", "keep", "launch", "lead", "let", "look", "mail", "make", "manage", "map", "measure", "meet", "merge", "migrate", "monitor", "move", "negotiate", "notify", "obtain", "onboard", "open", "order", "organise", "organize", "outline", "own", "pay", "pick", "pilot", "plan", "post", "prepare", "present", "print", "prioritise", "prioritize", "process", "procure", "produce", "propose", "provide", "publish", "purchase", "push", "put", "raise", "reach", "read", "rebook", "reconcile", "record", "reduce", "refund", "register", "reimburse", "release", "remind", "remove", "renew", "reply", "report", "request", "reschedule", "research", "reserve", "resolve", "respond", "restart", "return", "revert", "review", "revise", "rewrite", "run", "schedule", "secure", "select", "send", "set", "settle", "share", "ship", "sign", "sort", "start", "submit", "summarise", "summarize", "supply", "sync", "take", "talk", "test", "track", "train", "transfer", "translate", "update", "upgrade", "upload", "validate", "verify", "visit", "write"]
)
_ROLE = (
    r"(?:team|manager|lead|owner|engineer|developer|designer|admin|administrator|analyst|"
    r"architect|vendor|supplier|contractor|subcontractor|consultant|client|customer|buyer|"
    r"seller|tenant|landlord|employee|employer|candidate|applicant|committee|board|department|"
    r"director|officer|coordinator|assistant|secretary|chair|chairperson|representative|agent|"
    r"partner|party|parties|provider|licensee|licensor|lessee|lessor|auditor|accountant|"
    r"lawyer|counsel|legal|finance|hr|marketing|sales|ops|operations|qa|pm|ceo|cfo|cto|coo|vp|"
    r"staff|everyone|attendees|participants|members?|recruiter|reviewer|organi[sz]er|heads?|"
    r"payroll|logistics|procurement|facilities|support|engineering|security|compliance|"
    r"translators?|authors?|residents?|tenants?|students?|managers)"
)
_NAME = r"(?:[A-Z]\.\s?)?[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?"
_TITLE = r"(?:Dr|Mr|Mrs|Ms|Prof)\.?"
_NAMES = rf"{_NAME}(?:\s*(?:,|\band\b|&)\s*{_NAME})*"
_MODAL = (
    r"(?:will(?:\s+need\s+to)?|'ll|’ll|shall|must|should|needs?\s+to|has\s+to|have\s+to|"
    r"(?:is|are)\s+(?:to|responsible\s+for|expected\s+to|going\s+to|supposed\s+to|required\s+to|"
    r"tasked\s+with|asked\s+to|assigned\s+to)|agreed\s+to|volunteered\s+to|offered\s+to|"
    r"promised\s+to|committed\s+to|to)"
)
_OBLIGATION_RE = re.compile(
    # An opening clause may come first: "Upon termination, the Customer shall pay…". One
    # word before a comma must be an adverb, or "Maria, Tom and Priya will…" loses Maria.
    r"^(?:(?:[A-Z][\w'’-]*(?:\s+[\w'’-]+){1,6}|(?i:however|additionally|meanwhile|finally|"
    r"otherwise|therefore|ideally|today|tomorrow|afterwards|then|also|next)),\s+)?"
    r"(?:(?i:also|then|next|so|and|finally|first|afterwards),?\s+)?"
    r"(?P<subj>@[\w.-]+|(?i:(?:(?:the|our|your|each|every|all|a)\s+)?(?:[\w-]+\s+)?"
    rf"{_ROLE}s?)\b|(?:I|[Ww]e|[Yy]ou|[Hh]e|[Ss]he|[Tt]hey)\b|(?:{_TITLE}\s+)?{_NAMES})"
    rf"\s*(?P<modal>(?i:{_MODAL}))\s+"
    r"(?:(?i:also|then|please|now|first|immediately|promptly|personally)\s+)?"
    r"(?P<verb>[A-Za-z-]+)"
)
_ROLE_END_RE = re.compile(rf"\b{_ROLE}s?$", re.IGNORECASE)
_NAME_WORD_RE = re.compile(r"[A-Za-z'’-]+")
_Verdict = Literal["yes", "with_deadline", "no"]
_PRONOUNS = frozenset(["i", "we", "you", "he", "she", "they"])
_NOT_NAMES = frozenset(
    ["the", "this", "that", "these", "those", "it", "its", "there", "here", "our", "your", "their", "each", "every", "all", "some", "any", "no", "a", "an", "if", "when", "while", "after", "before", "once", "then", "in", "on", "at", "for", "with", "without", "by", "overall", "also", "however"]
)
_CLAUSE_RE = re.compile(r"^\(?\d{1,3}(?:\.\d{1,3})*[.)]?\s+(?=[A-Z(])")
_MARKER_RE = re.compile(
    r"^(?:todo|to-do|to do|action(?:\s+items?)?|next\s+steps?|follow[- ]?ups?|tasks?)\s*[:\-–—]\s+",
    re.IGNORECASE,
)
_MARKER_KEYS = frozenset(
    ["todo", "to-do", "to do", "action", "action item", "action items", "next step", "next steps", "follow-up", "follow up", "followup", "task", "tasks"]
)
_SECTION_RE = re.compile(
    r"^(?:action\s+items?|actions|next\s+steps?|to-?dos?|to\s+do|tasks|follow[- ]?ups?|"
    r"open\s+items|assignments|owners?\s+and\s+deadlines)\b",
    re.IGNORECASE,
)
_DIRECTIVE_SECTION_RE = re.compile(
    r"\b(?:you\s+(?:should|must|need\s+to|will\s+need\s+to|are\s+asked\s+to)|deliverables?|"
    r"what\s+(?:to\s+do|you\s+(?:need|have)\s+to\s+do)|your\s+tasks?|checklist|submission|"
    r"please\s+(?:send|provide|submit|bring|prepare))\b",
    re.IGNORECASE,
)
# A requirement on a system ("Suggestions must appear…") is not a person's task.
_MODAL_CLAUSE_RE = re.compile(r"\b(?:must|should|shall|will|can)\b", re.IGNORECASE)
_TODO_RE = re.compile(r"\b(?:TODO|FIXME)\b")
_PLEASE_RE = re.compile(r"\b(?:please|pls|kindly)\s+(?P<verb>[a-z-]+)", re.IGNORECASE)
_PLEASE_NOT = frozenset(["note", "find", "see", "be", "feel", "accept", "enjoy", "excuse", "forgive", "bear", "refer"])
_REQUEST_RE = re.compile(
    r"^(?:(?:@[\w.-]+|[A-Z][a-z]+),?\s+)?(?:can|could|would|will)\s+you\s+(?:please\s+)?"
    r"(?P<verb>[a-z-]+)",
    re.IGNORECASE,
)
# "I expect a full refund…", "We ask the Planning Department to inspect…": the writer asks
# the reader for something, the way complaints and requests put it.
_ASK_RE = re.compile(
    r"^(?:I|We)\s+(?:(?:also|therefore|now|kindly)\s+)?(?:(?:would\s+like|am\s+asking|are\s+asking)\b|"
    r"(?:request|ask|demand|require|urge)\b|(?<=I )expect\b|want\s+(?!to\b))",
)
# "You may discuss the questions, but you must write your own answers."
_YOU_MUST_RE = re.compile(
    r"\b(?:but|and|so|then)\s+you\s+(?:must|should|need\s+to|have\s+to|are\s+required\s+to)\s+"
    r"(?!not\b|be\b)[a-z]+", re.IGNORECASE
)
_FUTURE_RE = re.compile(r"^(?:will|'ll|’ll|(?:is|are)\s+going\s+to)\b", re.IGNORECASE)
_LEAD_RE = re.compile(r"^(?:(?P<who>@[\w.-]+|[A-Z][a-z]+)\s*[,:–—-]\s*)?(?P<verb>[A-Za-z-]+)\b")
_IMPERATIVE_NEXT_NOT = frozenset(["of", "is", "was", "are", "were", "and", "or", "has", "have", "had"])
_DETERMINERS = frozenset(
    ["the", "a", "an", "your", "all", "any", "each", "every", "this", "these", "those", "our", "their",
     "my", "his", "her", "its", "at", "it", "them", "us", "me", "him", "up", "out", "to", "in", "on",
     "two", "three", "four", "five", "ten", "one", "no", "only", "clear"]
)
_CONDITION_RE = re.compile(r"^(?:if|when|once|before|after|while|during|for|in\s+case)\b[^,]{3,80},\s+", re.I)
_FINITE_RE = re.compile(r"^(?:[a-z]{3,}ed|is|are|was|were|has|had|will|can|could|would|may)$")
_PASSIVE_RE = re.compile(
    r"\b(?:must|should|shall|needs?\s+to|has\s+to|have\s+to|(?:is|are)\s+(?:required|expected)\s+to)"
    r"\s+be\s+(?!able\b|a\b|an\b|the\b|on\b|in\b|at\b)[a-z]{3,}\b",
    re.IGNORECASE,
)
_DUE_RE = re.compile(r"(?<!\bwas )(?<!\bwere )\bdue\b(?!\s+to\b)", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w.])@([A-Za-z][\w.-]*[A-Za-z0-9])")
_OWNER_TAG_RE = re.compile(
    rf"(?i:\bowner\s*[:=]?\s*|\bassigned\s+to\s+|\bresponsible\s*:\s*)(?P<who>@?{_NAME})"
)
_LEAD_NAME_RE = re.compile(  # "Maria: send…", "John, please send…"
    rf"^(?P<who>{_NAME})(?:\s*[:–—]\s+\S|,\s+(?:please|pls|kindly|(?:can|could|would)\s+you)\b)"
)
_MAX_TEXT = 300
#: Fields that say who does, and by when, a task in the same record (a flattened JSON object)
#: or actions-table row (whose columns the segmenter names ``owner`` and ``due``).
_OWNER_KEYS = OWNER_COLUMNS | {"assigned_to"}
_DUE_KEYS = DUE_COLUMNS | {"due_date"}
_HEADER_KEYS = frozenset(["subject", "re", "title", "from", "to", "cc", "date", "headline", "note"])
_THANKS_RE = re.compile(r"^(?:\w+\s+){0,3}(?:thanks?|thank\s+you)\b", re.IGNORECASE)
_AND_TASK_RE = re.compile(
    rf",?\s+and\s+(?:please\s+)?(?=(?:{'|'.join(sorted(ACTION_VERBS, key=len, reverse=True))})\s"
    r"(?:the|a|an|your|my|our|their|all|any|HR)\b)"
    r"|,\s+and\s+(?=I\s+(?:want|expect|request|ask)\b)"
)
_PLEASE_MID_RE = re.compile(r"[,;]\s+(?:so|and|but)?\s*(?:please|kindly)\s+(?P<verb>[a-z-]+)", re.IGNORECASE)


def _base_verb(word: str) -> str | None:
    w = word.lower()
    if w in ACTION_VERBS:
        return w
    if w.endswith("ing") and len(w) > 5:
        stem = w[:-3]
        for cand in (stem, stem + "e", stem[:-1]):
            if cand in ACTION_VERBS:
                return cand
    return None


def _clean_owner(subject: str) -> str | None:
    subject = subject.strip().lstrip("@")
    first = subject.split()[0].lower() if subject else ""
    if not subject or first in _PRONOUNS:
        return None
    if first in {"the", "our", "your", "each", "every", "all", "a"}:
        subject = subject.split(None, 1)[1] if " " in subject else subject
    return subject


def _obligation(text: str, people: frozenset[str]) -> tuple[_Verdict, str | None]:
    """Whether ``text`` puts an obligation on a person or role, and who that is.

    A capitalised subject that is not a role must look like a person (a common
    given name, or one the text introduced in ``people``); otherwise only the
    note style "Name to …" or a deadline makes the intent plain: "Kafka will
    deliver the event" is a description, "Maria will send the deck" an action.
    The owner is returned even when the verb is not an action verb, for items
    another rule finds ("Tom will benchmark…" under "Action items").
    """
    m = _OBLIGATION_RE.match(text)
    if m is None:
        return "no", None
    subject, modal, verb = m.group("subj"), m.group("modal").lower(), m.group("verb")
    if verb.lower() in {"not", "never", "no", "be", "have", "been"}:
        return "no", None
    first = subject.split()[0].lower()
    is_role = _ROLE_END_RE.search(subject) is not None
    is_name = first not in _PRONOUNS and not is_role and subject[:1].isupper()
    if is_name and first in _NOT_NAMES:
        return "no", None
    if modal == "to" and not (is_name or subject.startswith("@")):
        return "no", None  # "Name to send…" is note style; "the plan to send…" is not
    owner = _clean_owner(subject)
    if _FUTURE_RE.match(modal) and (first in _PRONOUNS or (is_role and not is_name)):
        # "We will ask you to walk through your code", "Legal will review the terms next
        # week": statements about the future, not tasks the text gives anyone.
        return "no", owner
    if _base_verb(verb) is None:
        return "no", owner
    if is_name and modal != "to":
        names = {w.lower() for w in _NAME_WORD_RE.findall(subject)} - {"and"}
        if not names & (FIRST_NAMES | people):
            return "with_deadline", owner
    return "yes", owner


def _owner_hint(text: str, key: str | None) -> str | None:
    m = _MENTION_RE.search(text)
    if m:
        return m.group(1)
    if key and key.lower() not in _MARKER_KEYS and key[:1].isupper() and len(key.split()) <= 2:
        return key
    for regex in (_OWNER_TAG_RE, _LEAD_NAME_RE):
        found = regex.search(text)
        if found and found.group("who").split()[0].lower() not in _NOT_NAMES:
            return found.group("who").lstrip("@")
    return None


def _imperative(text: str) -> bool:
    """Whether ``text`` opens with a bare action verb used as an order.

    A leading condition is skipped ("If you need a file, copy it…"). After the
    verb a determiner makes it an order ("Use the glossary…"); otherwise a
    finite verb later in the clause makes it a statement ("Record temperatures
    across Spain pushed…", "Order volumes doubled by March"), and a capitalised
    word a heading ("Open Questions").
    """
    condition = _CONDITION_RE.match(text)
    if condition:
        text = text[condition.end() :]
        text = text[:1].upper() + text[1:]
    lead = _LEAD_RE.match(text)
    if not lead or lead.group("verb").lower() not in ACTION_VERBS or text.endswith("?"):
        return False
    if not lead.group("verb")[:1].isupper() and lead.group("who") is None:
        return False  # a fragment cut mid-sentence at a chunk edge
    clause = text[lead.end() :].replace(",", " ").split()
    if not clause:
        return True
    if len(clause) <= 2 and not text.endswith((".", "!")):
        return False  # a label ("Design review recording", "Open questions")
    head = clause[0].lower()
    if head in _DETERMINERS:
        return True
    if head in _IMPERATIVE_NEXT_NOT or clause[0][:1].isupper():
        return False
    return not any(_FINITE_RE.match(w) for w in clause[1:12])


def _verdict(seg: Segment, text: str, obligation: _Verdict, mood: Mood) -> _Verdict:
    """Whether ``text`` (a segment without its marker prefix) is an action item.

    ``"with_deadline"`` means only if a deadline is found: an imperative, a
    passive obligation or "due" in a sentence without one is usually an
    instruction or a description ("Review of the results shows…").
    """
    if seg.checkbox == "open" or obligation == "yes":
        return "yes"
    if ("TODO" in text or "FIXME" in text) and _TODO_RE.search(text):
        return "yes"
    if seg.kind == "field" and seg.key and seg.key.lower() in _MARKER_KEYS:
        return "yes"
    if seg.kind in ("bullet", "field") and seg.section and _SECTION_RE.match(seg.section):
        return "yes" if len(text.split()) >= 2 else "no"
    if seg.kind == "bullet" and seg.section and _DIRECTIVE_SECTION_RE.search(seg.section):
        # "You should deliver:", "Deliverables", "What to do": each item is a task, even a
        # noun phrase ("A high-fidelity prototype in Figma.").
        return "yes" if len(text.split()) >= 3 and not _MODAL_CLAUSE_RE.search(text) else "no"
    lowered = text.lower()
    if "please" in lowered or "pls" in lowered or "kindly" in lowered:
        please = _PLEASE_RE.search(text)
        if please and please.group("verb").lower() not in _PLEASE_NOT:
            return "yes"
    request = _REQUEST_RE.match(text)
    if request and _base_verb(request.group("verb")):
        return "yes"
    if _ASK_RE.match(text) or _YOU_MUST_RE.search(text):
        return "yes"
    if obligation == "with_deadline":
        return obligation
    if _imperative(text) and not mood.statement:
        # An order, in a list or in prose: "Write unit tests for…", "Send revised deck by
        # Friday". ("Order volumes doubled by March" is not one: a finite verb follows.)
        return "yes"
    if ("due" in lowered and _DUE_RE.search(text)) or _PASSIVE_RE.search(text):
        return "with_deadline"
    return "no"


def _split_tasks(text: str) -> list[str]:
    """One sentence, one task each: "Please correct my bills, and stop the debit…" is two."""
    parts = [p.strip(" ,") for p in _AND_TASK_RE.split(text)]
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return [text]
    return [p[:1].upper() + p[1:] for p in parts]


def extract_actions(
    segments: Sequence[Segment],
    section: str | None = None,
    sentence_moods: Sequence[Mood] | None = None,
) -> list[ActionItem]:
    """Find action items with their owner and deadline, in text order, without duplicates.

    ``section`` is the chunk's own heading (readers keep headings out of the chunk text),
    used for segments that have no heading above them in the text. ``sentence_moods`` are
    :func:`task_sentences`' moods when the caller parsed them already.
    """
    items: list[ActionItem] = []
    people = people_in(segments)
    texts = [_task_sentence(seg) for seg in segments]
    # "owner: Elena" next to "task: Revise…" in one record (a flattened JSON object).
    block_owner = {seg.block: seg.text.rstrip(".") for seg in segments
                   if seg.kind == "field" and seg.key and seg.key.lower() in _OWNER_KEYS}
    block_due = {seg.block: seg.text.rstrip(".") for seg in segments
                 if seg.kind == "field" and seg.key and seg.key.lower() in _DUE_KEYS}
    task_blocks = {seg.block for seg in segments
                   if seg.kind == "field" and seg.key and seg.key.lower() in _MARKER_KEYS}
    parsed = sentence_moods if sentence_moods is not None else moods(texts)
    for seg, text, mood in zip(segments, texts, parsed, strict=True):
        if seg.kind == "heading" or seg.checkbox == "done" or len(text) < 8:
            continue
        if seg.block in task_blocks and seg.key and seg.key.lower() in _OWNER_KEYS | _DUE_KEYS:
            continue  # who and when of the task beside it (a table row, a record), not a task
        due = block_due.get(seg.block) if seg.block in task_blocks else None
        if seg.section is None and section:
            seg = replace(seg, section=section)
        obligation, subject = _obligation(text, people)
        if mood.kind == "prohibition":
            continue  # "Please don't spend more than four hours on this"
        tasks = _parsed_tasks(mood, seg, people)
        if tasks:
            # The parse found an order, an obligation of a person or a request: one item per
            # task it sets, worded from the task's verb ("Make sure you remove…" -> "Remove…").
            owner = _owner_hint(text, seg.key) or mood.owner or subject or block_owner.get(seg.block)
            for task in tasks:
                items.append(ActionItem(text=_shorten(task), owner=owner,
                                        deadline=find_deadline(task) or find_deadline(text) or due))
            continue
        verdict = _verdict(seg, text, obligation, mood)
        if verdict == "no":
            continue
        deadline = find_deadline(text) or due
        if verdict == "with_deadline" and deadline is None:
            continue
        owner = _owner_hint(text, seg.key) or subject or block_owner.get(seg.block)
        please = _PLEASE_MID_RE.search(text)
        if please and please.group("verb").lower() in ACTION_VERBS:
            text = text[please.start("verb") :]  # "…cut off, so please keep labels short."
            text = text[:1].upper() + text[1:]
        for part in _split_tasks(text):
            items.append(ActionItem(text=_shorten(part), owner=owner,
                                    deadline=find_deadline(part) or deadline))
    return dedupe_actions(items)


def task_sentences(segments: Sequence[Segment]) -> list[str]:
    """The text the parser reads for each segment ("" for headings and ticked boxes)."""
    return [_task_sentence(seg) for seg in segments]


def _task_sentence(seg: Segment) -> str:
    """A segment's text without clause numbers and markers ("Action: …"); "" for headings."""
    if seg.kind == "heading" or seg.checkbox == "done":
        return ""
    return _MARKER_RE.sub("", _CLAUSE_RE.sub("", seg.text)).strip()


def _parsed_tasks(mood: Mood, seg: Segment, people: frozenset[str]) -> list[str]:
    """The tasks of an order, request or personal obligation, without courtesies ("Feel free…",
    "Thank you for…") and header fields ("Subject: …")."""
    if mood.kind not in ("imperative", "obligation", "request"):
        return []
    if seg.kind == "field" and seg.key and seg.key.lower() in _HEADER_KEYS:
        return []
    if mood.modal == "will":
        # "Maria will send…" records an assignment; "Orbis will hold its summit…" does not.
        names = {w.lower() for w in _NAME_WORD_RE.findall(mood.owner or "")}
        if not names & (FIRST_NAMES | people):
            return []
    return [t for t in mood.tasks
            if len(t.split()) >= 2 and t.split()[0].lower() not in _PLEASE_NOT
            and not _THANKS_RE.search(t)]


def _shorten(text: str) -> str:
    """An item's text: a task, not a sentence, so without its full stop; at most _MAX_TEXT chars."""
    text = text[:-1] if text.endswith(".") and not text.endswith("..") else text
    if len(text) <= _MAX_TEXT:
        return text
    return text[: _MAX_TEXT - 1].rsplit(" ", 1)[0] + "…"


def _overlaps(a: str, b: str) -> bool:
    """Whether one key contains the other and is most of it (a sentence cut at a chunk edge)."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 0.6 * len(long_) and short in long_


def dedupe_actions(items: Iterable[ActionItem]) -> list[ActionItem]:
    """Drop repeated items (also ones cut short at a chunk edge), merging owner and deadline."""
    kept: list[tuple[str, ActionItem]] = []
    for item in items:
        key = normalize_key(item.text)
        for i, (other_key, other) in enumerate(kept):
            if key == other_key or _overlaps(key, other_key):
                longer = item if len(key) > len(other_key) else other
                kept[i] = (
                    max(key, other_key, key=len),
                    ActionItem(
                        text=longer.text,
                        owner=longer.owner or item.owner or other.owner,
                        deadline=longer.deadline or item.deadline or other.deadline,
                    ),
                )
                break
        else:
            kept.append((key, item))
    return [item for _, item in kept]


_DIRECTIVE_RE = re.compile(
    r"\b(?:must|shall|should|(?:is|are)\s+(?:required|expected|asked)\s+to|needs?\s+to|has\s+to|"
    r"have\s+to|required|mandatory|please|kindly|(?:you|we|I)\s+(?:will|'ll|’ll))\b",
    re.IGNORECASE,
)


def is_directive(text: str) -> bool:
    """Whether ``text`` instructs or requires rather than evaluates.

    Orders, obligations, requirements, requests and announcements of what
    will happen carry no sentiment, however friendly their words: "Please
    include a clear README" is not praise, "Reviews must be fast" not a verdict.
    """
    text = _MARKER_RE.sub("", _CLAUSE_RE.sub("", text)).strip()
    return _DIRECTIVE_RE.search(text) is not None or _imperative(text) or _ASK_RE.match(text) is not None
