"""Text plumbing for the local analyzer: segmentation, tokens, stopwords, stems.

Everything here is pure Python and deterministic. The central function,
:func:`segment`, turns raw chunk text into a flat list of :class:`Segment`
objects: sentences of running text and of list items, plus headings and
``Key: value`` field lines kept apart, so that later stages can tell a real
sentence from a heading fragment or a bullet stub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = [
    "DUE_COLUMNS",
    "OWNER_COLUMNS",
    "STOPWORDS",
    "Segment",
    "SegmentKind",
    "TASK_COLUMNS",
    "content_stems",
    "normalize_key",
    "segment",
    "split_sentences",
    "stem",
    "words",
]

SegmentKind = Literal["text", "bullet", "heading", "field"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One unit of text: a sentence, a list-item sentence, a heading or a field line."""

    text: str
    kind: SegmentKind
    #: Index of the block (paragraph, list item, heading) the segment came from.
    block: int
    #: For ``field`` segments, the key before the colon (the text is the value).
    key: str | None = None
    #: ``"open"`` for ``- [ ]`` items, ``"done"`` for ``- [x]``, else ``None``.
    checkbox: Literal["open", "done"] | None = None
    #: The nearest heading above the segment, if any.
    section: str | None = None


# A compact English stopword list (function words, auxiliaries, pronouns, very
# generic verbs and quantifiers). Written out here so nothing is downloaded.
STOPWORDS: frozenset[str] = frozenset(
    ["a", "about", "above", "across", "after", "afterwards", "again", "against", "all", "almost", "alone", "along", "already", "also", "although", "always", "am", "among", "amongst", "an", "and", "another", "any", "anybody", "anyhow", "anyone", "anything", "anyway", "anywhere", "are", "aren't", "around", "as", "at", "back", "be", "became", "because", "become", "becomes", "becoming", "been", "before", "beforehand", "behind", "being", "below", "beside", "besides", "between", "beyond", "both", "but", "by", "can", "cannot", "can't", "could", "couldn't", "did", "didn't", "do", "does", "doesn't", "doing", "don't", "done", "down", "during", "each", "either", "else", "elsewhere", "enough", "especially", "etc", "even", "ever", "every", "everybody", "everyone", "everything", "everywhere", "except", "few", "first", "for", "former", "formerly", "from", "further", "furthermore", "get", "gets", "getting", "got", "had", "hadn't", "has", "hasn't", "have", "haven't", "having", "he", "he'd", "he'll", "her", "here", "hereby", "herein", "hers", "herself", "he's", "him", "himself", "his", "how", "however", "i", "i'd", "if", "i'll", "i'm", "in", "indeed", "instead", "into", "is", "isn't", "it", "its", "it's", "itself", "i've", "just", "last", "later", "latter", "least", "less", "let", "let's", "lot", "lots", "many", "may", "maybe", "me", "meanwhile", "might", "mine", "more", "moreover", "most", "mostly", "much", "must", "mustn't", "my", "myself", "namely", "neither", "never", "nevertheless", "next", "no", "nobody", "none", "nor", "not", "nothing", "now", "nowhere", "of", "off", "often", "on", "once", "one", "ones", "only", "onto", "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own", "per", "perhaps", "quite", "rather", "re", "really", "regarding", "same", "see", "seem", "seemed", "seeming", "seems", "several", "shall", "shan't", "she", "she'd", "she'll", "she's", "should", "shouldn't", "since", "so", "some", "somehow", "someone", "something", "sometime", "sometimes", "somewhat", "somewhere", "still", "such", "than", "that", "that's", "the", "their", "theirs", "them", "themselves", "then", "thence", "there", "thereafter", "thereby", "therefore", "therein", "there's", "these", "they", "they'd", "they'll", "they're", "they've", "this", "those", "though", "through", "throughout", "thus", "to", "together", "too", "toward", "towards", "under", "unless", "until", "up", "upon", "us", "very", "via", "was", "wasn't", "we", "we'd", "well", "we'll", "were", "we're", "weren't", "we've", "what", "whatever", "what's", "when", "whence", "whenever", "where", "whereas", "whereby", "wherein", "whether", "which", "while", "who", "whoever", "whole", "whom", "whose", "why", "will", "with", "within", "without", "won't", "would", "wouldn't", "yet", "you", "you'd", "you'll", "your", "you're", "yours", "yourself", "yourselves", "you've", "said", "say", "says", "saying", "make", "makes", "made", "making", "take", "takes", "took", "taken", "use", "used", "uses", "using", "go", "goes", "went", "gone", "come", "comes", "came", "want", "wants", "need", "needs", "needed", "like", "likes", "liked", "know", "knows", "knew", "think", "thinks", "thought", "put", "puts", "give", "gives", "gave", "given", "tell", "told", "ask", "asked", "asks", "try", "tried", "keep", "kept", "seen", "look", "looks", "looked", "find", "found", "show", "shows", "showed", "shown", "feel", "felt", "new", "old", "good", "great", "bad", "best", "better", "worse", "worst", "big", "small", "large", "little", "long", "short", "high", "low", "full", "certain", "different", "various", "many", "much", "main", "able", "sure", "true", "real", "right", "left", "next", "last", "early", "late", "recent", "current", "particular", "general", "specific", "possible", "likely", "unlikely", "important", "thing", "things", "way", "ways", "kind", "kinds", "sort", "part", "parts", "lot", "bit", "time", "times", "day", "days", "week", "weeks", "month", "months", "year", "years", "today", "tomorrow", "yesterday", "please", "thanks", "thank", "ok", "okay", "yes", "hi", "hello", "dear", "regards", "kind", "best", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "hundred", "thousand", "million", "billion", "percent", "per", "cent", "around", "approximately", "approx", "e.g", "i.e", "vs", "via", "mr", "mrs", "ms", "dr"]
)

