"""OpenAI embeddings (or any compatible server) through the official SDK's async client.

Calls go through the process's :class:`~doclane.ai.limits.AiLimiter`, the same one
the analysis calls use: the account's request and token limits are shared, so
embedding a big upload can't starve, or be starved by, its analysis. Errors are
the analysis provider's (``ProviderRateLimited`` with ``Retry-After``,
``ProviderUnavailable``, ...), so the stage runner retries them the same way. The
SDK's own retries are off for the same reason as there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import openai

from doclane.ai.embeddings._runner import l2_normalise
from doclane.ai.exceptions import (
    AnalysisError,
    MalformedReply,
    ProviderRateLimited,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
)
from doclane.ai.limits import AiLimiter

# One reading of the error bodies and Retry-After headers for both OpenAI clients.
from doclane.ai.openai_backend import _message, _retry_after_s

__all__ = ["OpenAIEmbedder"]

_OPENAI_API = "https://api.openai.com/v1"
#: Native sizes of OpenAI's embedding models; others must be given.
_KNOWN_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072,
               "text-embedding-ada-002": 1536}
#: Inputs per request (the API takes up to 2,048) and estimated tokens per request
#: (it takes up to 300,000): a chunk's passages usually go in one request.
_MAX_INPUTS = 256
_MAX_TOKENS = 100_000
#: 8,191 tokens per input is the API's limit; ~4 characters a token in English.
_PASSAGE_CHARS = 2000


def _estimate_tokens(text: str) -> int:
    return len(text) // 4 + 1


class OpenAIEmbedder:
    """Vectors from ``embeddings.create``; rows come back normalised and in input order."""

    passage_chars = _PASSAGE_CHARS

    def __init__(self, *, model: str, api_key: str | None, base_url: str | None, timeout_s: float,
                 limiter: AiLimiter, dim: int | None = None) -> None:
        """``dim``: the model's vector size when it isn't one of OpenAI's own models."""
        if dim is None:
            if model not in _KNOWN_DIMS:
                raise ValueError(f"the size of {model!r}'s vectors is unknown; pass dim")
            dim = _KNOWN_DIMS[model]
        # Creating the client makes no connection.
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "not-needed", base_url=base_url or _OPENAI_API,
            timeout=timeout_s, max_retries=0,
        )
        self.model = model
        self.dim = dim
        self.name = f"openai-{model}-{dim}@1"
        self._timeout_s = timeout_s
        self._limiter = limiter

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit-length row per text; big inputs go in several requests."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start, end in _batches(texts):
            out[start:end] = await self._request(list(texts[start:end]))
        return l2_normalise(out)

    async def _request(self, texts: list[str]) -> npt.NDArray[np.float32]:
        # The API refuses empty strings; a space embeds as "nothing", as the local models do.
        inputs = [text if text.strip() else " " for text in texts]
        estimate = sum(_estimate_tokens(t) for t in inputs)
        extra: dict[str, Any] = {}
        if self.model.startswith("text-embedding-3") and self.dim != _KNOWN_DIMS.get(self.model):
            extra["dimensions"] = self.dim  # v3 models shorten their vectors on request
        async with self._limiter.call(estimate) as ticket:
            try:
                response = await self._client.embeddings.create(
                    model=self.model, input=inputs, encoding_format="float", **extra
                )
            except openai.APIError as exc:
                error = _map_error(exc, self._timeout_s)
                if isinstance(error, ProviderRateLimited) and error.retry_after_s:
                    self._limiter.pause(error.retry_after_s)
                raise error from exc
            ticket.used_tokens = response.usage.prompt_tokens if response.usage else estimate
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(inputs) or any(len(r.embedding) != self.dim for r in rows):
            got = len(rows[0].embedding) if rows else 0
            raise MalformedReply(
                f"{len(rows)} vectors of {got} dimensions for {len(inputs)} texts; "
                f"expected {self.dim} dimensions each"
            )
        return np.asarray([r.embedding for r in rows], dtype=np.float32)

    async def close(self) -> None:
        await self._client.close()


def _batches(texts: Sequence[str]) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of at most ``_MAX_INPUTS`` texts and ~``_MAX_TOKENS`` tokens."""
    ranges: list[tuple[int, int]] = []
    start, tokens = 0, 0
    for i, text in enumerate(texts):
        cost = _estimate_tokens(text)
        if i > start and (i - start >= _MAX_INPUTS or tokens + cost > _MAX_TOKENS):
            ranges.append((start, i))
            start, tokens = i, 0
        tokens += cost
    if start < len(texts):
        ranges.append((start, len(texts)))
    return ranges


def _map_error(exc: openai.APIError, timeout_s: float) -> AnalysisError:
    """The domain error for an SDK error: retryable unless the request itself was refused."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout(timeout_s)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderUnavailable(f"could not connect ({exc.__class__.__name__})")
    if isinstance(exc, openai.RateLimitError):
        return ProviderRateLimited(_retry_after_s(exc.response.headers))
    if isinstance(exc, openai.AuthenticationError):
        return ProviderRefused("the API key was not accepted (HTTP 401); check OPENAI_API_KEY")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (408, 409) or exc.status_code >= 500:
            return ProviderUnavailable(f"HTTP {exc.status_code} {_message(exc)}")
        return ProviderRefused(f"HTTP {exc.status_code} {_message(exc)}")
    return MalformedReply(exc.__class__.__name__)
