"""The report's gaps say why a required skill was not shown: never asked, never named in the
answers, or named without anything that shows it (an action, a number, a result)."""

from __future__ import annotations

from doclane.interviews.report import build_report
from doclane.schemas.interviews import InterviewSession, PlannedQuestion, Turn


def _session(answer: str) -> InterviewSession:
    question = PlannedQuestion(id="q1", text="You list Excel and absence management on your resume...",
                               targets=["excel", "absence management"], kind="technical",
                               source_kind="resume")
    never = PlannedQuestion(id="q2", text="This role needs IOSH Managing Safely...",
                            targets=["iosh managing safely"], kind="gap", source_kind="jd")
    transcript = [
        Turn(index=0, role="interviewer", text=question.text, kind="question", question_id="q1"),
        Turn(index=1, role="candidate", text=answer, kind="answer", question_id="q1"),
    ]
    return InterviewSession(
        id="s1", owner="alice", job_description_id="jd", resume_id="cv", provider="local", max_questions=2,
        duration_min=30, plan=[question, never], transcript=transcript,
        skill_names={"excel": "Excel", "absence management": "absence management",
                     "iosh managing safely": "IOSH Managing Safely"},
        required_skills=["excel", "absence management", "iosh managing safely"])


def test_a_required_skill_named_without_specifics_is_not_said_to_be_missing_from_the_answers():
    report = build_report(_session("I mostly use Excel for the labour plan, it works well for us."), "local")
    gaps = "\n".join(report.gaps)
    assert "Did not show Excel (named, but with no action, number or result)." in gaps
    assert "Did not show absence management (not in the answers)." in gaps
    assert "Did not show IOSH Managing Safely (never asked)." in gaps


def test_a_required_skill_shown_with_a_result_is_a_strength_not_a_gap():
    answer = "I rebuilt the Excel labour plan and overtime dropped by a third."
    report = build_report(_session(answer), "local")
    assert "Showed Excel with specifics." in report.strengths
    assert not any("Excel" in gap for gap in report.gaps)
