"""Interview contracts: what a job description asks, what a resume shows, how they match."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "Assessment", "AssessmentRequest", "CandidateProfile", "FitBreakdown", "FocusArea", "JobProfile",
    "SkillMatch", "SkillRequirement", "SourceSpan", "SpanItem",
]


class SourceSpan(BaseModel):
    """Where a statement comes from: ``text`` is exactly ``chunk.text[start:end]``."""

    document_id: str
    chunk_index: int
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    section_path: list[str] = Field(default_factory=list)
    page: int | None = None


class SkillRequirement(BaseModel):
    """A skill the job description names, required or preferred, with where it says so."""

    #: The canonical name used to match (``kubernetes`` for *K8s* and *Kubernetes*).
    skill: str
    #: The name as the document first writes it.
    name: str
    required: bool
    evidence: list[SourceSpan]


class SpanItem(BaseModel):
    """Something a document states (a role, an employer, a date, a project), with its span."""

    value: str
    evidence: SourceSpan


class JobProfile(BaseModel):
    document_id: str
    title: str | None
    #: ``intern`` … ``principal``, from the title and the text; ``None`` when nothing says.
    seniority: str | None
    min_years: int | None
    required_skills: list[SkillRequirement]
    preferred_skills: list[SkillRequirement]
    responsibilities: list[SpanItem]


class CandidateProfile(BaseModel):
    document_id: str
    name: str | None
    skills: list[SkillRequirement]
    roles: list[SpanItem]
    employers: list[SpanItem]
    dates: list[SpanItem]
    projects: list[SpanItem]
    #: From the earliest to the latest year the resume dates (``present`` counts as now).
    years_of_experience: int | None


class SkillMatch(BaseModel):
    skill: str
    name: str
    required: bool
    #: ``shown``: used in an experience or project statement; ``listed``: named only
    #: (e.g. in a skills line); ``missing``: nowhere in the resume.
    strength: Literal["shown", "listed", "missing"]
    evidence: list[SourceSpan]


class FitBreakdown(BaseModel):
    """Each part of the fit score: its weight, its value in [0, 1] and why."""

    component: Literal["required_skills", "preferred_skills", "experience"]
    weight: float
    value: float | None
    reason: str


class FocusArea(BaseModel):
    skill: str
    kind: Literal["missing", "unproven", "depth"]
    reason: str


class Assessment(BaseModel):
    job: JobProfile
    candidate: CandidateProfile
    matched: list[SkillMatch]
    missing: list[SkillMatch]
    #: 0-100: the weighted sum of the breakdown's values (weights of unknown parts spread).
    fit_score: float = Field(ge=0, le=100)
    breakdown: list[FitBreakdown]
    focus_areas: list[FocusArea]
    warnings: list[str] = Field(default_factory=list)
    version: str


class AssessmentRequest(BaseModel):
    job_description_id: str = Field(min_length=1, max_length=64)
    resume_id: str = Field(min_length=1, max_length=64)
