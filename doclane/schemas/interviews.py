"""Interview contracts: what a job description asks, what a resume shows, how they match."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from doclane.schemas.events import Event, Timestamp

__all__ = [
    "AnswerSpan", "Assessment", "AssessmentRequest", "CandidateProfile", "Criterion", "FitBreakdown",
    "FocusArea", "InterviewCreate", "InterviewEvent", "InterviewReport", "InterviewSession", "InterviewStats",
    "InterviewSummary", "JobProfile", "Phase", "PlannedQuestion", "RubricScore", "SkillCoverage",
    "SkillMatch", "SkillRequirement", "SourceSpan", "SpanItem", "Turn",
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


# --- sessions ---

class PlannedQuestion(BaseModel):
    id: str
    text: str
    #: The skills (canonical names) the question is meant to probe.
    targets: list[str]
    kind: Literal["technical", "gap", "behavioural"]
    #: Where the question comes from: a resume statement, a job description line, or neither.
    source_kind: Literal["resume", "jd", "general"]
    source: SourceSpan | None = None


class Phase(StrEnum):
    GREETING = "greeting"
    QUESTIONS = "questions"
    CANDIDATE_QUESTIONS = "candidate_questions"
    WRAP_UP = "wrap_up"
    ENDED = "ended"


class Turn(BaseModel):
    """One committed utterance of the transcript."""

    index: int
    role: Literal["interviewer", "candidate"]
    text: str
    #: What the utterance does in the interview.
    kind: Literal["greeting", "question", "follow_up", "answer", "candidate_question", "reply", "wrap_up"]
    question_id: str | None = None
    #: For the candidate: the client's turn id; for the interviewer: the reply id.
    ref: str | None = None
    #: The candidate cut the reply off: ``text`` is what was heard of it.
    interrupted: bool = False
    at: Timestamp = Field(default_factory=lambda: datetime.now(UTC))


class InterviewStats(BaseModel):
    tentative_started: int = 0
    tentative_committed: int = 0
    tentative_discarded: int = 0
    #: Tokens streamed in replies that were then discarded (the price of answering early).
    discarded_tokens: int = 0
    tokens: int = 0
    interruptions: int = 0
    #: Replies the provider failed to give, said in the interview rules' own words instead.
    provider_failures: int = 0


class InterviewCreate(BaseModel):
    job_description_id: str = Field(min_length=1, max_length=64)
    resume_id: str = Field(min_length=1, max_length=64)
    max_questions: int = Field(default=6, ge=1, le=20)
    duration_min: int = Field(default=30, ge=5, le=180)
    #: ``local`` (offline), ``mock`` or ``openai``; by default the service's interview provider.
    provider: Literal["local", "mock", "openai"] | None = None


class InterviewSession(BaseModel):
    id: str
    owner: str
    job_description_id: str
    resume_id: str
    provider: str
    max_questions: int
    duration_min: int
    phase: Phase = Phase.GREETING
    plan: list[PlannedQuestion]
    #: Index into ``plan`` of the question being discussed.
    question_index: int = 0
    #: Follow-ups asked on the current question.
    follow_ups: int = 0
    transcript: list[Turn] = Field(default_factory=list)
    stats: InterviewStats = Field(default_factory=InterviewStats)
    fit_score: float | None = None
    #: What the interviewer needs to talk: the role, whom it talks to, how the job
    #: description writes each skill, and its statements (to answer the candidate's questions).
    job_title: str | None = None
    candidate_name: str | None = None
    skill_names: dict[str, str] = Field(default_factory=dict)
    job_lines: list[str] = Field(default_factory=list)
    #: Which skills the job requires (the rest of ``skill_names`` are preferred).
    required_skills: list[str] = Field(default_factory=list)
    created_at: Timestamp = Field(default_factory=lambda: datetime.now(UTC))
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    #: Seconds the interview was paused (not counted against its duration).
    paused_s: float = 0
    #: The last server message's seq: numbering goes on from here after a gateway restart.
    last_seq: int = 0
    version: str = ""


class InterviewEvent(Event):
    """On ``interview.events``, keyed by session: a committed turn, or the interview's end."""

    session_id: str
    owner: str
    type: Literal["turn", "ended"]
    turn: Turn | None = None
    phase: Phase


# --- the report ---

class AnswerSpan(BaseModel):
    """A stretch of the candidate's words: ``text`` is ``transcript[turn_index].text[start:end]``."""

    turn_index: int
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


Criterion = Literal["relevance", "depth", "specificity", "structure", "communication"]


class RubricScore(BaseModel):
    criterion: Criterion
    #: 1 (poor) to 5 (excellent).
    score: float = Field(ge=1, le=5)
    reason: str
    evidence: list[AnswerSpan]


class SkillCoverage(BaseModel):
    skill: str
    name: str
    required: bool
    #: A question targeted the skill; the candidate answered it; the answer showed it in use.
    asked: bool
    answered: bool
    shown: bool
    evidence: list[AnswerSpan]


class InterviewReport(BaseModel):
    session_id: str
    skills: list[SkillCoverage]
    rubric: list[RubricScore]
    #: Mean rubric score, 1-5.
    overall: float
    strengths: list[str]
    gaps: list[str]
    recommendation: Literal["strong_yes", "yes", "lean_no", "no"]
    provider: str
    rubric_version: str
    generated_at: Timestamp = Field(default_factory=lambda: datetime.now(UTC))


class InterviewSummary(BaseModel):
    """A session in a list: where it stands, without its transcript."""

    id: str
    job_description_id: str
    resume_id: str
    provider: str
    phase: Phase
    questions: int
    answers: int
    fit_score: float | None
    created_at: Timestamp
    ended_at: Timestamp | None

    @classmethod
    def of(cls, session: InterviewSession) -> InterviewSummary:
        answers = sum(t.role == "candidate" and t.question_id is not None for t in session.transcript)
        return cls(id=session.id, job_description_id=session.job_description_id, resume_id=session.resume_id,
                   provider=session.provider, phase=session.phase, questions=len(session.plan),
                   answers=answers, fit_score=session.fit_score, created_at=session.created_at,
                   ended_at=session.ended_at)
