"""Who words the interviewer's replies, token by token.

What the interviewer says next is decided by :mod:`doclane.interviews.conversation`
(the same for every provider, so tentative replies stay free of side effects and the
flow is testable); a provider turns that decision into a stream of tokens:

* ``local``: the decision's own words, streamed word by word; offline and deterministic.
* ``mock``: the same words timed like a remote model (time to first token, tokens per
  second), for latency measurements.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Protocol

from doclane.infra.settings import Settings
from doclane.interviews.conversation import Intent

__all__ = ["LocalProvider", "MockProvider", "ReplyProvider", "build_provider"]

_TOKEN = re.compile(r"\S+\s*")


class ReplyProvider(Protocol):
    name: str
    version: str

    def stream(self, intent: Intent) -> AsyncIterator[str]:
        """The reply's tokens; joined, they are the whole reply."""
        ...


class LocalProvider:
    name = "local"
    version = "interview-local@1"

    def __init__(self, word_delay_s: float = 0.0) -> None:
        self._delay_s = word_delay_s

    async def stream(self, intent: Intent) -> AsyncIterator[str]:
        for i, token in enumerate(_TOKEN.findall(intent.text)):
            if i and self._delay_s:
                await asyncio.sleep(self._delay_s)
            yield token


class MockProvider:
    name = "mock"
    version = "interview-mock@1"

    def __init__(self, ttft_s: float, tokens_per_s: float) -> None:
        self._ttft_s = ttft_s
        self._gap_s = 1 / tokens_per_s

    async def stream(self, intent: Intent) -> AsyncIterator[str]:
        await asyncio.sleep(self._ttft_s)
        for i, token in enumerate(_TOKEN.findall(intent.text)):
            if i:
                await asyncio.sleep(self._gap_s)
            yield token


def build_provider(name: str, settings: Settings) -> ReplyProvider:
    if name == "mock":
        return MockProvider(settings.interview_mock_ttft_ms / 1000, settings.interview_mock_tokens_per_s)
    return LocalProvider(settings.interview_word_delay_ms / 1000)
