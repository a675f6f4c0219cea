"""Errors of the analysis providers.

Each says, for a person, what went wrong; ``retryable`` tells the pipeline
whether another attempt (after backoff, or after ``retry_after_s`` when the
provider said so) may succeed.
"""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = [
    "AnalysisError",
    "MalformedReply",
    "ProviderRateLimited",
    "ProviderRefused",
    "ProviderTimeout",
    "ProviderUnavailable",
]


class AnalysisError(DoclaneError):
    """Analysing a chunk or reducing a document failed.

    ``retryable`` is set per instance: a provider timeout or rate limit is
    worth retrying with backoff, a bug in the local analyzer is not (the same
    input would fail the same way).
    """

    category = "analysis"

    def __init__(self, reason: str, *, retryable: bool = False,
                 retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        #: The provider asked to wait this long before the next call (``Retry-After``).
        self.retry_after_s = retry_after_s


class ProviderTimeout(AnalysisError):
    category = "ai_timeout"

    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            f"The AI provider did not answer within {timeout_s:g} s.", retryable=True
        )


class ProviderRateLimited(AnalysisError):
    category = "ai_rate_limited"

    def __init__(self, retry_after_s: float | None) -> None:
        wait = f"; it asked to wait {retry_after_s:g} s" if retry_after_s is not None else ""
        super().__init__(
            f"The AI provider is rate limiting requests (HTTP 429){wait}.",
            retryable=True, retry_after_s=retry_after_s,
        )


class ProviderUnavailable(AnalysisError):
    """A server error or a dropped connection: usually gone on the next attempt."""

    category = "ai_unavailable"

    def __init__(self, what: str) -> None:
        super().__init__(f"The AI provider failed: {what}.", retryable=True)


class ProviderRefused(AnalysisError):
    """The provider refused the request itself (key, model, size): retrying won't help."""

    category = "ai_refused"

    def __init__(self, what: str) -> None:
        super().__init__(f"The AI provider refused the request: {what}.", retryable=False)


class MalformedReply(AnalysisError):
    """The answer did not match the requested JSON schema; a new attempt usually does."""

    category = "ai_malformed"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The AI provider's answer did not match the expected format ({what}).",
            retryable=True,
        )
