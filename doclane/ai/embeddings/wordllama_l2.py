"""WordLlama L2 "supercat" static embeddings: a token lookup table, averaged.

Much faster than a transformer (no attention, no window) and much weaker at
meaning: word order is ignored, and a long text's average drifts toward the
average of everything. The weights (256 dimensions) and the tokenizer ship in the
``wordllama`` wheel; it is loaded with that package folder as its cache and
downloads disabled, so a missing file is an error, never a request to a hub.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from doclane.ai.embeddings._runner import BatchingRunner, l2_normalise

__all__ = ["WordLlamaEmbedder"]

_CONFIG = "l2_supercat"
_DIM = 256
#: Texts tokenised and pooled at once (the token lookup is a (batch, longest, dim) array).
_BATCH = 64


def _import_wordllama() -> Any:
    """``import wordllama`` without its side effect on logging.

    The package calls ``logging.basicConfig(level=INFO)`` when imported, which
    would give a process that has not configured logging yet a root handler at
    INFO; what it added is taken back here.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import wordllama  # type: ignore[import-untyped]

    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    return wordllama


class WordLlamaEmbedder:
    """WordLlama L2 supercat, 256 dimensions. A text without any token embeds as zeros."""

    name = "wordllama-l2-supercat-256@1"
    dim = _DIM
    #: No window to fit, but an average of too many tokens says little about any of
    #: them: passages the size of MiniLM's keep the two models' indexes comparable.
    passage_chars = 900

    def __init__(self) -> None:
        """Load the weights (16 MB) from the installed package; no network."""
        wordllama = _import_wordllama()
        package = Path(wordllama.__file__).parent
        self._model: Any = wordllama.WordLlama.load(
            config=_CONFIG, dim=_DIM, cache_dir=package, disable_download=True
        )
        self._runner = BatchingRunner(self.embed_sync, self.dim, "wordllama")

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text, computed in the embedder's worker thread."""
        return await self._runner.run(texts)

    def embed_sync(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """The same vectors, computed in the calling thread (benchmarks, scripts)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorted by length so each batch is padded to a similar length, then unsorted.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        vectors = np.asarray(self._model.embed(ordered, norm=False, batch_size=_BATCH), dtype=np.float32)
        out = np.empty_like(vectors)
        out[order] = vectors
        # Normalised here, not by the library: it divides an all-padding row by zero.
        return l2_normalise(out)

    async def close(self) -> None:
        self._runner.close()