_ABBREV_NEVER = frozenset(
    ["mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "rev", "hon", "gen", "gov", "sen", "rep", "lt", "col", "capt", "sgt", "cmdr", "adm", "e.g", "i.e", "eg", "ie", "vs", "cf", "fig", "figs", "no", "nos", "vol", "vols", "pp", "approx", "ca", "dept", "est", "al", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ref", "refs", "sec", "eq", "eqs", "art", "ch", "para"]
)
_ABBREV_MAYBE = frozenset(["inc", "ltd", "co", "corp", "llc", "plc", "bros", "etc", "a.m", "p.m", "u.s", "u.k", "e.u", "u.n"])
_STARTERS = frozenset(
    ["the", "a", "an", "this", "that", "these", "those", "it", "its", "we", "our", "they", "their", "he", "she", "his", "her", "i", "you", "your", "in", "on", "at", "for", "but", "and", "however", "there", "here", "as", "if", "when", "while", "after", "before", "during", "although", "because", "since", "so", "then", "also", "finally", "overall", "next", "first", "second", "each", "all", "some", "many", "most", "no", "our"]
)

_BOUNDARY_RE = re.compile(r"([.!?…]+)([\"'”’)\]]*)(\s+)(?=[\"'“‘(\[@]?[A-Z0-9])")
_LIST_JOIN_RE = re.compile(r"([.!?]),\s+(?=[A-Z])")
_DOTTED_RE = re.compile(r"(?:[a-z]\.)+[a-z]")
_APOSTROPHE_RE = re.compile(r"['’]")
_MD_HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET_RE = re.compile(
    # "-", "1.", "a)", and clause numbers such as "7.2" when a capital follows
    r"^(?:[-*•·◦‣▪–—+]|\(?\d{1,3}[.)]|\d{1,3}(?:\.\d{1,3})+\.?(?=\s+[A-Z(])|\(?[a-z][.)])\s+"
)
# Letter openings and closings; a closing line starts the signature, which is skipped.
_GREETING_RE = re.compile(
    r"^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening))\b(?:[\s,]+[\w.'’-]+){0,3}"
    r"\s*[,!:]?$",
    re.I,
)
_CLOSING_RE = re.compile(
    r"^(?:(?:best|kind|warm|many)\s+(?:regards|wishes|thanks)|regards|thanks|thank\s+you|cheers|"
    r"sincerely|yours(?:\s+(?:truly|sincerely|faithfully))?|best|all\s+the\s+best)[,.!]?$",
    re.I,
)
_CHECKBOX_RE = re.compile(r"^\[([ xX])\]\s*")
_INLINE_KEY_RE = re.compile(r"(?<=[.!?]) (?=[a-z][a-z0-9]*(?:_[a-z0-9]+)*: \S)")
_RECORD_RE = re.compile(r"^\[\d{1,4}\]\s+(\S.*\S)$")
#: A table's columns as readers render its rows ("Restore alerts | Dev Raman | 11 Nov").
_CELL_SPLIT = " | "
#: What heads an actions table's columns (lower case): its tasks, who does them, by when. A row
#: of such a table becomes one block of fields under the canonical keys ``task``, ``owner`` and
#: ``due`` (the action reader's vocabulary; other columns keep their header).
TASK_COLUMNS = frozenset(["action", "actions", "action item", "action items", "task", "tasks", "what",
                          "next step", "next steps", "to do", "todo", "to-do", "todos", "follow-up",
                          "follow up", "follow-ups"])
