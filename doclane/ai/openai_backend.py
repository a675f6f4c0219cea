"""The ``openai`` provider's transport: the official SDK's async client.

Any OpenAI-compatible server works: ``OPENAI_BASE_URL`` or
``DOCLANE_AI_BASE_URL`` (read by the settings) points the client at it. The answer's format is a JSON
schema generated from the pydantic result model and sent with ``strict: true``;
the SDK validates the reply against the same model. The SDK's own retries are
off: doclane's stage runner retries with its configured attempts and backoff,
and its limiter paces calls, so the numbers a user configures are the real ones.
The raw response is read (``with_raw_response``) so that its ``x-ratelimit-*``
headers reach the limiter, from answers and error statuses alike.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from doclane.ai.backend import ChatReply, ChatRequest, HeaderSink
from doclane.ai.exceptions import (
    MalformedReply,
    ProviderRateLimited,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
)

__all__ = ["OpenAIBackend"]

logger = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)
_OPENAI_API = "https://api.openai.com/v1"


class OpenAIBackend:
    provider = "openai"

    def __init__(self, *, model: str, api_key: str | None, base_url: str | None,
                 timeout_s: float, temperature: float | None) -> None:
        # Creating the client makes no connection.
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "not-needed",  # local OpenAI-compatible servers need none
            # Explicit, so the SDK doesn't read the environment behind the settings' back.
            base_url=base_url or _OPENAI_API,
            timeout=timeout_s,
            max_retries=0,
        )
        self.model = model
        self._timeout_s = timeout_s
        self._temperature = temperature

    async def close(self) -> None:
        await self._client.close()

    async def complete(self, request: ChatRequest[T], on_headers: HeaderSink | None = None) -> ChatReply[T]:
        extra: dict[str, Any] = {}
        if self._temperature is not None:
            extra["temperature"] = self._temperature
        try:
            try:
                raw = await self._client.chat.completions.with_raw_response.parse(
                    model=self.model,
                    messages=[
                        {"role": "system", "content": request.system},
                        {"role": "user", "content": request.user},
                    ],
                    response_format=request.schema,
                    max_completion_tokens=request.max_output_tokens,
                    **extra,
                )
            except openai.APIStatusError as exc:
                if on_headers:
                    on_headers(exc.response.headers)
                raise
            if on_headers:
                on_headers(raw.headers)
            completion = raw.parse()  # validates the answer against the schema
        except ValidationError as exc:
            raise MalformedReply(_first_error(exc)) from exc
        except openai.LengthFinishReasonError as exc:
            raise MalformedReply("the answer was cut off at the output token limit") from exc
        except openai.ContentFilterFinishReasonError as exc:
            raise ProviderRefused("its content filter blocked the answer") from exc
        except openai.APITimeoutError as exc:
            raise ProviderTimeout(self._timeout_s) from exc
        except openai.APIConnectionError as exc:
            raise ProviderUnavailable(f"could not connect ({exc.__class__.__name__})") from exc
        except openai.RateLimitError as exc:
            raise ProviderRateLimited(_retry_after_s(exc.response.headers)) from exc
        except openai.InternalServerError as exc:
            raise ProviderUnavailable(f"HTTP {exc.status_code} {_message(exc)}") from exc
        except openai.AuthenticationError as exc:
            raise ProviderRefused("the API key was not accepted (HTTP 401); check OPENAI_API_KEY") from exc
        except openai.APIStatusError as exc:
            if exc.status_code in (408, 409) or exc.status_code >= 500:
                raise ProviderUnavailable(f"HTTP {exc.status_code} {_message(exc)}") from exc
            raise ProviderRefused(f"HTTP {exc.status_code} {_message(exc)}") from exc

        message = completion.choices[0].message
        if message.refusal:
            raise ProviderRefused(f"the model declined: {message.refusal[:200]}")
        if message.parsed is None:
            raise MalformedReply("the answer was empty")
        usage = completion.usage
        return ChatReply(
            value=message.parsed,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )


def _retry_after_s(headers: Any) -> float | None:
    """``Retry-After`` in seconds (or ``retry-after-ms``, or an HTTP date), if the server sent it."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return f"({error['message'][:200]})"
    return ""


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {"msg": str(exc)}
    where = ".".join(str(p) for p in first.get("loc", ())) or "answer"
    return f"{where}: {first.get('msg', 'invalid')}"[:200]
