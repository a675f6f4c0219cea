"""The question plan: which questions an interview asks, about which skills, and why.

Every required skill of the job description is a target of some question when the
budget allows one per skill; with a smaller budget, skills are grouped so that all of
them are still covered. Each question says where it comes from: the resume statement it
asks about, or the job description's line that makes the skill required.

Order follows how a good interviewer builds the conversation: first what the candidate
has done (depth), then what they only list (prove it), then what is missing (adjacent
experience), then how they worked (a behavioural question on a responsibility).
"""

from __future__ import annotations

import math

from doclane.schemas.interviews import Assessment, PlannedQuestion, SkillMatch, SourceSpan

__all__ = ["PLAN_VERSION", "plan_questions"]

PLAN_VERSION = "plan-templates@2"  # @2: questions ask what was done, not what was built

_ORDER = {"shown": 0, "listed": 1, "missing": 2}


def _quote(span: SourceSpan | None, limit: int = 160) -> str:
    if span is None:
        return ""
    text = span.text.lstrip("-•*· ").strip().rstrip(".;")
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _names(matches: list[SkillMatch]) -> str:
    names = [m.name for m in matches]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _requirement_span(assessment: Assessment, skill: str) -> SourceSpan | None:
    for requirement in (*assessment.job.required_skills, *assessment.job.preferred_skills):
        if requirement.skill == skill and requirement.evidence:
            return requirement.evidence[0]
    return None


def _question(assessment: Assessment, number: int, group: list[SkillMatch]) -> PlannedQuestion:
    """One question about ``group``, grounded in the span that gives reason to ask it."""
    lead = group[0]
    targets = [m.skill for m in group]
    strengths = {m.strength for m in group}
    needs = "needs" if lead.required else "would welcome"
    source: SourceSpan | None
    if strengths == {"shown"} and len(group) == 1:
        source, source_kind, kind = lead.evidence[0], "resume", "technical"
        text = (f"Your resume says: \u201c{_quote(source)}\u201d. Walk me through how you used "
                f"{lead.name} there: what was hard, and what would you do differently now?")
    elif strengths == {"shown"}:
        source, source_kind, kind = lead.evidence[0], "resume", "technical"
        text = (f"Your resume mentions {_names(group)}. Pick the piece of work where you relied on them "
                "most: what did you do, what was hard, and what would you do differently now?")
    elif strengths == {"listed"}:
        source, source_kind, kind = lead.evidence[0], "resume", "technical"
        text = (f"You list {_names(group)} on your resume. Tell me about a concrete piece of work where "
                "you used " + ("it" if len(group) == 1 else "them") + ": what you did, and the decisions "
                "you made.")
    elif strengths == {"missing"}:
        source, source_kind, kind = _requirement_span(assessment, lead.skill), "jd", "gap"
        text = (f"This role {needs} {_names(group)}. What experience do you have with "
                + ("it" if len(group) == 1 else "them") + ", or with something close, and how would you "
                "get up to speed?")
    else:  # a small budget grouped skills the resume shows, lists or lacks
        source, source_kind, kind = _requirement_span(assessment, lead.skill), "jd", "technical"
        text = (f"This role {needs} {_names(group)}. Which of these have you used in real work, and "
                "what did you use them for? For any you have not used, what comes closest?")
    return PlannedQuestion(id=f"q{number}", text=text, targets=targets, kind=kind,
                           source_kind=source_kind, source=source)


def _behavioural(assessment: Assessment, number: int) -> PlannedQuestion | None:
    if not assessment.job.responsibilities:
        return None
    item = assessment.job.responsibilities[0]
    skills = [r.skill for r in assessment.job.required_skills if r.name.lower() in item.value.lower()]
    return PlannedQuestion(
        id=f"q{number}",
        text=(f"The role involves this: \u201c{_quote(item.evidence)}\u201d. Tell me about a time you did "
              "something similar: the situation, what you did yourself, and the result."),
        targets=skills, kind="behavioural", source_kind="jd", source=item.evidence)


def plan_questions(assessment: Assessment, max_questions: int) -> list[PlannedQuestion]:
    """At most ``max_questions`` questions covering every required skill (grouped when the
    budget is smaller than their number), then preferred ones and a behavioural question."""
    required = sorted((m for m in (*assessment.matched, *assessment.missing) if m.required),
                      key=lambda m: _ORDER[m.strength])
    preferred = [m for m in (*assessment.matched, *assessment.missing) if not m.required]
    budget = max(1, max_questions)
    behavioural_slot = 1 if assessment.job.responsibilities and budget > len(required) else 0
    skill_slots = budget - behavioural_slot

    groups: list[list[SkillMatch]] = []
    if required:
        per_question = math.ceil(len(required) / skill_slots)
        for strength in ("shown", "listed", "missing"):  # a question asks about one kind of evidence
            same = [m for m in required if m.strength == strength]
            groups.extend(same[i:i + per_question] for i in range(0, len(same), per_question))
        while len(groups) > skill_slots:  # rounding per strength made one group too many
            smallest = min(range(1, len(groups)), key=lambda i: len(groups[i - 1]) + len(groups[i]))
            groups[smallest - 1:smallest + 1] = [groups[smallest - 1] + groups[smallest]]
    for match in sorted(preferred, key=lambda m: _ORDER[m.strength]):
        if len(groups) >= skill_slots:
            break
        groups.append([match])

    questions = [_question(assessment, i + 1, group) for i, group in enumerate(groups)]
    if len(questions) < budget:
        behavioural = _behavioural(assessment, len(questions) + 1)
        if behavioural is not None:
            questions.append(behavioural)
    return questions
