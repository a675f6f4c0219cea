"""Interview quality on the interview set: question plans and answer scoring, offline.

Plans: each pair goes through the pipeline's pieces (:func:`bench.interview_set.pipeline_chunks`),
is assessed, and planned at several budgets. Measured per budget: how much of the job
description's required skills the questions target (as extracted, and as a recruiter
listed them by hand), that no question targets a skill neither document names, that every
cited span is exactly the text of its chunk, and the precision and recall of the extracted
required skills against the hand lists.

Scoring: an answer's score is the mean of its rubric criteria (what the report's overall
is made of). Concordance is the share of pairs of answers with different labels that the
scores order like the labels (ties count half). Metamorphic checks need no labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from bench.interview_set import (
    LABELS,
    Answer,
    Pair,
    add_concept,
    names_of,
    pipeline_chunks,
    pipeline_document,
    rename,
)
from doclane.interviews import assess
from doclane.interviews.judge import load_judge
from doclane.interviews.plan import plan_questions
from doclane.interviews.profiles import Judge, job_profile
from doclane.interviews.report import score_answer
from doclane.interviews.skills import known_skills, surface_pattern
from doclane.schemas.documents import ChunkRecord
from doclane.schemas.interviews import Assessment, JobProfile, PlannedQuestion, SourceSpan

__all__ = ["BUDGETS", "PlanRow", "answer_score", "concordance", "extraction_row", "extraction_rows",
           "metamorphic", "plan_rows",
           "second_recruiter", "span_errors"]

BUDGETS = (3, 6, 10)


@dataclass
class PlanRow:
    pair: str
    role: str
    budget: int
    questions: int
    required_extracted: int
    covered_extracted: float
    covered_hand: float
    #: Targets that neither the job description nor the resume names.
    foreign_targets: list[str]
    #: Cited spans that are not exactly their chunk's text.
    bad_spans: int
    spans: int


def _all_spans(assessment: Assessment, questions: Sequence[PlannedQuestion]) -> Iterable[SourceSpan]:
    job, candidate = assessment.job, assessment.candidate
    for requirement in (*job.required_skills, *job.preferred_skills, *candidate.skills):
        yield from requirement.evidence
    for match in (*assessment.matched, *assessment.missing):
        yield from match.evidence
    for item in (
        *job.responsibilities,
        *candidate.roles,
        *candidate.employers,
        *candidate.dates,
        *candidate.projects,
    ):
        yield item.evidence
    for question in questions:
        if question.source is not None:
            yield question.source


def span_errors(spans: Iterable[SourceSpan], chunks: dict[str, list[ChunkRecord]]) -> tuple[int, int]:
    """(spans that are not exactly ``chunk.text[start:end]``, spans checked)."""
    bad = total = 0
    for span in spans:
        total += 1
        texts = {c.index: c.text for c in chunks.get(span.document_id, [])}
        text = texts.get(span.chunk_index)
        if text is None or text[span.start : span.end] != span.text:
            bad += 1
    return bad, total


def _hand_prf(pair: Pair, listed: Sequence[frozenset[str]]) -> tuple[int, int, int]:
    """(hand-listed required skills found, skills listed, listed ones the hand lists accept).

    ``listed`` is one set of names per skill (an extracted skill has one name; a second
    recruiter's ``a|b`` has two): a hand-listed skill is found when any of its names is listed,
    a listed skill is accepted when any of its names is required, preferred or acceptable.
    """
    acceptable = set().union(*pair.required, *pair.also_ok, *pair.preferred)
    named = set().union(*listed)
    found = sum(bool(names & named) for names in pair.required)
    correct = sum(bool(names & acceptable) for names in listed)
    return found, len(listed), correct


def second_recruiter(pairs: Sequence[Pair], lists: dict[str, dict[str, list[str]]]) -> list[dict[str, Any]]:
    """A second recruiter's required skills scored against the first's hand lists, as the
    extraction is (:func:`_hand_prf`): how far two careful readers of the same job
    descriptions agree. ``lists`` maps a pair id to ``{"required": [...], "preferred": [...]}``,
    names written as in the hand lists (``a|b`` names one skill two ways)."""
    out = []
    for pair in pairs:
        if pair.id in lists:
            found, listed, correct = _hand_prf(pair, names_of(lists[pair.id]["required"]))
            out.append({"pair": pair.id, "found": found, "hand_required": len(pair.required),
                        "extracted": listed, "correct": correct})
    return out


def extraction_row(pair: Pair, job: JobProfile) -> dict[str, Any]:
    """A job profile's required skills against the pair's hand lists: found, missed and wrong."""
    required = {r.skill for r in job.required_skills}
    found, extracted_n, correct = _hand_prf(pair, [frozenset({name}) for name in required])
    acceptable = set().union(*pair.required, *pair.also_ok, *pair.preferred)
    return {
        "pair": pair.id,
        "role": pair.role,
        "hand_required": len(pair.required),
        "found": found,
        "extracted": extracted_n,
        "correct": correct,
        "missed": [sorted(n)[0] for n in pair.required if not n & required],
        "wrong": sorted(s for s in required if s not in acceptable),
        "preferred_extracted": sorted(r.skill for r in job.preferred_skills),
    }


def extraction_rows(items: Sequence[Pair], folder: Path, models_dir: Path,
                    judge: Judge | None) -> list[dict[str, Any]]:
    """:func:`extraction_row` of each JD of ``items`` read by the pipeline's pieces, then the
    rules alone (``judge`` ``None``) or the rules and the trained skill model."""
    known = known_skills(models_dir)
    rows = []
    for item in items:
        doc, chunks = pipeline_document(item.jd, folder, models_dir)
        rows.append(extraction_row(item, job_profile(doc, chunks, known, judge)))
    return rows


def plan_rows(
    pairs: Sequence[Pair], folder: Path, models_dir: Path
) -> tuple[list[PlanRow], list[dict[str, Any]]]:
    """Plan rows per pair and budget, and per pair the extraction's precision and recall."""
    known = known_skills(models_dir)
    judge = load_judge(models_dir)
    rows, extraction = [], []
    for pair in pairs:
        (jd, jd_chunks), (resume, resume_chunks) = pipeline_chunks(pair, folder, models_dir)
        assessment = assess(jd, jd_chunks, resume, resume_chunks, known, judge=judge)
        chunks = {jd.id: jd_chunks, resume.id: resume_chunks}
        required = {r.skill for r in assessment.job.required_skills}
        names = {r.skill: r.name for r in (*assessment.job.required_skills, *assessment.job.preferred_skills)}
        extraction.append(extraction_row(pair, assessment.job))
        text = "\n".join(c.text for c in (*jd_chunks, *resume_chunks))
        for budget in BUDGETS:
            plan = plan_questions(assessment, budget)
            targets = {t for q in plan for t in q.targets}
            foreign = sorted(t for t in targets if not surface_pattern(t, names.get(t, t)).search(text))
            bad, total = span_errors(_all_spans(assessment, plan), chunks)
            rows.append(
                PlanRow(
                    pair=pair.id,
                    role=pair.role,
                    budget=budget,
                    questions=len(plan),
                    required_extracted=len(required),
                    covered_extracted=len(targets & required) / len(required) if required else 1.0,
                    covered_hand=sum(bool(n & targets) for n in pair.required) / len(pair.required),
                    foreign_targets=foreign,
                    bad_spans=bad,
                    spans=total,
                )
            )
    return rows, extraction


def answer_score(question: PlannedQuestion, text: str) -> float:
    """The answer's overall score: the mean of its rubric criteria (1-5)."""
    scores = score_answer(question, text, {t: t for t in question.targets}).scores
    return round(sum(scores.values()) / len(scores), 4)


def concordance(scored: Sequence[tuple[Answer, float]], same_question: bool = False) -> tuple[float, int]:
    """Share of differently labelled pairs ordered like their labels (ties half), and the pair count."""
    good, n = 0.0, 0
    for (a, sa), (b, sb) in combinations(scored, 2):
        if LABELS[a.label] == LABELS[b.label] or (same_question and a.question_id != b.question_id):
            continue
        n += 1
        low, high = (sa, sb) if LABELS[a.label] < LABELS[b.label] else (sb, sa)
        good += 1.0 if high > low else 0.5 if high == low else 0.0
    return (good / n if n else 0.0), n


def metamorphic(answers: Sequence[Answer]) -> dict[str, dict[str, Any]]:
    """Each check's failures over all answers (ids), and how many cases it ran."""
    checks: dict[str, dict[str, Any]] = {
        name: {"cases": 0, "failures": []}
        for name in ("empty_lowest", "echo_lowest", "concept_never_lowers", "names_do_not_count")
    }

    def record(name: str, ok: bool, answer_id: str) -> None:
        checks[name]["cases"] += 1
        if not ok:
            checks[name]["failures"].append(answer_id)

    for answer in answers:
        question, score = answer.question, answer_score(answer.question, answer.text)
        empty = answer_score(question, "")
        echo = answer_score(question, question.text)
        record("empty_lowest", empty <= score and empty <= echo, answer.id)
        record("echo_lowest", echo <= score, answer.id)
        record(
            "concept_never_lowers",
            answer_score(question, add_concept(question, answer.text)) >= score,
            answer.id,
        )
        record("names_do_not_count", answer_score(question, rename(answer.text)) == score, answer.id)
    return checks
