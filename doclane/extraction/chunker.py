"""Structure-aware chunking of an extracted document.

Rules, in order of precedence:

1. A chunk never mixes text from different heading paths.
2. Adjacent sections under the same path are packed together up to ``max_chars``.
3. Text that doesn't fit is cut at paragraph boundaries (blank lines and page
   breaks), then sentence boundaries, then at a space, and only then mid-word.
   When a chunk is already three quarters full, a new page is preferred as a cut point.
4. Consecutive chunks of the same path overlap by up to ``overlap_chars``: each
   starts with the tail of the previous one (from a word boundary).

Page ranges are exact for sections that record their page breaks as form feeds
(see :mod:`doclane.extraction.pdf`); otherwise a chunk gets its section's range.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from doclane.schemas.extraction import Chunk, ExtractedDocument, Section

__all__ = ["chunk_document"]

_PAGE_BREAK = "\f"
_PARAGRAPH = "\n\n"
_PARAGRAPH_SPLIT = re.compile(r"\n[ \t]*\n")
# End of a sentence: terminal punctuation, optional closing quotes/brackets, space.
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*\s+")  # noqa: RUF001 (CJK, quotes)
_PAGE_CUT_FILL = 0.75


@dataclass(frozen=True, slots=True)
class _Piece:
    """A paragraph, sentence or fragment: the unit chunks are packed from."""

    text: str
    sep: str  # what joins it to the piece before it: paragraph, space or nothing
    page_start: int
    page_end: int


def chunk_document(
    doc: ExtractedDocument, max_chars: int = 4000, overlap_chars: int = 200
) -> list[Chunk]:
    """Cut ``doc`` into chunks of at most ``max_chars`` characters.

    Each chunk carries its section's heading path and the pages its text is on.
    Chunks are numbered from 0, are never empty, and the result depends only on
    the arguments. ``overlap_chars`` must be smaller than ``max_chars``.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    if not 0 <= overlap_chars < max_chars:
        raise ValueError(f"overlap_chars must be in [0, max_chars), got {overlap_chars}")
    texts: list[tuple[str, list[str], int, int]] = []
    for path, group in itertools.groupby(doc.sections, key=lambda s: tuple(s.heading_path)):
        pieces = [piece for section in group for piece in _paragraphs(section)]
        for text, start, end in _pack_group(pieces, max_chars, overlap_chars):
            texts.append((text, list(path), start, end))
    return [
        Chunk(index=i, text=text, section_path=path, page_start=start, page_end=end)
        for i, (text, path, start, end) in enumerate(texts)
    ]


def _paragraphs(section: Section) -> list[_Piece]:
    """A section's non-blank paragraphs, each with the page(s) it is on."""
    pages = section.text.split(_PAGE_BREAK)
    exact = len(pages) - 1 == section.page_end - section.page_start
    pieces = []
    for offset, page_text in enumerate(pages):
        start = section.page_start + offset if exact else section.page_start
        end = start if exact else section.page_end
        for paragraph in _PARAGRAPH_SPLIT.split(page_text):
            paragraph = paragraph.strip()
            if paragraph:
                pieces.append(_Piece(paragraph, _PARAGRAPH, start, end))
    return pieces


def _pack_group(
    pieces: list[_Piece], max_chars: int, overlap_chars: int
) -> list[tuple[str, int, int]]:
    if not pieces:
        return []
    whole = _join(pieces)
    if len(whole) <= max_chars:
        return [_emit(pieces)]
    # Room for a piece once the overlap and a separator are in front of it.
    limit = max(1, max_chars - overlap_chars - len(_PARAGRAPH))
    units = [unit for piece in pieces for unit in _split_piece(piece, limit)]

    chunks: list[tuple[str, int, int]] = []
    current: list[_Piece] = []
    length = 0  # of the text ``current`` joins into
    fresh = False  # whether ``current`` holds more than the overlap
    for unit in units:
        if fresh:
            too_long = length + len(unit.sep) + len(unit.text) > max_chars
            new_page = (
                unit.page_start > current[-1].page_end and length >= _PAGE_CUT_FILL * max_chars
            )
            if too_long or new_page:
                chunks.append(_emit(current))
                room = max_chars - len(unit.sep) - len(unit.text)
                current = _overlap(current, overlap_chars, room)
                length = len(current[0].text) if current else 0
                fresh = False
        length += len(unit.sep) + len(unit.text) if current else len(unit.text)
        current.append(unit)
        fresh = True
    if fresh:
        chunks.append(_emit(current))
    return chunks


def _join(pieces: list[_Piece]) -> str:
    parts = [pieces[0].text]
    for piece in pieces[1:]:
        parts.append(piece.sep)
        parts.append(piece.text)
    return "".join(parts)


def _emit(pieces: list[_Piece]) -> tuple[str, int, int]:
    return (
        _join(pieces),
        min(p.page_start for p in pieces),
        max(p.page_end for p in pieces),
    )


def _overlap(pieces: list[_Piece], overlap_chars: int, room: int) -> list[_Piece]:
    """The tail of a chunk, from a word boundary, to start the next one with."""
    text = _join(pieces)
    # Never repeat more than half a chunk: short chunks happen at page breaks.
    size = min(overlap_chars, room, len(text) // 2)
    if size <= 0:
        return []
    cut = len(text) - size
    space = re.search(r"\s", text[cut:])
    if space is None or cut + space.end() >= len(text):
        return []  # one long word: a fragment of it would help no one
    cut += space.end()
    tail = text[cut:]
    # The page the tail starts on: find the piece holding offset ``cut``.
    position = 0
    page_start = pieces[-1].page_start
    for i, piece in enumerate(pieces):
        position += (len(piece.sep) if i else 0) + len(piece.text)
        if position > cut:
            page_start = piece.page_start
            break
    return [_Piece(tail, "", page_start, pieces[-1].page_end)]


def _split_piece(piece: _Piece, limit: int) -> list[_Piece]:
    """Split a piece longer than ``limit`` into sentences, then words, then characters."""
    if len(piece.text) <= limit:
        return [piece]
    sentences = _sentences(piece.text)
    out: list[_Piece] = []
    for i, sentence in enumerate(sentences):
        sep = piece.sep if i == 0 else " "
        for j, (fragment_sep, fragment) in enumerate(_hard_split(sentence, limit)):
            out.append(
                _Piece(fragment, sep if j == 0 else fragment_sep, piece.page_start, piece.page_end)
            )
    return out


def _sentences(text: str) -> list[str]:
    sentences = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        sentences.append(text[start : match.end()].rstrip())
        start = match.end()
    if start < len(text):
        sentences.append(text[start:])
    return [s for s in sentences if s]


def _hard_split(text: str, limit: int) -> list[tuple[str, str]]:
    """(separator, fragment) pairs of at most ``limit`` chars, cut at spaces if possible."""
    fragments: list[tuple[str, str]] = []
    sep = ""
    while len(text) > limit:
        window = text[: limit + 1]
        space = max(window.rfind(" "), window.rfind("\n"))
        if space >= limit // 2:
            fragments.append((sep, text[:space].rstrip()))
            text, sep = text[space + 1 :].lstrip(), " "
        else:
            fragments.append((sep, text[:limit]))
            text, sep = text[limit:], ""
    if text:
        fragments.append((sep, text))
    return fragments
