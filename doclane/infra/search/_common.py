"""What both index adapters and the fusion share: table names, query words, highlights."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from doclane.schemas.search import Passage

__all__ = [
    "MARK_START",
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

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
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
    reaches FTS5's or PostgreSQL's query syntax.
    """
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        seen.setdefault(word, None)
    return list(seen)[:limit]


def marked_html(raw: str) -> str:
    """Escape text the database marked with MARK_START/STOP, then turn the marks into tags."""
    return html.escape(raw, quote=False).replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")


def _stem_prefixes(words: Iterable[str]) -> tuple[str, ...]:
    # A crude stemmer: "invoices" should mark "invoice" and "invoiced". Prefix matching on
    # the first 5 letters of longer words approximates what the full-text stemmer matched.
    return tuple(w if len(w) <= 5 else w[:5] for w in words if w)


def mark_words(text: str, words: Sequence[str], window_words: int = 48) -> str:
    """The passage with the query's words marked, HTML-escaped; long text cut around the first hit.

    Used for hits that only the vector side found, where no full-text engine
    produced a highlight.
    """
    prefixes = _stem_prefixes(words)
    tokens = text.split()
    if not tokens:
        return ""

    def mark(match: re.Match[str]) -> str:
        word = match.group()
        return f"{MARK_START}{word}{MARK_STOP}" if prefixes and word.lower().startswith(prefixes) else word

    marked = [_WORD.sub(mark, token) for token in tokens]
    hits = [i for i, token in enumerate(marked) if MARK_START in token]
    first = hits[0] if hits else 0
    start = max(0, min(first - window_words // 4, len(tokens) - window_words))
    end = min(len(tokens), start + window_words)
    raw = " ".join(marked[start:end])
    return ("… " if start > 0 else "") + marked_html(raw) + (" …" if end < len(tokens) else "")


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
