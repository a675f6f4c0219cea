"""The job description skill model (:mod:`doclane.interviews.judge`, trained by ``models/jdskills``)
on job descriptions written for these tests, read by the pipeline's own pieces (format reader,
chunker, the trained NER model) as the service reads an upload; and what it may learn from.

Each JD here is one the rules alone get wrong in the way the test names (checked when the test was
written): the model is what makes the difference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.interview_set import pipeline_document
from doclane.infra.settings import Settings
from doclane.interviews import ASSESSMENT_VERSION, assess
from doclane.interviews.judge import SkillJudge, load_judge
from doclane.interviews.profiles import job_profile
from doclane.interviews.skills import known_skills
from doclane.schemas.interviews import JobProfile
from models.jdskills.sets import JDS, TEST, heldout_pairs, training_items

MODELS = Settings().models_dir


@pytest.fixture(scope="module")
def judge() -> SkillJudge:
    found = load_judge(MODELS)
    if found is None:
        pytest.fail("no job description skill model: run `make models`")
    return found


def _profile(tmp_path: Path, name: str, text: str, judge: SkillJudge | None) -> JobProfile:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    doc, chunks = pipeline_document(source, tmp_path, MODELS)
    return job_profile(doc, chunks, known_skills(MODELS), judge)


def _required(profile: JobProfile) -> set[str]:
    return {r.skill for r in profile.required_skills}


PHYSIO = """# Band 6 Musculoskeletal Physiotherapist

## About the service
Our MSK team sees adults referred by GPs. We record all activity on EMIS Web and use TrakCare for
hospital referrals; full training in both is given at induction.

## Main duties
- Assess and treat patients with complex MSK conditions
- Supervise Band 5 staff and students on placement

## Person specification
- Registration with the HCPC (essential)
- Post-registration experience in outpatient musculoskeletal physiotherapy
- Confident using outcome measures and exercise prescription
- Full driving licence

## What we offer
27 days' leave, NHS pension and free Udemy courses.
"""

CNC = """CNC Setter Operator - Precision Engineering

We machine aerospace brackets on a 5-axis cell in Shannon.

What you will do
- Set and run CNC mills for short batches
- Inspect first-off parts

What you need
- Confident using measuring equipment: micrometers, verniers, height gauges and bore gauges
- Able to read engineering drawings and GD&T callouts
- Fanuc or Heidenhain controls, ideally both

Pay: EUR 17 an hour plus shift allowance.
"""


def test_a_person_specs_asks_are_found_and_its_stray_words_are_not(tmp_path: Path, judge: SkillJudge) -> None:
    # the rules alone miss outcome measures and exercise prescription and list "full" (of
    # "Full driving licence") as a skill
    required = _required(_profile(tmp_path, "physio.md", PHYSIO, judge))
    assert {"hcpc", "driving licence", "outcome measures", "exercise prescription"} <= required
    assert "full" not in required
    assert not {"emis web", "trakcare", "udemy"} & required  # what the employer teaches or gives


def test_the_instruments_a_requirement_lists_after_a_colon_are_asked_for(tmp_path: Path,
                                                                          judge: SkillJudge) -> None:
    # the rules alone find verniers only, and list "read engineering" beside engineering drawings
    required = _required(_profile(tmp_path, "cnc.txt", CNC, judge))
    assert {"micrometers", "verniers", "height gauges", "bore gauges", "engineering drawings"} <= required
    assert "read engineering" not in required


def test_an_assessment_names_the_skill_model_it_was_made_with(tmp_path: Path, judge: SkillJudge) -> None:
    jd, resume = tmp_path / "physio.md", tmp_path / "cv.txt"
    jd.write_text(PHYSIO, encoding="utf-8")
    resume.write_text("Sam Reed\nPhysiotherapist, HCPC registered, 2019-present.\n", encoding="utf-8")
    (job, job_chunks), (cv, cv_chunks) = (pipeline_document(p, tmp_path, MODELS) for p in (jd, resume))
    made = assess(job, job_chunks, cv, cv_chunks, known_skills(MODELS), judge=judge)
    assert made.version == f"{ASSESSMENT_VERSION}+{judge.version}"
    assert "hcpc" in {m.skill for m in made.matched}


def test_no_job_description_the_model_is_scored_on_is_trained_on() -> None:
    trained = {item.jd.resolve() for item in training_items()}
    test_set = {p.resolve() for p in (JDS / TEST).iterdir() if p.name not in ("labels.json", "second.json")}
    assert trained and test_set
    assert not trained & test_set
    assert not trained & {pair.jd.resolve() for pair in heldout_pairs()}
    labelled = json.loads((JDS / TEST / "labels.json").read_text(encoding="utf-8"))["jds"]
    assert len(labelled) == len(test_set) == 20


NURSE = """# Staff Nurse, Ward 7

Riverside Hospital is looking for a staff nurse to join the rest of our friendly ward team.

## Requirements
- Registration with the NMC
- Experience in acute care
- You take your breaks and help the rest of the team take theirs

## What we offer
We hire for values and train the rest. Free parking.
"""


def test_an_everyday_word_that_is_also_a_skills_alias_is_not_it(tmp_path: Path, judge: SkillJudge) -> None:
    # "the rest" is not REST: the model kept "rest apis" at 0.97 for a nurse before the fix
    required = _required(_profile(tmp_path, "nurse.md", NURSE, judge))
    assert "acute care" in required and "rest apis" not in required
    api = "Backend developer\n\nRequirements\n- Designing REST APIs in Go\n- Node and TypeScript\n"
    assert {"rest apis", "node.js"} <= _required(_profile(tmp_path, "api.md", api, judge))
    # nor is a resume's "the rest of the time" evidence of REST APIs
    jd, resume = tmp_path / "api.md", tmp_path / "cv.txt"
    resume.write_text("Ana Diaz\nSupport analyst, 2020-present. I fixed printers and spent the rest of the "
                      "time on a node in the office network.\n", encoding="utf-8")
    (job, job_chunks), (cv, cv_chunks) = (pipeline_document(p, tmp_path, MODELS) for p in (jd, resume))
    made = assess(job, job_chunks, cv, cv_chunks, known_skills(MODELS), judge=judge)
    assert not {"rest apis", "node.js"} & {m.skill for m in made.matched}


def test_a_tools_name_used_as_a_verb_is_not_evidence_of_the_tool(tmp_path: Path, judge: SkillJudge) -> None:
    jd, boasts, lists = tmp_path / "jd.md", tmp_path / "boasts.txt", tmp_path / "lists.txt"
    jd.write_text("# Operations Coordinator\n\n## Requirements\n- Advanced Excel\n- Lean methods\n",
                  encoding="utf-8")
    boasts.write_text("Priya Shah\nOffice assistant, 2019-present.\nI excel at keeping teams organised and "
                      "lean on data when I plan.\n", encoding="utf-8")
    lists.write_text("Priya Shah\nOffice assistant, 2019-present.\nSkills: excel, outlook, lean\n",
                     encoding="utf-8")
    job, job_chunks = pipeline_document(jd, tmp_path, MODELS)
    matched: dict[str, set[str]] = {}
    for resume in (boasts, lists):
        cv, cv_chunks = pipeline_document(resume, tmp_path, MODELS)
        made = assess(job, job_chunks, cv, cv_chunks, known_skills(MODELS), judge=judge)
        matched[resume.stem] = {m.skill for m in made.matched}
    assert not {"excel", "lean"} & matched["boasts"]  # "I excel at", "I lean on"
    assert {"excel", "lean"} <= matched["lists"]  # a list of tools in lower case still names them
