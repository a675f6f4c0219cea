"""An interview on the distributed deployment: the gateway holds the conversation, the
turns go to Kafka, and an ``assessor`` worker process writes the report to MongoDB."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.test_interviews import DATA, GOOD_ANSWER, chat_with
from tests.utils.api import login, upload, wait_until_terminal

pytestmark = pytest.mark.timeout(300)


async def test_the_assessor_worker_reports_an_interview_held_on_the_gateway(make_cluster, alice_on):
    cluster = make_cluster().start(analyzers=1)
    assessor = cluster.add_worker("assess", "assessor").start()
    alice = alice_on(cluster)
    response = await upload(alice, [DATA / "backend-engineer-jd.md", DATA / "maria-resume.txt"])
    jd, resume = (r["document"]["id"] for r in response.json()["results"])
    for doc_id in (jd, resume):
        assert (await wait_until_terminal(alice, doc_id, timeout_s=180))["status"] == "completed"
    created = await alice.post("/interviews", json={"job_description_id": jd, "resume_id": resume,
                                                    "max_questions": 2})
    assert created.status_code == 201, created.text
    session = created.json()

    token = await asyncio.to_thread(login, cluster.gateway.url, "alice", "alice-pw")
    async with chat_with(cluster.gateway, token, session["id"]) as chat:
        await chat.reply()
        await chat.answer("t1", "Yes, ready.")
        await chat.answer("t2", GOOD_ANSWER)
    assert (await alice.post(f"/interviews/{session['id']}/end")).json()["phase"] == "ended"

    async with asyncio.timeout(60):
        while (answer := await alice.get(f"/interviews/{session['id']}/report")).status_code != 200:
            assert answer.status_code == 202, answer.text
            await asyncio.sleep(0.2)
    report = answer.json()
    assert report["session_id"] == session["id"] and report["rubric"]
    assert "report made" in assessor.log_text()  # written by the worker process, not the gateway
