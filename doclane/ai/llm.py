"""The language-model analyzer: prompts, token budgets, pacing, validated results.

Map: one call per chunk, with the chunk's text fenced as data. Reduce: one call
over the chunks' findings (not their text), so the input grows with the number
of chunks, not with the document's size; when even the findings exceed the
input budget they are reduced in groups, and the groups' results again, until
one call holds them all. Action items are not re-asked of the model: they are
the union of the chunks' items, de-duplicated, so none is lost in a summary.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from doclane.ai._actions import dedupe_actions
from doclane.ai.backend import ChatBackend, ChatReply, ChatRequest
from doclane.ai.exceptions import AnalysisError, ProviderRateLimited
from doclane.ai.limits import AiLimiter
from doclane.ai.prompts import PromptSet
from doclane.infra.metrics import AI_CALL_SECONDS, AI_CALLS, AI_TOKENS
from doclane.schemas.analysis import (
    ChunkAnalysis,
    ChunkFindings,
    DocumentAnalysis,
    DocumentFindings,
    Sentiment,
    TokenUsage,
)
from doclane.schemas.extraction import Chunk

__all__ = ["LlmAnalyzer", "estimate_tokens"]

logger = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)

#: A signed score for each label, so documents mixing providers still combine.
_SCORES = {Sentiment.POSITIVE: 0.6, Sentiment.NEGATIVE: -0.6,
           Sentiment.NEUTRAL: 0.0, Sentiment.MIXED: 0.0}
#: Room kept for the chat format's own tokens around the messages.
_OVERHEAD_TOKENS = 64


def estimate_tokens(text: str) -> int:
    """A safe upper estimate: ~3 characters a token (English averages ~4).

    No tokenizer: tiktoken downloads its vocabularies at run time, and an
    estimate only has to keep calls inside the budget, not count exactly.
    """
    return math.ceil(len(text) / 3)


class LlmAnalyzer:
    """:class:`~doclane.ai.base.Analyzer` on a chat model, through a :class:`ChatBackend`."""

    def __init__(self, backend: ChatBackend, prompts: PromptSet, limiter: AiLimiter, *,
                 max_input_tokens: int, max_output_tokens: int) -> None:
        self._backend = backend
        self._prompts = prompts
        self._limiter = limiter
        self._max_input = max_input_tokens
        self._max_output = max_output_tokens
        self.name = backend.provider
        self.model: str | None = backend.model
        self.prompt_version: str | None = prompts.version

    async def close(self) -> None:
        await self._backend.close()

    # --- map ---
    async def analyze_chunk(self, chunk: Chunk) -> ChunkAnalysis:
        user = self._prompts.chunk_user.substitute(
            # Headings come from the document too: they are data, fenced like the text.
            section=_fence(" > ".join(chunk.section_path) or "(none)", "document"),
            text=_fence(chunk.text, "document"),
        )
        request = ChatRequest(
            system=self._prompts.chunk_system, user=user, data=chunk.text,
            schema=ChunkFindings, max_output_tokens=self._max_output,
            purpose=f"chunk {chunk.index}",
        )
        needed = self._input_tokens(request)
        if needed > self._max_input:
            raise AnalysisError(
                f"Chunk {chunk.index + 1} needs about {needed} input tokens, more than the "
                f"{self._max_input} allowed per call; lower DOCLANE_CHUNK_MAX_CHARS or raise "
                "DOCLANE_AI_MAX_INPUT_TOKENS."
            )
        reply = await self._call(request)
        return ChunkAnalysis(**self._scored(reply.value), **self._provenance(_usage(reply)))

    # --- reduce ---
    async def reduce(self, chunks: Sequence[tuple[Chunk, ChunkAnalysis]]) -> DocumentAnalysis:
        by_index = {c.index: a for c, a in chunks}
        analyses = [by_index[i] for i in sorted(by_index)]
        usage = sum((a.usage or TokenUsage() for a in analyses), TokenUsage())
        actions = dedupe_actions(item for a in analyses for item in a.action_items)
        if not analyses:
            return DocumentAnalysis(summary="", **self._provenance(usage))
        if len(analyses) == 1:  # the chunk's findings are the document's: no call needed
            only = analyses[0]
            findings = DocumentFindings(
                summary=only.summary, topics=only.topics, sentiment=only.sentiment,
                sentiment_justification=only.sentiment_justification or "",
            )
        else:
            items = [_item(i, a) for i, a in enumerate(analyses, start=1)]
            findings, reduce_usage = await self._reduce_items(items)
            usage = usage + reduce_usage
        return DocumentAnalysis(
            **self._scored(findings), action_items=actions, chunk_count=len(analyses),
            **self._provenance(usage),
        )

    async def _reduce_items(self, items: list[dict[str, Any]]) -> tuple[DocumentFindings, TokenUsage]:
        """Reduce ``items`` in one call if they fit the budget, else in rounds of groups."""
        usage = TokenUsage()
        budget = self._max_input - estimate_tokens(self._prompts.reduce_system) - _OVERHEAD_TOKENS
        while True:
            groups = _groups_within(items, budget)
            if len(groups) == 1:
                reply = await self._call(self._reduce_request(groups[0]))
                return reply.value, usage + _usage(reply)
            logger.info("reducing %d findings in %d groups (input budget %d tokens)",
                        len(items), len(groups), self._max_input)
            replies = await asyncio.gather(*(self._call(self._reduce_request(g)) for g in groups))
            usage = sum((_usage(r) for r in replies), usage)
            items = [
                {"part": f"{g[0]['part']}-{g[-1]['part']}", **r.value.model_dump()}
                for g, r in zip(groups, replies, strict=True)
            ]

    def _reduce_request(self, items: list[dict[str, Any]]) -> ChatRequest[DocumentFindings]:
        data = json.dumps(items, ensure_ascii=False)
        return ChatRequest(
            system=self._prompts.reduce_system,
            user=self._prompts.reduce_user.substitute(count=len(items), findings=_fence(data, "findings")),
            data=data, schema=DocumentFindings, max_output_tokens=self._max_output,
            purpose=f"reduce {len(items)}",
        )

    # --- one call ---
    async def _call(self, request: ChatRequest[T]) -> ChatReply[T]:
        provider = self._backend.provider
        estimate = self._input_tokens(request) + request.max_output_tokens
        async with self._limiter.call(estimate, request.max_output_tokens) as ticket:
            started = time.monotonic()
            try:
                reply = await self._backend.complete(request, ticket.observe)
            except AnalysisError as exc:
                AI_CALLS.labels(provider, exc.category).inc()
                if isinstance(exc, ProviderRateLimited):
                    ticket.rate_limited(exc.retry_after_s)
                logger.warning("AI call for %s failed: %s", request.purpose, exc.reason)
                raise
            finally:
                AI_CALL_SECONDS.labels(provider).observe(time.monotonic() - started)
            ticket.used_tokens = reply.prompt_tokens + reply.completion_tokens
        AI_CALLS.labels(provider, "ok").inc()
        AI_TOKENS.labels(provider, "prompt").inc(reply.prompt_tokens)
        AI_TOKENS.labels(provider, "completion").inc(reply.completion_tokens)
        return reply

    @staticmethod
    def _input_tokens(request: ChatRequest[Any]) -> int:
        return estimate_tokens(request.system) + estimate_tokens(request.user) + _OVERHEAD_TOKENS

    @staticmethod
    def _scored(findings: ChunkFindings | DocumentFindings) -> dict[str, Any]:
        """A model's findings as analysis fields, with the score its sentiment label stands for."""
        return {**dict(findings), "sentiment_score": _SCORES[findings.sentiment]}

    def _provenance(self, usage: TokenUsage) -> dict[str, Any]:
        return {"provider": self.name, "model": self.model,
                "prompt_version": self.prompt_version, "usage": usage}