OWNER_COLUMNS = frozenset(["owner", "owners", "who", "assignee", "assigned to", "responsible", "lead"])
DUE_COLUMNS = frozenset(["due", "due date", "deadline", "by when", "when", "by", "target date"])


def _column_key(header: str) -> str:
    name = header.lower()
    if name in TASK_COLUMNS:
        return "task"
    if name in OWNER_COLUMNS:
        return "owner"
    return "due" if name in DUE_COLUMNS else header


# "Owner: Maria", and the lower-case one-word keys of flattened JSON ("out_of_scope: …").
_FIELD_RE = re.compile(
    r"^([A-Z][\w&/@'’-]*(?:[ /-][\w&/@'’-]+){0,2}|[a-z][a-z0-9]*(?:[_.-][a-z0-9]+)*)\s*:\s+(\S.*)$"
)
_FIELD_KEY_BLOCKLIST = frozenset(
    ["the", "this", "that", "these", "those", "it", "we", "they", "i", "you", "he", "she", "there", "here", "our", "my", "note"]
)
_TERMINAL = (".", "!", "?", "…", '."', ".”", "!”", "?”", ".)", ".'")
_WORD_RE = re.compile(r"[^\W\d_][\w'’]*(?:-[\w'’]+)*")
_SPACE_RE = re.compile(r"[ \t\u00a0\u2000-\u200b]+")


def words(text: str) -> list[str]:
    """Return the word tokens of ``text`` (letters first; digits and hyphens allowed inside)."""
    return [w.rstrip("'’") for w in _WORD_RE.findall(text)]


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light, plural-only stemmer: enough to merge ``contract`` and ``contracts``."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    n = len(w)
    if n > 4 and w.endswith("ies") and not w.endswith(("eies", "aies")):
        return w[:-3] + "y"
    if n > 4 and w.endswith("sses"):
        return w[:-2]
    if n > 4 and w.endswith("es") and w[-3] in "sxz":
        return w[:-2]
    if n > 4 and w.endswith(("ches", "shes")):
        return w[:-2]
    if n > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous", "ics")):
        return w[:-1]
    return w


def content_stems(text: str) -> list[str]:
    """Stems of the non-stopword words of ``text``, for similarity computations."""
    return [stem(w) for w in _WORD_RE.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS]


def normalize_key(text: str) -> str:
    """A comparison key: lower-case words only, for de-duplicating sentences and items."""
    lowered = text.lower()
    return " ".join(_WORD_RE.findall(lowered) or lowered.split())


