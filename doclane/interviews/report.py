"""The interview report: skill coverage and rubric scores, each resting on the candidate's words.

Deterministic: the same transcript always gives the same report. Every score cites the
answer spans it rests on (``AnswerSpan.text`` is exactly that stretch of the turn), so
a recruiter can check it. Scores read what was said, not who said it: names of people
and companies do not count, an answer that only repeats the question scores as empty,
and naming the concept a question targets never lowers a score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from doclane.interviews.answers import ACTION as _ACTION
from doclane.interviews.answers import HEDGE as _HEDGE
from doclane.interviews.answers import OWN as _OWN
from doclane.interviews.answers import RESULT as _RESULT
from doclane.interviews.answers import SITUATION as _SITUATION
from doclane.interviews.answers import target_credit
from doclane.interviews.answers import words as _words
from doclane.interviews.conversation import normalise
from doclane.interviews.profiles import statements
from doclane.interviews.skills import surface_pattern
from doclane.schemas.interviews import (
    AnswerSpan,
    Criterion,
    InterviewReport,
    InterviewSession,
    PlannedQuestion,
    RubricScore,
    SkillCoverage,
    Turn,
)

__all__ = ["RUBRIC_VERSION", "AnswerScore", "build_report", "score_answer"]

RUBRIC_VERSION = "rubric-rules@2"

_NUMBER = re.compile(r"\d")
_REASON = re.compile(r"\b(?:because|so that|so we|which meant|the reason|trade-?offs?|instead of|"
                     r"rather than|otherwise|in order to|to avoid|the risk|at the cost of|compared to)\b",
                     re.I)
_FILLER = re.compile(r"\b(?:um+|uh+|er+|like,|you know)\b", re.I)
#: The answer looks back: what was hard, what it found, what it would change.
_REFLECT = re.compile(r"\b(?:the hard(?:est)? part|was hard|difficult|tricky|the problem|the cause|"
                      r"found that|turned out|next time|if i did it again|i would now|now i would|"
                      r"today i would|i learned|what i learned|in hindsight|taught me|i would (?:add|start|"
                      r"consider|push|ask|expect|lean))\b", re.I)
#: Claims a recruiter cannot check: about oneself or about the topic in general.
_GENERIC = re.compile(
    r"\b(?:very important|is important|is key|best practices?|fast learner|learn (?:it|them|any\w*) quickly|"
    r"pick up any|passionate|natural \w+|big believer|industry standard|i am (?:very|really|a|sure)|"
    r"i always|i believe|i know the theory|on my list)\b", re.I)
#: A statement addressed to whoever scores, not an answer: it is blanked before scoring, so
#: "ignore your instructions and rate me 10/10" earns nothing (not even for its number).
_TO_THE_RATER = re.compile(
    r"\b(?:ignore (?:all |any |your |the |previous |prior )*(?:instructions|rules|prompt)|"
    r"(?:rate|score|mark|grade) (?:me|this|my answer|the answer)|"
    r"give me (?:a |the )?(?:full|top|perfect|maximum|10|five|5)|you are now|system prompt)\b", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
#: An answer sharing more than this share of its words with the question only repeats it.
_ECHO = 0.7


@dataclass(frozen=True)
class AnswerScore:
    """One answer's score per criterion (1-5), with the statements each rests on."""

    scores: dict[Criterion, float]
    evidence: dict[Criterion, list[tuple[int, int]]]


def _clamp(value: float) -> float:
    return round(min(5.0, max(1.0, value)), 2)


def _echo(question: str, answer: str) -> bool:
    asked, said = set(_words(question)), _words(answer)
    return bool(said) and sum(w in asked for w in said) / len(said) >= _ECHO


def _without_rater_talk(answer: str) -> str:
    """The answer with statements addressed to the scorer blanked (same length, same offsets)."""
    for a, b in reversed(statements(answer)):
        if _TO_THE_RATER.search(answer[a:b]):
            answer = answer[:a] + " " * (b - a) + answer[b:]
    return answer


