"""What both index adapters and the fusion share: table names, query words, highlights."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from doclane.schemas.search import Passage

__all__ = [
    "MARK_START",
    "RANK_CAP",
    "coordinated_score",
    "coverage",
    "relaxations",
    "checked_vector",
    "MARK_STOP",
    "marked_html",
    "mark_words",
    "model_slug",
    "query_words",
    "unit",
]

# Private-use characters stand for <mark> while the text is still raw: the database
# marks the raw text, then it is HTML-escaped, and only then do they become tags.
MARK_START = "\ue000"
MARK_STOP = "\ue001"

# PostgreSQL's English stopword list (snowball): words that match nearly every passage,
# left out of full-text queries on both indexes so that they rank alike and stay fast.
#: Matches of one full-text query that are ranked, at most. A word that most passages
#: hold would otherwise have its whole list ranked (400 ms for 50k matches in
#: PostgreSQL); such words say little, and the words rarer than them are tried first
#: anyway. At 100k passages PostgreSQL's keyword p95 was 55-63 ms with 5000, 35-43 ms
#: with 2000. The price: a query matching more passages ranks the first 2000 found.
RANK_CAP = 2000

_STOPWORD_TEXT = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
her hers herself it its itself they them their theirs themselves what which who whom this that
these those am is are was were be been being have has had having do does did doing a an the and
but if or because as until while of at by for with about against between into through during
before after above below to from up down in out on off over under again further then once here
there when where why how all any both each few more most other some such no nor not only own same
so than too very s t can will just don should now
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACE_RUN = re.compile(r"(\s+)")
_SLUG = re.compile(r"[^a-z0-9]+")


def model_slug(model: str) -> str:
    """The model name as a table-name part: ``"minilm-l6-v2-int8"`` -> ``"minilm_l6_v2_int8"``.

    A short hash of the exact name is appended so that names differing only in
    punctuation (``a-b`` / ``a_b``) never share tables.
    """
    import hashlib

    base = _SLUG.sub("_", model.lower()).strip("_")[:40] or "model"
    return f"{base}_{hashlib.sha256(model.encode()).hexdigest()[:6]}"


def query_words(text: str, limit: int = 32) -> list[str]:
    """The words of a query (letters and digits), lower-cased, deduplicated, in order.

    Both adapters build their full-text query from these alone, so no user input
    reaches FTS5's or PostgreSQL's query syntax. Stopwords are dropped unless the
    query has nothing else ("to be or not to be").
    """
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        seen.setdefault(word, None)
    words = [w for w in seen if w not in _STOPWORDS] or list(seen)
    return words[:limit]


def relaxations(words: Sequence[str], matches: Mapping[str, int]) -> list[list[str]]:
    """The word sets a keyword search tries after all the words found too few passages.

    Dropping the most common word first (``matches``: passages holding each word),
    then the other words alone, rarest first: passages with more of the query's
    words, and with its rarer words, come first, as BM25 would rank an OR query,
    but each step is an AND, and a common word's long list is ranked only when
    everything rarer has run out.
    """
    present = sorted((w for w in words if matches.get(w, 0) > 0), key=lambda w: (matches[w], w))
    steps = [present[:n] for n in range(len(present), 0, -1)] + [[w] for w in present[1:]]
    return [step for step in steps if len(step) < len(words)]


def coordinated_score(words_matched: int, relevance: float) -> float:
    """A keyword score that orders by words matched, then by relevance (BM25 / ts_rank, >= 0).

    The integer part is the number of query words the passage holds.
    """
    relevance = max(relevance, 0.0)
    return words_matched + relevance / (1.0 + relevance)


def marked_html(raw: str) -> str:
    """Escape text the database marked with MARK_START/STOP, then turn the marks into tags."""
    return html.escape(raw, quote=False).replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")


def _stem_prefixes(words: Iterable[str]) -> tuple[str, ...]:
    # A crude stemmer: "invoices" should mark "invoice" and "invoiced". Prefix matching on
    # the first 5 letters of longer words approximates what the full-text stemmer matched.
    return tuple(w if len(w) <= 5 else w[:5] for w in words if w)


def coverage(text: str, words: Sequence[str]) -> float:
    """The share of the query's ``words`` that ``text`` holds (stemmed as highlights are), 0 to 1."""
    prefixes = _stem_prefixes(words)
    if not prefixes:
        return 0.0
    tokens = {t.lower() for t in _WORD.findall(text)}
    return sum(any(t.startswith(p) for t in tokens) for p in prefixes) / len(prefixes)


def mark_words(text: str, words: Sequence[str], window_words: int = 48) -> str:
    """The passage with the query's words marked, HTML-escaped; long text cut around the first hit.

    Used for hits that only the vector side found, where no full-text engine
    produced a highlight. Line breaks and blank lines between paragraphs are
    kept (a table's rows and a list's items are lines, as in the full-text
    engines' snippets); other runs of spaces become one.
    """
    prefixes = _stem_prefixes(words)
    parts = _SPACE_RUN.split(text.strip())
    tokens, gaps = parts[::2], [_gap(space) for space in parts[1::2]]
    if not tokens or not tokens[0]:
        return ""

    def mark(match: re.Match[str]) -> str:
        word = match.group()
        return f"{MARK_START}{word}{MARK_STOP}" if prefixes and word.lower().startswith(prefixes) else word

    marked = [_WORD.sub(mark, token) for token in tokens]
    hits = [i for i, token in enumerate(marked) if MARK_START in token]
    first = hits[0] if hits else 0
    start = max(0, min(first - window_words // 4, len(tokens) - window_words))
    end = min(len(tokens), start + window_words)
    raw = "".join(marked[i] + (gaps[i] if i < end - 1 else "") for i in range(start, end))
    return ("… " if start > 0 else "") + marked_html(raw) + (" …" if end < len(tokens) else "")


def _gap(space: str) -> str:
    """What joins two words of a highlight: a blank line, a line break or a space."""
    breaks = space.count("\n")
    return "\n\n" if breaks > 1 else "\n" if breaks else " "


def unit(vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The vector scaled to length 1 (a zero vector stays zero)."""
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


def checked_vector(passage: Passage, model: str, dim: int) -> npt.NDArray[np.float32]:
    """The passage's vector as a flat float32 array, refused when its model or size is not the index's."""
    if passage.model != model:
        raise ValueError(f"passage {passage.id} is of model {passage.model!r}; this index holds {model!r}")
    vector = np.asarray(passage.vector, dtype=np.float32).reshape(-1)
    if vector.shape != (dim,):
        raise ValueError(f"passage {passage.id} has a {vector.shape[0]}-dim vector; this index holds {dim}")
    return vector