def _is_boundary(block: str, match: re.Match[str]) -> bool:
    if match.group(1) != ".":
        return True
    # Blocks have single spaces only (see segment()), so the token starts after one.
    end = match.start(1)
    bare = block[block.rfind(" ", 0, end) + 1 : end].lstrip("\"'“‘([{").lower()
    if bare in _ABBREV_NEVER:
        # "No. 5" and "Fig. 3" never end a sentence; "no." before a capital word may.
        return bare == "no" and not block[match.end() : match.end() + 1].isdigit()
    if len(bare) == 1 and bare.isalpha():
        return bare == "i"  # an initial ("J. Smith"), not the pronoun
    if bare in _ABBREV_MAYBE or _DOTTED_RE.fullmatch(bare):
        # "Acme Inc. The result…" ends a sentence; "Acme Inc. shares…" does not.
        first = _WORD_RE.search(block, match.end(), match.end() + 40)
        next_word = _APOSTROPHE_RE.split(first.group(0))[0].lower() if first else ""
        return next_word in _STARTERS
    return True


def split_sentences(block: str) -> list[str]:
    """Split one paragraph of running text into sentences.

    Handles abbreviations (``Dr.``, ``e.g.``, ``U.S.``), initials, decimals
    (``3.5`` never splits because no space follows the dot) and closing quotes.
    Sentences joined by ", " (a JSON list of sentences, as the reader flattens
    it: "…Oppedal., The ferry…") are taken apart again.
    """
    block = _LIST_JOIN_RE.sub(r"\1 ", block)
    out: list[str] = []
    start = 0
    for match in _BOUNDARY_RE.finditer(block):
        if _is_boundary(block, match):
            end = match.end(2)
            piece = block[start:end].strip()
            if piece:
                out.append(piece)
            start = match.end()
    tail = block[start:].strip()
    if tail:
        out.append(tail)
    return out


def _heading_like(line: str, prev_ends_sentence: bool, next_line: str | None) -> bool:
    if not prev_ends_sentence or not (line[:1].isupper() or line[:1].isdigit()):
        return False
    if line.endswith(":"):
        return len(line.split()) <= 8
    if line.endswith(_TERMINAL) or line.endswith((",", ";")) or len(line.split()) > 10:
        return False
    return next_line is None or next_line[:1].isupper() or next_line[:1].isdigit()


def _field(line: str) -> tuple[str, str] | None:
    m = _FIELD_RE.match(line)
    if m is None or m.group(1).split()[0].lower() in _FIELD_KEY_BLOCKLIST:
        return None
    if "://" in line[: m.end(1) + 3]:
        return None
    return m.group(1), m.group(2)