def _fence(text: str, tag: str) -> str:
    """Keep data from closing its own fence: ``</document>`` (any case) inside it can't end the block."""
    return re.sub(rf"</({re.escape(tag)}\s*)>", r"</ \1>", text, flags=re.IGNORECASE)


def _usage(reply: ChatReply[Any]) -> TokenUsage:
    return TokenUsage(prompt_tokens=reply.prompt_tokens,
                      completion_tokens=reply.completion_tokens, calls=1)


def _item(part: int, analysis: ChunkAnalysis) -> dict[str, Any]:
    return {
        "part": part,
        "summary": analysis.summary,
        "topics": analysis.topics,
        "sentiment": analysis.sentiment.value,
        "sentiment_justification": analysis.sentiment_justification or "",
    }


def _groups_within(items: list[dict[str, Any]], budget: int) -> list[list[dict[str, Any]]]:
    """Consecutive groups whose JSON fits ``budget`` tokens; at least two items a group.

    Two per group (even over budget) guarantees each round halves the items, so
    the rounds end; a single item over budget would have failed at the map step.
    """
    groups: list[list[dict[str, Any]]] = [[]]
    used = 2
    for item in items:
        cost = estimate_tokens(json.dumps(item, ensure_ascii=False)) + 1
        if len(groups[-1]) >= 2 and used + cost > budget:
            groups.append([])
            used = 2
        groups[-1].append(item)
        used += cost
    if len(groups) > 1 and len(groups[-1]) == 1:  # never leave one item alone in a round
        groups[-2].extend(groups.pop())
    return groups
