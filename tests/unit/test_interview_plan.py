"""Question plans: every required skill is a target within the budget (grouped when the
budget is smaller), nothing is asked about a skill neither document names, and every cited
span is exactly its chunk's text. First on assessments built by hand (every budget and
size), then on the interview set's pairs through the pipeline's readers and NER model."""

from __future__ import annotations

import re
import tempfile
from itertools import product
from pathlib import Path

import pytest

from bench.interview_quality import plan_rows
from bench.interview_set import pairs
from doclane.ai.ner import model_path
from doclane.infra.settings import Settings
from doclane.interviews.plan import plan_questions
from doclane.schemas.interviews import (
    Assessment,
    CandidateProfile,
    JobProfile,
    SkillMatch,
    SkillRequirement,
    SourceSpan,
    SpanItem,
)

_STRENGTHS = ("shown", "listed", "missing")


def _span(doc: str, text: str) -> SourceSpan:
    return SourceSpan(document_id=doc, chunk_index=0, start=0, end=len(text), text=text)


def _assessment(required: int, preferred: int, responsibilities: bool = True) -> Assessment:
    def match(i: int, is_required: bool) -> SkillMatch:
        strength = _STRENGTHS[i % 3]
        evidence = [] if strength == "missing" else [_span("cv", f"Built things with skill{i}.")]
        return SkillMatch(
            skill=f"skill{i}", name=f"Skill{i}", required=is_required, strength=strength, evidence=evidence
        )

    matches = [match(i, True) for i in range(required)] + [match(100 + i, False) for i in range(preferred)]
    job = JobProfile(
        document_id="jd",
        title="Engineer",
        seniority=None,
        min_years=None,
        required_skills=[
            SkillRequirement(
                skill=m.skill,
                name=m.name,
                required=True,
                evidence=[_span("jd", f"Experience with {m.name}.")],
            )
            for m in matches
            if m.required
        ],
        preferred_skills=[
            SkillRequirement(
                skill=m.skill, name=m.name, required=False, evidence=[_span("jd", f"{m.name} is a plus.")]
            )
            for m in matches
            if not m.required
        ],
        responsibilities=[SpanItem(value="Run the platform.", evidence=_span("jd", "Run the platform."))]
        if responsibilities
        else [],
    )
    candidate = CandidateProfile(
        document_id="cv",
        name=None,
        skills=[],
        roles=[],
        employers=[],
        dates=[],
        projects=[],
        years_of_experience=None,
    )
    return Assessment(
        job=job,
        candidate=candidate,
        matched=[m for m in matches if m.strength != "missing"],
        missing=[m for m in matches if m.strength == "missing"],
        fit_score=50,
        breakdown=[],
        focus_areas=[],
        version="test",
    )


@pytest.mark.parametrize(
    ("required", "preferred", "responsibilities"), list(product([0, 1, 2, 5, 9], [0, 3], [True, False]))
)
def test_every_required_skill_is_asked_about_within_any_budget(required, preferred, responsibilities):
    assessment = _assessment(required, preferred, responsibilities)
    names = {m.skill for m in (*assessment.matched, *assessment.missing)}
    for budget in range(1, 13):
        plan = plan_questions(assessment, budget)
        targets = [t for q in plan for t in q.targets]
        assert 1 <= len(plan) <= budget or (not required and not preferred and not responsibilities)
        assert {f"skill{i}" for i in range(required)} <= set(targets), (budget, plan)
        assert set(targets) <= names  # nothing the documents do not name
        assert len(targets) == len(set(targets)), "a skill is asked about once"
        assert len({q.id for q in plan}) == len(plan)
        for question in plan:
            assert question.targets or question.kind == "behavioural"
            assert question.source is not None
            kinds = {
                m.strength for m in (*assessment.matched, *assessment.missing) if m.skill in question.targets
            }
            if question.source_kind == "resume":  # a resume quote is only for skills the resume names
                assert "missing" not in kinds


def test_a_budget_of_one_skill_per_question_asks_one_question_per_skill_then_the_preferred():
    assessment = _assessment(4, 2)
    plan = plan_questions(assessment, 10)
    assert [q.targets for q in plan[:4]] == [
        ["skill0"],
        ["skill3"],
        ["skill1"],
        ["skill2"],
    ]  # shown, listed, missing
    assert {t for q in plan for t in q.targets} >= {"skill100", "skill101"}
    assert plan[-1].kind == "behavioural"


@pytest.fixture(scope="module")
def set_rows():
    models_dir = Settings().models_dir
    if not model_path(models_dir).exists():
        pytest.fail(f"the NER model is not built in {models_dir}: run `make models` first")
    with tempfile.TemporaryDirectory() as folder:
        return plan_rows(pairs(), Path(folder), models_dir)


def test_plans_of_the_interview_set_cover_the_required_skills_and_cite_exact_spans(set_rows):
    rows, _ = set_rows
    assert len({r.pair for r in rows}) >= 15
    for row in rows:
        assert row.questions <= row.budget, row
        assert row.covered_extracted == 1.0, row  # grouped when the budget is small
        assert row.foreign_targets == [], row
        assert row.bad_spans == 0 and row.spans > 0, row


def test_job_description_skills_are_found_in_every_kind_of_job(set_rows):
    _, extraction = set_rows
    tuning = [e for e in extraction if e["pair"] <= "p16"]
    found = sum(e["found"] for e in tuning) / sum(e["hand_required"] for e in tuning)
    correct = sum(e["correct"] for e in tuning) / sum(e["extracted"] for e in tuning)
    assert found >= 0.9 and correct >= 0.85, (found, correct)
    for e in extraction:  # duty verbs at the start of bullets are not skills
        assert not {"build", "own", "keep", "run", "write", "plan"} & set(e["wrong"]), e


@pytest.mark.parametrize("budget", [1, 2, 4, 12])
def test_questions_do_not_assume_the_candidate_builds_software(budget):
    """A warehouse manager's IOSH certificate or a nurse's triage is not something 'built':
    the templates ask what the candidate did, whatever the job."""
    for question in plan_questions(_assessment(9, 3), budget):
        asked = re.sub(r"\u201c[^\u201d]*\u201d", "", question.text)  # the resume's own words may say it
        assert not {"build", "built"} & set(re.findall(r"[a-z]+", asked.lower())), question.text
