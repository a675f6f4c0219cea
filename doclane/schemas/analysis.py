"""Analysis results: per chunk (map) and per document (reduce)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

__all__ = ["ActionItem", "ChunkAnalysis", "DocumentAnalysis", "Sentiment"]


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    MIXED = "mixed"


class ActionItem(BaseModel):
    text: str
    owner: str | None = None
    deadline: str | None = None


class ChunkAnalysis(BaseModel):
    """What the analyzer says about one chunk."""

    summary: str
    topics: list[str] = Field(default_factory=list)
    sentiment: Sentiment = Sentiment.NEUTRAL
    # Signed polarity in [-1, 1]; the reduce step weighs chunks by it.
    sentiment_score: float = 0.0
    action_items: list[ActionItem] = Field(default_factory=list)
    provider: str = "local"
    model: str | None = None


class DocumentAnalysis(BaseModel):
    """The reduced analysis of a whole document."""

    summary: str
    topics: list[str] = Field(default_factory=list)
    sentiment: Sentiment = Sentiment.NEUTRAL
    sentiment_score: float = 0.0
    action_items: list[ActionItem] = Field(default_factory=list)
    chunk_count: int = 0
    provider: str = "local"
    model: str | None = None
