"""A job description against a resume: matched and missing skills with evidence, a fit
score whose every part is explained, and what the interview should focus on.

Deterministic and offline: the same two documents always give the same assessment, and
every claim points at a span of the resume or of the job description.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from doclane.interviews.profiles import Judge, Mention, candidate_profile, job_profile, shown, skill_mentions
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.enrichment import DocType
from doclane.schemas.interviews import (
    Assessment,
    FitBreakdown,
    FocusArea,
    JobProfile,
    SkillMatch,
    SkillRequirement,
)

__all__ = ["ASSESSMENT_VERSION", "WEIGHTS", "assess"]

ASSESSMENT_VERSION = "assess-rules@1"

#: The fit score's parts. A skill that is only listed counts half as much as one shown
#: in an experience statement: a recruiter trusts "built X with Kafka" over "Skills: Kafka".
WEIGHTS = {"required_skills": 0.6, "preferred_skills": 0.2, "experience": 0.2}
_CREDIT = {"shown": 1.0, "listed": 0.5, "missing": 0.0}
#: How many focus areas an interview plan can cover well.
MAX_FOCUS_AREAS = 8


def _match(requirement: SkillRequirement, found: Sequence[Mention]) -> SkillMatch:
    if not found:
        return SkillMatch(skill=requirement.skill, name=requirement.name, required=requirement.required,
                          strength="missing", evidence=[])
    strong = [m for m in found if shown(m)]
    evidence = (strong or list(found))[:3]
    return SkillMatch(skill=requirement.skill, name=requirement.name, required=requirement.required,
                      strength="shown" if strong else "listed", evidence=[m.span for m in evidence])


def _coverage(matches: list[SkillMatch]) -> float | None:
    if not matches:
        return None
    return sum(_CREDIT[m.strength] for m in matches) / len(matches)


def assess(job_doc: DocumentRecord, job_chunks: Sequence[ChunkRecord],
           resume_doc: DocumentRecord, resume_chunks: Sequence[ChunkRecord],
           known: frozenset[str] = frozenset(), now: datetime | None = None,
           judge: Judge | None = None, job: JobProfile | None = None) -> Assessment:
    """``known`` is the skill lexicon (:func:`~doclane.interviews.skills.known_skills`), ``judge``
    the trained job description skill model (:func:`~doclane.interviews.judge.load_judge`);
    ``job`` the job description's profile when the caller made it already (one JD, many
    resumes), else it is made here."""
    if job is None:
        job = job_profile(job_doc, job_chunks, known, judge)
    wanted = [*job.required_skills, *job.preferred_skills]
    names = [(r.skill, r.name) for r in wanted]
    mentions = skill_mentions(resume_doc.id, resume_chunks, known, names)
    candidate = candidate_profile(resume_doc, resume_chunks, mentions, now)
    matches = [_match(r, mentions.get(r.skill, [])) for r in wanted]
    required = [m for m in matches if m.required]
    preferred = [m for m in matches if not m.required]

    breakdown = [
        FitBreakdown(component="required_skills", weight=WEIGHTS["required_skills"],
                     value=_coverage(required), reason=_skills_reason(required, "required")),
        FitBreakdown(component="preferred_skills", weight=WEIGHTS["preferred_skills"],
                     value=_coverage(preferred), reason=_skills_reason(preferred, "preferred")),
        _experience(job.min_years, candidate.years_of_experience),
    ]
    measured = [b for b in breakdown if b.value is not None]
    total_weight = sum(b.weight for b in measured)
    score = 100 * sum(b.weight * (b.value or 0.0) for b in measured) / total_weight if total_weight else 0.0

    warnings = []
    if job_doc.doc_type not in (None, DocType.JOB_DESCRIPTION):
        warnings.append(f"{job_doc.filename!r} was classified as {job_doc.doc_type}, not a job description.")
    if resume_doc.doc_type not in (None, DocType.RESUME):
        warnings.append(f"{resume_doc.filename!r} was classified as {resume_doc.doc_type}, not a resume.")
    if not wanted:
        warnings.append("No skills were found in the job description; the fit score has nothing to rest on.")
    return Assessment(
        job=job,
        candidate=candidate,
        matched=[m for m in matches if m.strength != "missing"],
        missing=[m for m in matches if m.strength == "missing"],
        fit_score=round(score, 1),
        breakdown=breakdown,
        focus_areas=_focus_areas(matches),
        warnings=warnings,
        version=ASSESSMENT_VERSION if judge is None else f"{ASSESSMENT_VERSION}+{judge.version}",
    )


def _skills_reason(matches: list[SkillMatch], kind: str) -> str:
    if not matches:
        return f"The job description names no {kind} skills."
    shown_n = sum(m.strength == "shown" for m in matches)
    listed_n = sum(m.strength == "listed" for m in matches)
    return (f"{shown_n} of {len(matches)} {kind} skill(s) shown in experience, {listed_n} only listed, "
            f"{len(matches) - shown_n - listed_n} missing.")


def _experience(min_years: int | None, years: int | None) -> FitBreakdown:
    weight = WEIGHTS["experience"]
    if min_years is None:
        return FitBreakdown(component="experience", weight=weight, value=None,
                            reason="The job description asks for no number of years.")
    if years is None:
        return FitBreakdown(component="experience", weight=weight, value=None,
                            reason=f"{min_years}+ years asked; the resume's dates do not say how many.")
    value = min(1.0, years / min_years) if min_years else 1.0
    return FitBreakdown(component="experience", weight=weight, value=round(value, 3),
                        reason=f"{min_years}+ years asked; the resume spans about {years}.")


def _focus_areas(matches: list[SkillMatch]) -> list[FocusArea]:
    """Missing required skills first (adjacent experience?), then required ones only listed
    (prove it), then shown required ones (how deep?), then preferred gaps."""
    areas: list[FocusArea] = []
    for m in matches:
        if m.required and m.strength == "missing":
            areas.append(FocusArea(skill=m.skill, kind="missing",
                                   reason=f"Required {m.name} does not appear in the resume: ask for related "
                                          "experience."))
    for m in matches:
        if m.required and m.strength == "listed":
            areas.append(FocusArea(skill=m.skill, kind="unproven",
                                   reason=f"{m.name} is listed but no experience statement shows it in use."))
    for m in matches:
        if m.required and m.strength == "shown":
            areas.append(FocusArea(skill=m.skill, kind="depth",
                                   reason=f"{m.name} is required and shown: probe how deep it goes."))
    for m in matches:
        if not m.required and m.strength == "missing":
            areas.append(FocusArea(skill=m.skill, kind="missing",
                                   reason=f"Preferred {m.name} does not appear in the resume."))
    return areas[:MAX_FOCUS_AREAS]
