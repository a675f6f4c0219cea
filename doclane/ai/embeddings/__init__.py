"""Embeddings: the :class:`Embedder` interface, its models, and passages sized for them.

``local`` models run on the CPU from files shipped inside Python packages
(MiniLM by default, WordLlama as a fast, weaker alternative); ``openai`` asks an
OpenAI-compatible server. :func:`build_embedder` picks one from the settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from doclane.ai.embeddings.base import Embedder
from doclane.ai.embeddings.passages import split_passages

if TYPE_CHECKING:
    from doclane.ai.limits import AiLimiter
    from doclane.infra.settings import Settings

__all__ = ["Embedder", "build_embedder", "embeddings_kind", "split_passages"]


def embeddings_kind(settings: Settings) -> str:
    """``local`` or ``openai``: the configured one, else the analysis provider's kind."""
    if settings.embeddings is not None:
        return settings.embeddings
    return "openai" if settings.analysis_provider == "openai" else "local"


def build_embedder(settings: Settings, limiter: AiLimiter) -> Embedder:
    """The embedder ``settings`` choose; ``limiter`` paces its remote calls.

    ``limiter`` is the process's one :class:`AiLimiter`, shared with the analysis
    calls (local models ignore it). Local models load their files here (well
    under a second); nothing is downloaded and no connection is made.
    """
    if embeddings_kind(settings) == "openai":
        from doclane.ai.embeddings.openai_embedder import OpenAIEmbedder

        key = settings.openai_api_key
        return OpenAIEmbedder(
            model=settings.embeddings_openai_model,
            api_key=key.get_secret_value() if key else None,
            base_url=settings.ai_base_url, timeout_s=settings.ai_timeout_s, limiter=limiter,
        )
    if settings.embeddings_local_model == "wordllama-l2":
        from doclane.ai.embeddings.wordllama_l2 import WordLlamaEmbedder

        return WordLlamaEmbedder()
    from doclane.ai.embeddings.minilm import MiniLMEmbedder

    return MiniLMEmbedder()
