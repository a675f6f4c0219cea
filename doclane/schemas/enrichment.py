"""Enrichment contracts: document types from the classifier, entities from the NER model."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

__all__ = ["Classification", "DocType", "Entity", "EntityLabel", "EntityRollup"]


class DocType(StrEnum):
    INVOICE = "invoice"
    CONTRACT = "contract"
    RESUME = "resume"
    JOB_DESCRIPTION = "job_description"
    REPORT = "report"
    PAPER = "paper"
    PRESENTATION = "presentation"
    LETTER = "letter"  # letters and emails
    OTHER = "other"


class Classification(BaseModel):
    """What kind of document this is, how sure the model is, and which model said so."""

    label: DocType
    #: Calibrated probability of ``label`` (below the model's threshold the label is ``other``).
    confidence: float = Field(ge=0, le=1)
    #: The model's name and version, e.g. ``"doctype-tfidf-lr@1"``.
    version: str
    #: Calibrated probability of every class, for A/B comparisons and debugging.
    scores: dict[str, float] = Field(default_factory=dict)


class EntityLabel(StrEnum):
    PERSON = "PERSON"
    ORG = "ORG"
    LOCATION = "LOCATION"
    DATE = "DATE"
    MONEY = "MONEY"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    SKILL = "SKILL"
    JOB_TITLE = "JOB_TITLE"


class Entity(BaseModel):
    """One mention in a text, with its offsets in that text and a normalised value."""

    label: EntityLabel
    text: str
    #: ISO date (``2025-03-03``), amount with currency (``1250.00 USD``), lower-cased
    #: email, E.164-like phone; the text itself, tidied, for the other labels.
    value: str
    #: Character offsets in the text given to the extractor (a chunk's text in the pipeline).
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    #: Filled by the pipeline: where the mention is in the document.
    chunk_index: int | None = None
    page: int | None = None
    section_path: list[str] = Field(default_factory=list)


class EntityRollup(BaseModel):
    """A document's unique entities with how often each occurs, per label."""

    label: EntityLabel
    value: str
    text: str
    count: int
