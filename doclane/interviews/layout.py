"""The layout of a job description: its statements and the headings each one sits under,
recognised by their place on the page rather than by the words they use.

A reader finds the headings of Markdown, HTML, DOCX and PDF (a chunk's section path); the
rest is read from the text:

- a *heading line*: a short line with no final punctuation that content follows (a bullet
  or a longer line). A run of short lines is a list (*Seeing the Big Picture* / *Working
  Together*), not headings over one another; a line of it heads what follows only when it
  names a part of a job description (*Key Skills*, *Benefits*) and no technology;
- a *lead-in*: a line ending with a colon (*It is essential that you can show evidence of
  the following:*) heads the lines after it;
- a *label*: a few words before a colon at the start of a line (*Key skills:*, *Need:*,
  *Plus:*) head the rest of that line, every sentence of it;
- a *table*: each cell is a statement, headed by its column's header (*Essential* /
  *Desirable*) when the header says what the column asks.

A lead-in, a label or a column header counts only when it says which part it is (asks,
offers, duties); otherwise the heading above it decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from doclane.schemas.documents import ChunkRecord

__all__ = ["BULLET", "asks_heading", "heading_at", "is_heading", "line_label", "section_kind", "statement_at",
           "statements"]

# A statement ends at a line break, at a table's cell separator, or after a sentence's final punctuation.
_STATEMENT_END = re.compile(r"\n+|[ \t]+\|[ \t]+|(?<=[.!?;])\s+(?=[\"'(\[]?[A-Z0-9•*-])")
BULLET = re.compile(r"^\s*(?:[-•*·▪]|\d{1,2}[.)])\s+")
_CELL = " | "
#: Headings of the parts of a job description that say what a candidate must (or may) bring.
_ASKS_HEADING = re.compile(
    r"requirement|required|qualification|need|essential|must|skills|about you|"
    r"who you are|what you bring|you have|we(?:'re| are) looking for|desirable|nice to have|preferred|bonus|"
    r"plus|experience|ideal candidate|person spec|you(?:'ll| will)? bring|competenc|good to have|"
    r"criteria|behaviours?|assess(?:ed)? you|tickets|licen[cs]es?|certific|stack|"
    r"^(?:you|yourself|your profile|is this you\??|the person|the candidate)$", re.I)
#: Headings of the parts that say what the employer gives, not what it asks: no skill sits there.
_OFFER_HEADING = re.compile(
    r"benefits|what we offer|we offer|perks|why join|why work|package|salary|compensation|rewards|"
    r"what you(?:'ll| will) get|what's in it|\bpay\b|location", re.I)
#: Headings of the duties: what a job description says the job does names its tools too.
_DUTY_HEADING = re.compile(
    r"responsibilit|what you.{0,12}(?:do|work on|be doing)|duties|the role|your role|day[- ]to[- ]day|"
    r"your impact|what you will|in this role|the job|about the (?:role|job)|purpose of the role|"
    r"you(?:'ll| will) work on|\bwill$", re.I)
#: A line that reads as a heading in plain text: short, no final punctuation, not a bullet.
_TEXT_HEADING = re.compile(r"^[ \t]*([A-Z][^\n.!?:;,|@•*]{0,50}?)[ \t]*:?[ \t]*$")
_HEADING_WORDS = 6
#: A label before a colon (or a dash) that opens a line: *Key skills:*, *Need:*, *Essential - *.
_LABEL = re.compile(r"[ \t]*(?:[-•*·▪][ \t]+)?([A-Za-z][\w'\u2019 &/-]{0,40}?)"
                    r"(?:[ \t]*:|[ \t]+[-\u2013\u2014])[ \t]+(?=\S)")
_LABEL_WORDS = 4
_LINE = re.compile(r"[^\n]*\S[^\n]*")
#: A word written like a technology (*SQL*, *PostgreSQL*, *NEWS2*): a line holding one names it.
_TECHNICAL = re.compile(r"\b(?:[A-Za-z]*[A-Z][a-z]*[A-Z]\w*|\w*\d\w*)\b")


def statements(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each statement of ``text``: bullets, lines, table cells and
    sentences, trimmed."""
    spans, start = [], 0
    for boundary in _STATEMENT_END.finditer(text):
        spans.append((start, boundary.start()))
        start = boundary.end()
    spans.append((start, len(text)))
    trimmed = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            trimmed.append((a, b))
    return trimmed