class _Builder:
    """Accumulates segments block by block, tracking the current section heading."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.block = 0
        self.section: str | None = None

    def heading(self, text: str) -> None:
        text = text.strip().rstrip(":").strip()
        if text:
            self.segments.append(Segment(text, "heading", self.block))
            self.section = text
            self.block += 1

    def field(self, key: str, value: str) -> None:
        for sentence in split_sentences(value):
            self.segments.append(Segment(sentence, "field", self.block, key, None, self.section))
        self.block += 1

    def prose(self, text: str, kind: SegmentKind, checkbox: Literal["open", "done"] | None) -> None:
        for sentence in split_sentences(text):
            self.segments.append(Segment(sentence, kind, self.block, None, checkbox, self.section))
        self.block += 1


def _join(lines: list[str]) -> str:
    text = ""
    for line in lines:
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
            text = text[:-1] + line  # a word hyphenated across a line break
        else:
            text = f"{text} {line}" if text else line
    return text


def _emit_paragraph(builder: _Builder, lines: list[str], before_list: bool) -> None:
    """Emit one paragraph, separating headings and field lines.

    The last line of a paragraph is usually the end of wrapped prose, not a
    heading, unless it stands alone or introduces a list that follows.
    """
    pending: list[str] = []
    for i, line in enumerate(lines):
        prev_ends = not pending or pending[-1].endswith(_TERMINAL)
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        field = _field(line) if prev_ends else None
        if field is not None:
            if pending:
                builder.prose(_join(pending), "text", None)
                pending = []
            builder.field(*field)
        elif _heading_like(line, prev_ends, nxt) and (nxt or before_list or len(lines) == 1):
            if pending:
                builder.prose(_join(pending), "text", None)
                pending = []
            builder.heading(line)
        else:
            pending.append(line)
    if pending:
        builder.prose(_join(pending), "text", None)


def segment(text: str) -> list[Segment]:
    """Segment chunk text into sentences, list items, headings and fields.

    Blank lines, Markdown headings and list markers always start a new block;
    hard-wrapped lines within a paragraph are re-joined (also across a
    hyphenated line break); short lines without final punctuation that stand
    on their own are headings; ``Key: value`` lines are fields.
    """
    builder = _Builder()
    paragraph: list[str] = []
    item: list[str] | None = None
    item_box: Literal["open", "done"] | None = None
    in_signature = False

    def flush(before_list: bool = False) -> None:
        nonlocal paragraph, item, item_box
        if paragraph:
            _emit_paragraph(builder, paragraph, before_list)
            paragraph = []
        if item is not None:
            if item:
                builder.prose(_join(item), "bullet", item_box)
            item, item_box = None, None

    # A chunk cut by size has its lines joined: "…chasing them. goal: A simple tool…" is two
    # JSON fields again, not one sentence.
    text = _INLINE_KEY_RE.sub("\n", text)
    #: The column names of the actions table being read, if any.
    columns: list[str] | None = None
    for raw in re.split(r"\r\n|[\r\n\f\v\u2028\u2029]", text):
        line = _SPACE_RE.sub(" ", raw).strip()
        cells = [c.strip() for c in line.split(_CELL_SPLIT)] if _CELL_SPLIT in line else []
        if columns is not None and len(cells) == len(columns):
            # A row of an actions table: one block of fields, so the task keeps its owner
            # and date ("task: Restore alerts", "owner: Dev Raman", "due: 11 Nov").
            for key, value in zip(columns, cells, strict=True):
                for sentence in split_sentences(value) if value else []:
                    builder.segments.append(Segment(sentence, "field", builder.block, key, None, builder.section))
            builder.block += 1
            continue
        columns = None
        keys = [_column_key(c) for c in cells]
        if "task" in keys and ("owner" in keys or "due" in keys):
            flush()
            columns = keys
            continue
        if not line:
            flush()
            in_signature = False
            continue
        if in_signature:
            continue
        if _CLOSING_RE.match(line) or _GREETING_RE.match(line):
            flush()
            in_signature = _CLOSING_RE.match(line) is not None
            continue
        heading = _MD_HEADING_RE.match(line)
        bullet = _BULLET_RE.match(line) or _CHECKBOX_RE.match(line)
        record = _RECORD_RE.match(line) if line.startswith("[") else None
        if record and all(_field(part) for part in record.group(1).split(" | ")):
            # A JSON list of objects, flattened "[0] owner: Elena | task: Revise…": one block
            # of fields per object, so the task and its owner stay together.
            flush()
            for part in record.group(1).split(" | "):
                key, value = _field(part) or ("", part)
                for sentence in split_sentences(value):
                    builder.segments.append(
                        Segment(sentence, "field", builder.block, key, None, builder.section))
            builder.block += 1
        elif heading:
            flush()
            builder.heading(heading.group(1))
        elif bullet:
            flush(before_list=True)
            body = line[bullet.end() :] if _BULLET_RE.match(line) else line
            box = _CHECKBOX_RE.match(body)
            item_box = None if box is None else ("open" if box.group(1) == " " else "done")
            item = [body[box.end() :] if box else body]
            if box is None and body.isupper() and len(body.split()) <= 8:
                builder.heading(body)  # "7. TERMINATION"
                item = None
        elif item is not None and not (raw[:1].isspace() or line[:1].islower()):
            # An unindented, capitalised line after a list item starts a new paragraph.
            flush()
            paragraph.append(line)
        elif item is not None:
            item.append(line)
        else:
            paragraph.append(line)
    flush()
    return [s for s in builder.segments if s.text.strip()]
