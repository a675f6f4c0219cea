"""Enrichment contracts: document types from the classifier, entities from the NER model."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

__all__ = [
    "Classification", "DocType", "DocumentEntities", "Entity", "EntityLabel", "EntityRollup", "rollup",
]


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
    #: The extractor's name and version (e.g. ``ner-spacy-sm@1``, ``ner-rules@1``).
    version: str | None = None


class EntityRollup(BaseModel):
    """A document's unique entities with how often each occurs, per label."""

    label: EntityLabel
    value: str
    text: str
    count: int


def rollup(entities: list[Entity]) -> list[EntityRollup]:
    """Unique entities by label and normalised value, most mentioned first."""
    counts: dict[tuple[str, str], int] = {}
    first: dict[tuple[str, str], Entity] = {}
    for entity in entities:
        key = (entity.label.value, entity.value.casefold())
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, entity)
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return [EntityRollup(label=first[k].label, value=first[k].value, text=first[k].text, count=counts[k])
            for k in ranked]


class DocumentEntities(BaseModel):
    """A document's entity mentions in document order, and their roll-up."""

    document_id: str
    entities: list[Entity]
    rollup: list[EntityRollup]
