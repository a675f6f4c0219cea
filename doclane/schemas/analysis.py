"""Analysis results: per chunk (map) and per document (reduce).

``ChunkFindings`` and ``DocumentFindings`` are what a language model is asked
to answer: their JSON schema is the structured-output contract, and a reply
that does not validate against them is a failed attempt. ``ChunkAnalysis`` and
``DocumentAnalysis`` are what doclane stores: the findings plus where they came
from (provider, model, prompt version, token usage, cache).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActionItem",
    "ChunkAnalysis",
    "ChunkFindings",
    "DocumentAnalysis",
    "DocumentFindings",
    "Sentiment",
    "TokenUsage",
]


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    MIXED = "mixed"


class ActionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The task, as an imperative sentence.")
    owner: str | None = Field(
        default=None, description="Who must do it, if the text names someone; else null."
    )
    deadline: str | None = Field(
        default=None, description="When it is due, as written in the text; else null."
    )


class ChunkFindings(BaseModel):
    """A model's answer for one chunk of a document."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="3 to 5 sentences on what this part of the document says.")
    topics: list[str] = Field(description="3 to 8 key topics, each a short noun phrase.")
    sentiment: Sentiment = Field(description="The overall tone of this part.")
    sentiment_justification: str = Field(description="One short sentence on why.")
    action_items: list[ActionItem] = Field(
        description="Tasks the text asks someone to do; empty when there are none."
    )


class DocumentFindings(BaseModel):
    """A model's answer for a whole document, from the findings of its parts."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="3 to 5 sentences on what the whole document says.")
    topics: list[str] = Field(description="3 to 10 key topics of the whole document.")
    sentiment: Sentiment = Field(description="The overall tone of the document.")
    sentiment_justification: str = Field(description="One short sentence on why.")


class TokenUsage(BaseModel):
    """Tokens a result cost, summed over the calls that made it."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            calls=self.calls + other.calls,
        )


class _Analysis(BaseModel):
    """What every analysis says, of a chunk or a document, and where it came from."""

    summary: str
    topics: list[str] = Field(default_factory=list)
    sentiment: Sentiment = Sentiment.NEUTRAL
    #: Signed polarity in [-1, 1]; the reduce step weighs chunks by it.
    sentiment_score: float = 0.0
    sentiment_justification: str | None = None
    action_items: list[ActionItem] = Field(default_factory=list)

    provider: str = "local"
    model: str | None = None
    #: Version of the prompts that produced the result (``None`` for the local analyzer).
    prompt_version: str | None = None
    usage: TokenUsage | None = None
    #: Reused from an earlier identical input under the same configuration: no AI call.
    cached: bool = False


class ChunkAnalysis(_Analysis):
    """What the analyzer says about one chunk."""


class DocumentAnalysis(_Analysis):
    """The reduced analysis of a whole document."""

    chunk_count: int = 0
