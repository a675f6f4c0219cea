"""The narrow interface between doclane's language-model analyzer and a chat service.

:class:`~doclane.ai.llm.LlmAnalyzer` builds the prompts, budgets tokens, paces
calls and turns answers into results; a :class:`ChatBackend` only sends one
request and returns the validated answer. ``openai`` talks to an
OpenAI-compatible server through the official SDK; ``mock`` simulates one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

__all__ = ["ChatBackend", "ChatRequest", "ChatReply", "HeaderSink"]

T = TypeVar("T", bound=BaseModel)
#: Receives the response headers of a call (its ``x-ratelimit-*`` ones feed the limiter).
HeaderSink = Callable[[Mapping[str, str]], None]


@dataclass(frozen=True)
class ChatRequest(Generic[T]):
    """One structured-output call."""

    #: The instructions (system message): the task and the rules.
    system: str
    #: The user message: the data to work on, fenced as data.
    user: str
    #: The data alone (chunk text, or the JSON of partial findings), for simulators and logs.
    data: str
    #: The answer must validate against this model (its JSON schema is sent along).
    schema: type[T]
    max_output_tokens: int
    #: What the call is about, for logs: ``"chunk 3"``, ``"reduce"``.
    purpose: str = ""


@dataclass(frozen=True)
class ChatReply(Generic[T]):
    value: T
    prompt_tokens: int
    completion_tokens: int


class ChatBackend(Protocol):
    """Sends one request; raises :mod:`doclane.ai.exceptions` errors on failure.

    Backends don't retry and don't pace: the analyzer's limiter and the stage
    runner do, so the rate limit and the attempt count are the configured ones.
    A reply that does not validate against ``request.schema`` raises
    :class:`~doclane.ai.exceptions.MalformedReply`. Whenever the provider answered
    (success or error status), its response headers go to ``on_headers`` first, so
    the limiter learns the provider's rate limits from every answer, ``429`` included.
    """

    #: Provider name recorded on results (``openai``, ``mock``).
    provider: str
    model: str

    async def complete(
        self, request: ChatRequest[T], on_headers: HeaderSink | None = None
    ) -> ChatReply[T]: ...

    async def close(self) -> None: ...
