"""The embedder interface: text in, L2-normalised float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["Embedder"]


class Embedder(Protocol):
    #: Model name and version, recorded on every passage and part of cache keys.
    name: str
    dim: int
    #: Passage size the model reads whole (text beyond its token window is cut).
    passage_chars: int

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One row per text, shape ``(len(texts), dim)``, each row of unit length.

        CPU work runs off the event loop; calls may come from many tasks at once.
        """

    async def close(self) -> None: ...