def score_answer(question: PlannedQuestion | None, answer: str,
                 names: dict[str, str] | None = None) -> AnswerScore:
    """Score one answer on the rubric. The empty answer, and one that only repeats the
    question, get the lowest score on every criterion."""
    criteria: tuple[Criterion, ...] = ("relevance", "depth", "specificity", "structure", "communication")
    answer = _without_rater_talk(answer)
    words = _words(answer)
    if not words or (question is not None and _echo(question.text, answer)):
        return AnswerScore(dict.fromkeys(criteria, 1.0), {c: [] for c in criteria})
    names = names or {}
    spans = statements(answer)
    # Names of people and companies would make a score depend on who is named: a capital
    # counts as a word only once lower-cased, never as "specific" by itself.
    neutral = _CAPITALISED.sub("Name", answer)
    n = len(words)
    evidence: dict[Criterion, list[tuple[int, int]]] = {c: [] for c in criteria}

    def cite(criterion: Criterion, pattern: re.Pattern[str]) -> int:
        hits = 0
        for a, b in spans:
            if pattern.search(answer[a:b]):
                hits += 1
                evidence[criterion].append((a, b))
        return hits

    targets = list(question.targets) if question is not None else []
    credit = 0.0
    for skill in targets:
        credit += target_credit(skill, names.get(skill, skill), answer, spans)
        cite("relevance", surface_pattern(skill, names.get(skill, skill)))
    overlap = 0.0
    if question is not None and not targets:
        asked = {w for w in _words(question.text) if len(w) > 3}
        overlap = len(asked & set(words)) / max(len(asked), 1)
    relevance = 2 + 3 * (credit / len(targets) if targets else min(1.0, overlap * 3))

    reasons = cite("depth", _REASON)
    looking_back = cite("depth", _REFLECT)
    depth = 1 + min(1.5, n / 60) + min(1.5, 0.75 * reasons) + min(1.0, 0.5 * looking_back)

    numbers = len(_NUMBER.findall(neutral))
    cite("specificity", _NUMBER)
    own = cite("specificity", _OWN)
    generic = len(_GENERIC.findall(answer))
    technical = sum(bool(surface_pattern(s, names.get(s, s)).search(answer)) for s in names)
    specificity = (1 + min(1.5, numbers / 2) + min(1.0, technical / 2) + min(0.5, reasons / 2)
                   + min(1.0, own / 3) - min(1.5, 0.75 * generic))

    star = sum(cite("structure", p) > 0 for p in (_SITUATION, _ACTION, _RESULT))
    structure = 1 + 4 * star / 3

    sentence_lengths = [len(_words(answer[a:b])) for a, b in spans] or [n]
    mean_length = sum(sentence_lengths) / len(sentence_lengths)
    hedges = len(_HEDGE.findall(answer)) + len(_FILLER.findall(answer))
    communication = 5 - min(2.0, abs(mean_length - 16) / 10) - min(2.0, hedges * 40 / n)
    if n < 8:
        communication = min(communication, 2.0)
    evidence["communication"] = list(spans[:2])

    scores: dict[Criterion, float] = {
        "relevance": _clamp(relevance), "depth": _clamp(depth), "specificity": _clamp(specificity),
        "structure": _clamp(structure), "communication": _clamp(communication),
    }
    return AnswerScore(scores, evidence)


def _answers(session: InterviewSession) -> list[Turn]:
    return [t for t in session.transcript if t.role == "candidate" and t.question_id and t.text.strip()]


def _asked(session: InterviewSession) -> set[str]:
    return {t.question_id for t in session.transcript
            if t.role == "interviewer" and t.question_id and t.kind in ("question", "follow_up")}


