"""A/B experiments on model versions: configuration, assignments, measurements, comparisons."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ArmReport",
    "Component",
    "ExperimentAssignment",
    "ExperimentConfig",
    "ExperimentMode",
    "ExperimentObservation",
    "ExperimentReport",
    "ExperimentsReport",
]


class Component(StrEnum):
    CLASSIFIER = "classifier"
    NER = "ner"
    EMBEDDINGS = "embeddings"
    ANALYSIS = "analysis"


class ExperimentMode(StrEnum):
    #: A share of the documents gets the candidate's result; the rest the control's.
    SPLIT = "split"
    #: The share runs both versions; the control's result is kept, both are measured.
    SHADOW = "shadow"


class ExperimentConfig(BaseModel):
    """One experiment as declared in ``DOCLANE_EXPERIMENTS``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    component: Component
    control: str = Field(min_length=1)
    candidate: str = Field(min_length=1)
    #: Share of documents in the candidate arm (split) or run twice (shadow).
    share: float = Field(ge=0, le=1)
    mode: ExperimentMode = ExperimentMode.SPLIT


class ExperimentAssignment(BaseModel):
    """Which arm of an experiment a document is in, and the version that serves it."""

    experiment: str
    component: Component
    arm: Literal["control", "candidate"]
    #: The version whose result the document keeps.
    version: str
    mode: ExperimentMode
    #: In shadow mode, the other version run alongside for comparison (its result is not kept).
    shadow_version: str | None = None


class ExperimentObservation(BaseModel):
    """What one version did on one unit of work (a document, or one chunk of it).

    Written by the stage that ran the model, one per (experiment, document, unit, version),
    so that the comparison aggregates across processes from the store.
    """

    experiment: str
    document_id: str
    #: The chunk index for per-chunk components; -1 for a whole document (the classifier).
    unit: int = -1
    arm: Literal["control", "candidate"]
    version: str
    #: False for the shadow run whose result was measured but not kept.
    served: bool = True
    latency_ms: float = Field(ge=0)
    failed: bool = False
    #: The classifier's calibrated confidence in its label.
    confidence: float | None = None
    #: Tokens the analysis cost (prompt + completion).
    tokens: int | None = None
    #: Shadowed units only: agreement with the other version (label equality for the
    #: classifier, entity-set Jaccard for NER), 0 to 1.
    agreement: float | None = None
    #: Where the document is an item of an evaluation set: 1 correct, 0 wrong (classifier),
    #: or entity F1 against the gold annotation (NER).
    accuracy: float | None = None
    #: The label the version gave (classifier), for the confusion between versions.
    label: str | None = None


class ArmReport(BaseModel):
    arm: Literal["control", "candidate"]
    version: str
    documents: int
    #: Units measured (documents for the classifier, chunks for the other components).
    units: int
    failures: int
    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    mean_confidence: float | None = None
    tokens: int | None = None
    #: Shadowed documents only: how often the two versions agree (see ExperimentObservation).
    agreement: float | None = None
    shadowed_units: int = 0
    #: Documents of the evaluation sets (a gold label exists) and the score on them.
    gold_documents: int = 0
    accuracy: float | None = None


class ExperimentReport(BaseModel):
    name: str
    component: Component
    mode: ExperimentMode
    share: float
    control: ArmReport
    candidate: ArmReport


class ExperimentsReport(BaseModel):
    experiments: list[ExperimentReport]
