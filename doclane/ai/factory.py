"""Choose the analysis provider from settings."""

from __future__ import annotations

from doclane.ai.base import Analyzer
from doclane.infra.cpu import CpuPool
from doclane.infra.settings import Settings

__all__ = ["build_analyzer"]


def build_analyzer(settings: Settings, pool: CpuPool | None = None) -> Analyzer:
    """The provider ``settings`` names; CPU-bound providers run in ``pool`` when given."""
    if settings.ai_provider == "mock":
        from doclane.ai.mock import MockAnalyzer

        return MockAnalyzer(settings.mock_latency_ms)
    from doclane.ai.local import LocalAnalyzer

    return LocalAnalyzer(pool.run if pool is not None else None)
