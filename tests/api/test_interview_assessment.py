"""POST /interviews/assessments through a real server: a job description and a resume go
through the pipeline (extraction, NER), then are matched with evidence from the resume."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.server import ServerProcess

DATA = Path(__file__).parents[1] / "data" / "interviews"


async def _processed(client: httpx.AsyncClient, *names: str) -> list[str]:
    response = await upload(client, [DATA / n for n in names])
    assert response.status_code == 202, response.text
    ids = [r["document"]["id"] for r in response.json()["results"]]
    for doc_id in ids:
        assert (await wait_until_terminal(client, doc_id))["status"] == "completed"
    return ids


async def _chunk_texts(client: httpx.AsyncClient, doc_id: str) -> dict[int, str]:
    chunks = (await client.get(f"/documents/{doc_id}/chunks")).json()
    return {c["index"]: c["text"] for c in chunks}


async def test_a_resume_is_matched_against_the_job_with_evidence_from_its_text(alice, bob):
    jd, resume = await _processed(alice, "backend-engineer-jd.md", "maria-resume.txt")

    response = await alice.post("/interviews/assessments",
                                json={"job_description_id": jd, "resume_id": resume})
    assert response.status_code == 200, response.text
    body = response.json()

    required = {s["skill"] for s in body["job"]["required_skills"]}
    assert {"python", "postgresql", "kafka", "kubernetes"} <= required
    assert {"terraform", "go"} <= {s["skill"] for s in body["job"]["preferred_skills"]}
    assert body["job"]["min_years"] == 5 and body["job"]["seniority"] == "senior"

    strength = {m["skill"]: m["strength"] for m in body["matched"] + body["missing"]}
    assert strength["python"] == "shown"  # "Built the settlement service in Python ..."
    assert strength["kubernetes"] == "listed"  # only in the skills line
    assert strength["kafka"] == "missing" and strength["go"] == "missing"

    # Every piece of evidence is exactly the text of the resume chunk it points at.
    texts = await _chunk_texts(alice, resume)
    for match in body["matched"]:
        assert match["evidence"], match
        for span in match["evidence"]:
            assert span["document_id"] == resume
            assert texts[span["chunk_index"]][span["start"]:span["end"]] == span["text"]
            assert match["name"].lower() in span["text"].lower() or match["skill"] in span["text"].lower()

    # The score is the weighted mean of its explained parts.
    parts = [b for b in body["breakdown"] if b["value"] is not None]
    expected = 100 * sum(b["weight"] * b["value"] for b in parts) / sum(b["weight"] for b in parts)
    assert body["fit_score"] == pytest.approx(expected, abs=0.1)
    assert 0 < body["fit_score"] < 100
    # The missing required skill comes first among the interview's focus areas.
    first = body["focus_areas"][0]
    assert (first["skill"], first["kind"]) == ("kafka", "missing")
    assert body["candidate"]["years_of_experience"] >= 5
    assert "Atlantic Pay" in {e["value"] for e in body["candidate"]["employers"]}

    # Another user's documents do not exist for them.
    other = await bob.post("/interviews/assessments", json={"job_description_id": jd, "resume_id": resume})
    assert other.status_code == 404
    assert "job description" in other.json()["detail"]


async def test_a_request_without_both_documents_says_what_is_missing(alice):
    response = await alice.post("/interviews/assessments", json={"job_description_id": "x"})
    assert response.status_code == 422
    assert "resume_id" in response.json()["detail"]


async def test_a_failed_document_cannot_be_assessed(alice, tmp_path):
    jd, = await _processed(alice, "backend-engineer-jd.md")
    empty = tmp_path / "blank.txt"
    empty.write_text("   \n\n  ")
    response = await upload(alice, [empty])
    assert response.status_code == 202, response.text  # accepted; it fails in the pipeline: no text
    failed = response.json()["results"][0]["document"]["id"]
    assert (await wait_until_terminal(alice, failed))["status"] == "failed"
    answer = await alice.post("/interviews/assessments", json={"job_description_id": jd, "resume_id": failed})
    assert answer.status_code == 422
    assert "failed" in answer.json()["detail"]


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # The mock AI answers each chunk after 30 s: a document stays "analyzing" for the test.
    proc = ServerProcess(tmp_path_factory.mktemp("slow") / "data",
                         env={"DOCLANE_AI_PROVIDER": "mock", "DOCLANE_MOCK_LATENCY_MS": "30000",
                              "DOCLANE_MOCK_LATENCY_P99_MS": "30000", "DOCLANE_MOCK_LATENCY_MIN_MS": "30000"})
    with proc:
        yield proc


async def test_documents_still_processing_are_a_conflict_with_a_reason(slow_server):
    token = await asyncio.to_thread(login, slow_server.url, "alice", "alice-pw")
    async with httpx.AsyncClient(base_url=slow_server.url, headers=auth(token), timeout=60) as alice:
        response = await upload(alice, [DATA / "backend-engineer-jd.md", DATA / "maria-resume.txt"])
        jd, resume = (r["document"]["id"] for r in response.json()["results"])
        answer = await alice.post("/interviews/assessments",
                                  json={"job_description_id": jd, "resume_id": resume})
        assert answer.status_code == 409
        assert "still being processed" in answer.json()["detail"]