def statement_at(spans: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    for a, b in spans:
        if a <= start < b:
            return a, max(b, end)
    return start, end


def section_kind(heading: str) -> str:
    """What the part of a job description under ``heading`` says: ``offer`` (benefits, pay),
    ``asks`` (requirements, wishes) or ``other`` (duties, the company, the role)."""
    last = heading.split(" / ")[-1] if heading else ""
    if _OFFER_HEADING.search(last):
        return "offer"
    if _ASKS_HEADING.search(last):
        return "asks"
    if _DUTY_HEADING.search(last):
        return "duties"
    return "other"


def asks_heading(heading: str) -> bool:
    """Some heading of ``heading`` (a path) names a part that asks something of a candidate."""
    return any(_ASKS_HEADING.search(part) for part in heading.split(" / "))


def _heading_like(line: str) -> str | None:
    match = _TEXT_HEADING.match(line)
    if match is None or len(match.group(1).split()) > _HEADING_WORDS:
        return None
    return match.group(1)


@lru_cache(maxsize=512)
def _layout(text: str) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, int, str], ...],
                                  frozenset[int]]:
    """(heading lines as (start, name), lead-ins as (start, end, text), starts of the lines
    that are a heading or a table's header row)."""
    lines = [(m.start(), m.end(), m.group(0)) for m in _LINE.finditer(text)]
    like = [_heading_like(line) for _, _, line in lines]
    headings: list[tuple[int, str]] = []
    lead_ins: list[tuple[int, int, str]] = []
    not_content: set[int] = set()
    in_table = False
    for i, (start, end, line) in enumerate(lines):
        table_row = _CELL in line
        if table_row and not in_table and i + 1 < len(lines) and _CELL in lines[i + 1][2]:
            not_content.add(start)  # the header row names the columns ("Skills: Python | SQL" is no table)
        in_table = table_row
        name = like[i]
        if name is None:
            if line.rstrip().endswith(":") and not _LABEL.match(line):
                lead_ins.append((start, end, line.strip()))
                not_content.add(start)
            continue
        in_run = (i > 0 and like[i - 1] is not None) or (i + 1 < len(lines) and like[i + 1] is not None)
        if in_run and (section_kind(name) == "other" or _TECHNICAL.search(name)):
            continue  # an item of a list of short lines (Working Together, Strong SQL skills)
        headings.append((start, name))
        if not in_run:  # in a run it may be an item too (Experience with Git)
            not_content.add(start)
    return tuple(headings), tuple(lead_ins), frozenset(not_content)


def is_heading(chunk: ChunkRecord, start: int) -> bool:
    """The statement at ``start`` is a heading line, a lead-in or a table's header row: it
    names a part, it asks for nothing itself."""
    line_start = chunk.text.rfind("\n", 0, start) + 1
    return line_start in _layout(chunk.text)[2]


def _line_at(text: str, position: int) -> tuple[int, int]:
    """Where the line of ``position`` starts and ends (before its line break)."""
    line_end = text.find("\n", position)
    return text.rfind("\n", 0, position) + 1, line_end if line_end >= 0 else len(text)


def line_label(text: str, position: int) -> tuple[int, str] | None:
    """The label that opens the line of ``position`` (*Key skills*: ...) and where the text
    after it starts; ``None`` if the line has none."""
    match = _LABEL.match(text, *_line_at(text, position))
    if match is None or len(match.group(1).split()) > _LABEL_WORDS:
        return None
    return match.end(), match.group(1)


def _column_header(text: str, position: int) -> str | None:
    line_start, line_end = _line_at(text, position)
    line = text[line_start:line_end]
    if _CELL not in line:
        return None
    first = line_start
    while first > 0:
        previous = text.rfind("\n", 0, first - 1) + 1
        if _CELL not in text[previous:first - 1]:
            break
        first = previous
    if first == line_start:
        return None
    header_end = text.find("\n", first)
    header = text[first:header_end].split(_CELL)
    column = text[line_start:position].count(_CELL)
    return header[column].strip() if column < len(header) else None


def heading_at(chunk: ChunkRecord, position: int) -> str:
    """The headings above ``position``: the chunk's section path, then the last heading line
    or lead-in before it, the label of its line and its table column's header, each of the
    last three only when it says which part of the job description this is."""
    path = list(chunk.section_path)
    headings, lead_ins, _ = _layout(chunk.text)
    last = None
    for start, name in headings:
        if start >= position:
            break
        last = (start, name)
    for start, end, lead_in in lead_ins:
        if end > position:
            break
        if (last is None or start > last[0]) and section_kind(lead_in) != "other":
            last = (start, lead_in.rstrip(":"))
    if last is not None:
        path.append(last[1])
    label = line_label(chunk.text, position)
    for extra in (label[1] if label else None, _column_header(chunk.text, position)):
        if extra and section_kind(extra) != "other":
            path.append(extra)
    return " / ".join(path)