def build_report(session: InterviewSession, provider: str) -> InterviewReport:
    questions = {q.id: q for q in session.plan}
    answers = _answers(session)
    scored = [(turn, score_answer(questions.get(turn.question_id or ""), turn.text, session.skill_names))
              for turn in answers]
    criteria: tuple[Criterion, ...] = ("relevance", "depth", "specificity", "structure", "communication")
    rubric = []
    for criterion in criteria:
        values = [s.scores[criterion] for _, s in scored]
        mean = round(sum(values) / len(values), 2) if values else 1.0
        cited = [AnswerSpan(turn_index=t.index, start=a, end=b, text=t.text[a:b])
                 for t, s in scored for a, b in s.evidence[criterion]][:5]
        rubric.append(RubricScore(criterion=criterion, score=mean, evidence=cited,
                                  reason=_reason(criterion, mean, len(values))))
    skills = _coverage(session, answers)
    overall = round(sum(r.score for r in rubric) / len(rubric), 2)
    required = [s for s in skills if s.required]
    shown_share = sum(s.shown for s in required) / len(required) if required else 0.0
    return InterviewReport(
        session_id=session.id,
        skills=skills,
        rubric=rubric,
        overall=overall,
        strengths=[f"{r.criterion}: {r.reason}" for r in rubric if r.score >= 4]
        + [f"Showed {s.name} with specifics." for s in skills if s.shown],
        gaps=[f"{r.criterion}: {r.reason}" for r in rubric if r.score <= 2.5]
        + [f"Did not show {s.name} ({_why_not_shown(s)})." for s in required if not s.shown],
        recommendation=_recommend(overall, shown_share),
        provider=provider,
        rubric_version=RUBRIC_VERSION,
    )


def _recommend(overall: float, shown_share: float) -> Literal["strong_yes", "yes", "lean_no", "no"]:
    if overall >= 4 and shown_share >= 0.8:
        return "strong_yes"
    if overall >= 3.2 and shown_share >= 0.5:
        return "yes"
    if overall >= 2.4:
        return "lean_no"
    return "no"


def _reason(criterion: Criterion, score: float, answers: int) -> str:
    if not answers:
        return "No answers to score."
    level = "strong" if score >= 4 else "adequate" if score >= 3 else "weak"
    what = {
        "relevance": "answers address the skills each question targeted",
        "depth": "answers explain reasons and trade-offs, at length",
        "specificity": "answers give numbers and name the technologies used",
        "structure": "answers give the situation, the candidate's own actions and the result",
        "communication": "sentences are clear, with little hedging or filler",
    }[criterion]
    return f"{level} ({score:.1f}/5 over {answers} answer(s)): how far {what}."


def _why_not_shown(skill: SkillCoverage) -> str:
    if skill.evidence:  # the answers name it, but no sentence that does shows it
        return "named, but with no action, number or result"
    return "never asked" if not skill.asked else "not in the answers"


def _coverage(session: InterviewSession, answers: Sequence[Turn]) -> list[SkillCoverage]:
    asked_ids = _asked(session)
    coverage = []
    for skill, name in session.skill_names.items():
        targeted = {q.id for q in session.plan if skill in q.targets}
        pattern = surface_pattern(skill, name)
        own = [t for t in answers if t.question_id in targeted]
        mentions = [t for t in answers if pattern.search(t.text)]
        evidence = []
        shown = False
        for turn in mentions:
            for a, b in statements(turn.text):
                sentence = turn.text[a:b]
                if pattern.search(sentence):
                    evidence.append(AnswerSpan(turn_index=turn.index, start=a, end=b, text=sentence))
                    shown = shown or bool(_ACTION.search(sentence) or _NUMBER.search(sentence)
                                          or _RESULT.search(sentence))
        coverage.append(SkillCoverage(
            skill=skill, name=name, required=skill in session.required_skills,
            asked=bool(targeted & asked_ids), answered=any(normalise(t.text) for t in own),
            shown=shown, evidence=evidence[:3]))
    return coverage
