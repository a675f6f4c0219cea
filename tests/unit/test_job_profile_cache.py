"""The gateway reads a job description once for all the resumes assessed against it: reading it
with the skill model is about a second of CPU, and a hiring team assesses many candidates for one
job. What the cache gives back must be what reading it again would give."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.interview_set import pipeline_document
from doclane.api import interviews as routes
from doclane.infra.settings import Settings
from doclane.interviews import assess
from doclane.interviews.judge import load_judge
from doclane.interviews.profiles import job_profile
from doclane.interviews.skills import known_skills

MODELS = Settings().models_dir
JD = """# Data Engineer

## What you need
- Python and SQL every day
- Airflow or Dagster for orchestration
- Experience with Kafka is a plus
"""
RESUMES = ["Ana Silva\nData engineer. Built pipelines in Python and Airflow, 2019-present.\n",
           "Ben Okoro\nAnalyst. SQL reports and dashboards, 2021-present.\n"]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the job descriptions the gateway's cache reads from scratch."""
    made: list[str] = []

    def counted(doc, *rest):  # type: ignore[no-untyped-def]
        made.append(doc.id)
        return job_profile(doc, *rest)

    monkeypatch.setattr(routes, "job_profile", counted)
    return made


def test_one_job_description_is_read_once_for_many_resumes_and_again_when_its_text_changes(
        tmp_path: Path, reads: list[str]) -> None:
    known, judge = known_skills(MODELS), load_judge(MODELS)
    (tmp_path / "jd.md").write_text(JD, encoding="utf-8")
    job, job_chunks = pipeline_document(tmp_path / "jd.md", tmp_path, MODELS)
    profiles = routes.JobProfiles()
    for n, text in enumerate(RESUMES):
        (tmp_path / f"cv{n}.txt").write_text(text, encoding="utf-8")
        resume, resume_chunks = pipeline_document(tmp_path / f"cv{n}.txt", tmp_path, MODELS)
        cached = assess(job, job_chunks, resume, resume_chunks, known, None, judge,
                        profiles.get(job, job_chunks, known, judge))
        assert cached == assess(job, job_chunks, resume, resume_chunks, known, None, judge)
    assert reads == [job.id]

    # processed again with other text (same id): read again, and what it asks now is what counts
    edited = [c.model_copy(update={"text": c.text.replace("SQL", "Rust"), "entities": None})
              for c in job_chunks]
    now = profiles.get(job, edited, known, judge)
    assert reads == [job.id, job.id]
    assert now == job_profile(job, edited, known, judge) != job_profile(job, job_chunks, known, judge)
    # the rules alone read it their own way
    profiles.get(job, job_chunks, known, None)
    assert len(reads) == 3


def test_the_least_recently_used_profile_makes_room(tmp_path: Path, reads: list[str]) -> None:
    known = known_skills(MODELS)
    docs = {}
    for name, title in (("a", "Data Engineer"), ("b", "Analytics Engineer"), ("c", "ML Engineer")):
        (tmp_path / f"{name}.md").write_text(JD.replace("Data Engineer", title), encoding="utf-8")
        docs[name] = pipeline_document(tmp_path / f"{name}.md", tmp_path, MODELS)
    profiles = routes.JobProfiles(size=2)
    for name in "abaca":  # "a" was used after "b": "c" takes "b"'s place, and "a" is still there
        profiles.get(*docs[name], known, None)
    assert reads == [docs[name][0].id for name in "abc"]
