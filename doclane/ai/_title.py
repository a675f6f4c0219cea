"""A document's title when its format gives none: plain text, emails, memos.

Readers take titles from metadata, ``<title>`` or the first heading
(``ExtractedDocument.title``). A plain-text file has none of these, but a
reader still sees a title: a ``Subject:``/``Re:`` line near the top (emails and
memos), else a first line that is short and reads like a title, not like a
sentence, a greeting or a ``Key: value`` line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from doclane.schemas.extraction import Chunk

__all__ = ["guess_title"]

_SUBJECT_RE = re.compile(r"^(?:subject|re|title|headline|subj)\s*:\s*(?P<value>\S.{2,150})$", re.I)
_MAX_WORDS = 14
_MAX_LINES = 12
# Markdown joins soft-wrapped "From: …  To: …  Subject: …" lines into one paragraph.
_INLINE_SUBJECT_RE = re.compile(r"\bSubject\s*:\s*(?P<value>\S.{2,150}?)(?=\s+[A-Z][\w-]*:\s|$)", re.M)
_GREETING_RE = re.compile(r"^(?:hi|hello|hey|dear|to|from|cc|date|good\s+\w+)\b", re.I)
_FIELD_RE = re.compile(r"^[\w][\w /&-]{0,30}:\s")
#: Keys of a first line whose value is no title.
_NOT_TITLE_KEYS = frozenset(["id", "date", "time", "author", "owner", "status", "version", "type",
                             "from", "to", "cc", "bcc", "sent", "attendees", "present", "account",
                             "ref", "reference", "phone", "email", "url", "rating", "price"])
#: Labels that say what kind of document it is, not what it is about.
_GENERIC = frozenset(["memo", "memorandum", "internal memo", "minutes", "notes", "letter", "email",
                      "report", "confidential", "draft", "untitled"])


def _clean(line: str) -> str:
    return " ".join(line.replace("#", " ").split()).strip(" *_=-")


def _title_key(key: str) -> bool:
    """"Take-Home Assignment: …" and "PROJECT BRIEF: …" are titles; "Note: the …" is not."""
    return len(key.split()) <= 4 and (key.istitle() or key.isupper()) and len(key.split()) > 1


def _named_by_field(line: str) -> str | None:
    """A first line "Minutes: Website Steering Group, 6 May" or, from JSON, "report: Third
    quarter results": a short value without a full stop names the document. A capitalised key
    is part of the title; a JSON key is not. Headers ("From:", "Date:") name nothing."""
    if not _FIELD_RE.match(line) or _GREETING_RE.match(line):
        return None
    key, value = (part.strip() for part in line.split(":", 1))
    if not value or len(value.split()) > 10 or value.endswith((".", ",", ";", "?", "!")):
        return None
    if key.lower() in _NOT_TITLE_KEYS or any(ch.isdigit() for ch in key):
        return None
    return line if key[:1].isupper() else value


def guess_title(chunks: Sequence[Chunk]) -> str | None:
    """The title a reader would give the document whose chunks these are, or None."""
    if not chunks:
        return None
    first = min(chunks, key=lambda c: c.index)
    if first.section_path:
        return first.section_path[0]
    lines = [_clean(x) for x in first.text.splitlines()]
    lines = [x for x in lines if x][:_MAX_LINES]
    for line in lines:
        match = _SUBJECT_RE.match(line)
        if match:
            return match.group("value").strip()
    inline = _INLINE_SUBJECT_RE.search(first.text[:600])
    if inline:
        return inline.group("value").strip()
    for line in lines:
        if line.lower().rstrip(":") in _GENERIC:
            continue  # "MEMORANDUM" above the real subject
        named = _named_by_field(line)
        if named is not None:
            return named
        if (
            len(line.split()) > _MAX_WORDS
            or line.endswith((".", ",", ";"))
            or _GREETING_RE.match(line)
            or (_FIELD_RE.match(line) and not _title_key(line.split(":", 1)[0]))
        ):
            return None
        return line
    return None
