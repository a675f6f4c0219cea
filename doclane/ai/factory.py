"""Choose the analysis provider from settings."""

from __future__ import annotations

from doclane.ai.base import Analyzer
from doclane.ai.limits import AiLimiter
from doclane.infra.cpu import CpuPool
from doclane.infra.settings import Settings

__all__ = ["build_analyzer"]


def build_analyzer(
    settings: Settings, pool: CpuPool | None = None, limiter: AiLimiter | None = None
) -> Analyzer:
    """The provider ``settings`` names; CPU-bound providers run in ``pool`` when given.

    Remote providers (``openai``, ``mock``) go through ``limiter``, the one
    :class:`AiLimiter` of the process (a new one when not given). Building makes
    no network call.
    """
    provider = settings.analysis_provider
    if provider == "local":
        from doclane.ai.local import LocalAnalyzer

        return LocalAnalyzer(pool.run if pool is not None else None)

    from doclane.ai.backend import ChatBackend
    from doclane.ai.llm import LlmAnalyzer
    from doclane.ai.prompts import load_prompts

    backend: ChatBackend
    if provider == "mock":
        from doclane.ai.mock import MockBackend

        backend = MockBackend(settings)
    else:
        from doclane.ai.openai_backend import OpenAIBackend

        key = settings.openai_api_key
        backend = OpenAIBackend(
            model=settings.ai_model, api_key=key.get_secret_value() if key else None,
            base_url=settings.ai_base_url,
            timeout_s=settings.ai_timeout_s, temperature=settings.ai_temperature,
        )
    if limiter is None:
        limiter = AiLimiter(settings.ai_requests_per_s, settings.ai_tokens_per_min,
                            settings.ai_concurrency)
    return LlmAnalyzer(
        backend, load_prompts(settings.ai_prompt_version), limiter,
        max_input_tokens=settings.ai_max_input_tokens,
        max_output_tokens=settings.ai_max_output_tokens,
    )
