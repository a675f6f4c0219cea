"""Cutting a chunk into passages an embedding model reads whole.

A chunk (up to ~4,000 characters) is far more than MiniLM's 256-word-piece
window, and one vector for a whole chunk would average many topics into none.
Passages are cut, in order of preference, at paragraph breaks, line breaks (lists
and table rows), sentence ends, then spaces, and only then inside a word. Each
passage after the first starts with the end of the one before it: whole trailing
sentences (or lines) that fit in ``overlap_chars``, else the last words that do,
so a fact stated across a cut is still whole in one passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from doclane.schemas.extraction import Chunk

__all__ = ["OVERLAP_SHARE", "chunk_passages", "split_passages"]

#: Passages that follow each other overlap by this share of the model's passage size.
OVERLAP_SHARE = 0.15

_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_LINE = re.compile(r"[ \t]*\n[ \t]*")
# A sentence ends with terminal punctuation, maybe closing quotes or brackets, then space.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+")


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    sep: str  # joins it to the unit before: "\n\n", "\n", " " or "" (inside a word)


def chunk_passages(chunk: Chunk, passage_chars: int) -> list[str]:
    """The passages the indexer writes for ``chunk`` with a model reading ``passage_chars``
    (the benchmarks cut them the same way): :func:`split_passages` with the usual overlap."""
    return split_passages(chunk, passage_chars, int(passage_chars * OVERLAP_SHARE))


def split_passages(chunk: Chunk, max_chars: int, overlap_chars: int) -> list[str]:
    """The passages of ``chunk``'s text, each at most ``max_chars`` long, never empty.

    Deterministic: the same chunk and sizes give the same passages. A chunk that
    fits is one passage (its text, stripped). ``overlap_chars`` must be smaller
    than half of ``max_chars``, so every passage adds new text.
    """
    if max_chars < 8:
        raise ValueError(f"max_chars must be at least 8, got {max_chars}")
    if not 0 <= overlap_chars <= max_chars // 2:
        raise ValueError(f"overlap_chars must be in [0, max_chars / 2], got {overlap_chars}")
    text = chunk.text.strip()
    if not text:
        return []
    if len(text) <= max_chars:
        return [text]
    # Room for a unit after the overlap and a paragraph break, so no passage is too long.
    units = _units(text, max(1, max_chars - overlap_chars - 2))
    passages: list[str] = []
    current: list[_Unit] = []
    fresh = False  # whether ``current`` holds more than the previous passage's overlap
    for unit in units:
        if fresh and len(_join(current)) + len(unit.sep) + len(unit.text) > max_chars:
            passages.append(_join(current))
            current = _overlap(current, overlap_chars)
            fresh = False
        current.append(unit if current else _Unit(unit.text, ""))
        fresh = True
    if fresh:
        passages.append(_join(current))
    return passages


def _units(text: str, limit: int) -> list[_Unit]:
    """Paragraphs, then lines, then sentences, then words: pieces of at most ``limit``."""
    units: list[_Unit] = []
    for p, paragraph in enumerate(_PARAGRAPH.split(text)):
        for n, line in enumerate(_LINE.split(paragraph.strip())):
            sep = ("\n\n" if p else "") if n == 0 else "\n"
            for s, sentence in enumerate(_sentences(line)):
                for w, (piece_sep, piece) in enumerate(_hard_split(sentence, limit)):
                    if piece:
                        units.append(_Unit(piece, (sep if s == 0 else " ") if w == 0 else piece_sep))
    return units


def _sentences(line: str) -> list[str]:
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(line):
        sentences.append(line[start : match.end()].rstrip())
        start = match.end()
    sentences.append(line[start:])
    return [s for s in sentences if s.strip()]


def _hard_split(text: str, limit: int) -> list[tuple[str, str]]:
    """(separator, piece) pairs of at most ``limit`` characters, cut at spaces if possible."""
    pieces: list[tuple[str, str]] = []
    sep = ""
    while len(text) > limit:
        space = text.rfind(" ", 0, limit + 1)
        if space >= limit // 2:
            pieces.append((sep, text[:space].rstrip()))
            text, sep = text[space + 1 :].lstrip(), " "
        else:  # one enormous "word" (a URL, a hash, a table row without spaces)
            pieces.append((sep, text[:limit]))
            text, sep = text[limit:], ""
    pieces.append((sep, text))
    return pieces


def _join(units: list[_Unit]) -> str:
    return "".join(u.sep + u.text if i else u.text for i, u in enumerate(units))


def _overlap(units: list[_Unit], overlap_chars: int) -> list[_Unit]:
    """The end of a passage to start the next one with: whole units if they fit, else words."""
    if overlap_chars <= 0:
        return []
    tail: list[_Unit] = []
    size = 0
    for unit in reversed(units):
        cost = len(unit.text) + (len(tail[0].sep) if tail else 0)
        if size + cost > overlap_chars:
            break
        tail.insert(0, unit)
        size += cost
    if tail:
        return [_Unit(tail[0].text, ""), *tail[1:]]
    last = units[-1].text
    cut = last.find(" ", len(last) - overlap_chars)
    if cut < 0 or cut + 1 >= len(last):
        return []  # a single word longer than the overlap: a fragment of it helps no one
    return [_Unit(last[cut + 1 :], "")]
