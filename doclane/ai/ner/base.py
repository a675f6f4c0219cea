"""The entity extractor interface."""

from __future__ import annotations

from typing import Protocol

from doclane.schemas.enrichment import Entity

__all__ = ["EntityExtractor"]


class EntityExtractor(Protocol):
    #: Model name and version, recorded on every result and in metrics.
    version: str

    def extract(self, text: str) -> list[Entity]:
        """Entities of ``text`` with offsets into it, sorted by ``start``, not overlapping.

        Pure CPU work, synchronous: the pipeline runs it off the event loop.
        """
