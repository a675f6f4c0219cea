"""Interviews through a real server and real WebSocket clients: sessions, the live protocol
(tentative replies committed or discarded, barge-in, backchannels, reconnects), reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.utils.api import upload, wait_until_terminal

DATA = Path(__file__).parents[1] / "data" / "interviews"
GOOD_ANSWER = ("At Atlantic Pay I built the settlement service in Python because the old batch job missed "
               "its window. I split it into three workers, which cut the run from 40 minutes to 6 minutes.")


@pytest.fixture(scope="module")
def documents(server, alice_token) -> tuple[str, str]:
    """A job description and a resume, processed by the pipeline (once for the module)."""
    from tests.utils.api import auth

    async def processed() -> tuple[str, str]:
        async with httpx.AsyncClient(base_url=server.url, headers=auth(alice_token), timeout=60) as alice:
            response = await upload(alice, [DATA / "backend-engineer-jd.md", DATA / "maria-resume.txt"])
            jd, resume = (r["document"]["id"] for r in response.json()["results"])
            for doc_id in (jd, resume):
                assert (await wait_until_terminal(alice, doc_id))["status"] == "completed"
            return jd, resume

    return asyncio.run(processed())


def good_answer(session: dict[str, Any], question_id: str) -> str:
    """A specific answer naming every skill the question targets: it needs no follow-up."""
    question = next(q for q in session["plan"] if q["id"] == question_id)
    names = " and ".join(session["skill_names"].get(s, s) for s in question["targets"]) or "Python"
    return (f"When the old batch job at Atlantic Pay kept missing its window, I built the settlement service "
            f"with {names}. I split it into three workers, which cut the run from 40 minutes to 6 minutes.")


async def _session(alice: httpx.AsyncClient, documents: tuple[str, str], **options: Any) -> dict[str, Any]:
    jd, resume = documents
    response = await alice.post("/interviews", json={"job_description_id": jd, "resume_id": resume,
                                                     "max_questions": 3, **options})
    assert response.status_code == 201, response.text
    return response.json()


class Chat:
    """A candidate's client: sends the protocol's messages, reads the server's in order."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []

    async def send(self, kind: str, **body: Any) -> None:
        await self.ws.send(json.dumps({"type": kind, **body}))

    async def next(self, *kinds: str, timeout_s: float = 15) -> dict[str, Any]:
        """The next message of one of ``kinds`` (heartbeats and others in between are kept)."""
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    message = json.loads(await self.ws.recv())
                    self.received.append(message)
                    if message["type"] in kinds:
                        return message
        except TimeoutError:
            shown = [{k: v for k, v in m.items() if k != "text"} for m in self.received[-8:]]
            raise AssertionError(f"no {kinds} within {timeout_s}s; last messages: {shown}") from None

    async def reply(self) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """A whole committed reply: its start, its text, its end."""
        start = await self.next("reply.start")
        end = await self.next("reply.end")
        deltas = [m for m in self.received
                  if m["type"] == "reply.delta" and m["reply_id"] == start["reply_id"]]
        return start, "".join(d["text"] for d in sorted(deltas, key=lambda d: d["index"])), end

    async def answer(self, turn_id: str, text: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
        await self.send("input.end", turn_id=turn_id, rev=1, text=text)
        return await self.reply()


async def _connect(server, token: str, session_id: str, since: int | None = None) -> AsyncIterator[Chat]:
    url = server.url.replace("http", "ws") + f"/interviews/{session_id}/ws?token={token}"
    if since is not None:
        url += f"&since={since}"
    async with websockets.connect(url) as ws:
        chat = Chat(ws)
        ready = await chat.next("ready", "error")
        assert ready["type"] == "ready", ready
        yield chat


def chat_with(server, token: str, session_id: str, since: int | None = None):
    from contextlib import asynccontextmanager

    return asynccontextmanager(_connect)(server, token, session_id, since)


async def test_an_interview_runs_from_greeting_to_report(server, alice, alice_token, documents):
    session = await _session(alice, documents, max_questions=2)
    assert len(session["plan"]) == 2
    assert all(q["targets"] and q["source"] for q in session["plan"][:1])
    async with chat_with(server, alice_token, session["id"]) as chat:
        _, greeting, _ = await chat.reply()
        assert "Ready to start?" in greeting
        _, question, end = await chat.answer("t1", "Yes, I am ready.")
        assert question.startswith("Great. ") and end["question_id"] == "q1"
        # A vague, short answer gets a follow-up on the same question.
        _, follow_up, end = await chat.answer("t2", "I think maybe some of that.")
        assert end["question_id"] == "q1" and "?" in follow_up
        *_, end = await chat.answer("t3", good_answer(session, "q1"))
        assert end["question_id"] == "q2"
        await chat.answer("t4", good_answer(session, "q2"))
        # Past the last question: the candidate's questions.
        assert "candidate_questions" in {m.get("phase") for m in chat.received}
        _, answer, _ = await chat.answer("t5", "What does the on-call rotation look like?")
        assert "on-call" in answer
        _, goodbye, _ = await chat.answer("t6", "No, that's all. Thank you!")
        assert "end of the interview" in goodbye
        assert (await chat.next("state"))["state"] in ("ended", "listening")

    detail = (await alice.get(f"/interviews/{session['id']}")).json()
    assert detail["phase"] == "ended"
    roles = [t["role"] for t in detail["transcript"]]
    assert roles[0] == "interviewer" and roles.count("candidate") == 6

    report = await _report(alice, session["id"])
    assert report["provider"] == "local" and report["rubric_version"]
    turns = {t["index"]: t["text"] for t in detail["transcript"]}
    for score in report["rubric"]:
        assert 1 <= score["score"] <= 5
        for span in score["evidence"]:
            assert turns[span["turn_index"]][span["start"]:span["end"]] == span["text"]
    python = next(s for s in report["skills"] if s["skill"] == "python")
    assert python["asked"] and python["shown"] and python["evidence"]
    # Deterministic: asked again, the same report.
    again = (await alice.get(f"/interviews/{session['id']}/report")).json()
    assert {k: v for k, v in again.items() if k != "generated_at"} == \
        {k: v for k, v in report.items() if k != "generated_at"}


async def _report(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            response = await client.get(f"/interviews/{session_id}/report")
            if response.status_code == 200:
                return response.json()
            assert response.status_code == 202, response.text
            await asyncio.sleep(0.1)


async def _to_first_question(chat: Chat) -> None:
    await chat.reply()
    await chat.answer("t0", "Yes, ready.")


async def test_a_tentative_reply_is_committed_when_the_final_text_matches(
        server, alice, alice_token, documents):
    session = await _session(alice, documents)
    async with chat_with(server, alice_token, session["id"]) as chat:
        await _to_first_question(chat)
        before = (await alice.get(f"/interviews/{session['id']}")).json()
        await chat.send("input.update", turn_id="t1", rev=1, text=GOOD_ANSWER)
        start = await chat.next("reply.start")
        assert start["tentative"] and start["based_on_rev"] == 1
        await chat.next("reply.delta")
        # No side effect before the turn ends: same phase, same transcript.
        during = (await alice.get(f"/interviews/{session['id']}")).json()
        assert during["transcript"] == before["transcript"] and during["phase"] == before["phase"]
        # The final text differs only in case, punctuation and spacing: the reply stands.
        same = "  " + GOOD_ANSWER.lower().replace(",", "") + " "
        await chat.send("input.end", turn_id="t1", rev=2, text=same)
        commit = await chat.next("reply.commit", "reply.discard")
        assert commit == {**commit, "type": "reply.commit", "reply_id": start["reply_id"]}
        end = await chat.next("reply.end")
        assert end["reply_id"] == start["reply_id"]
    after = (await alice.get(f"/interviews/{session['id']}")).json()
    answers = [t for t in after["transcript"] if t["ref"] == "t1"]
    assert len(answers) == 1 and answers[0]["question_id"] == "q1"
    assert after["stats"]["tentative_committed"] == 1


async def test_a_tentative_reply_is_discarded_when_the_turn_goes_on(server, alice, alice_token, documents):
    session = await _session(alice, documents)
    async with chat_with(server, alice_token, session["id"]) as chat:
        await _to_first_question(chat)
        await chat.send("input.update", turn_id="t1", rev=1, text="I used Python for the settlement work.")
        tentative = await chat.next("reply.start")
        assert tentative["tentative"]
        await chat.send("input.end", turn_id="t1", rev=2, text=GOOD_ANSWER)
        discard = await chat.next("reply.discard", "reply.commit")
        assert discard["type"] == "reply.discard" and discard["reply_id"] == tentative["reply_id"]
        assert discard["reason"] == "input_changed"
        start, _, end = await chat.reply()
        assert not start["tentative"] and end["reply_id"] == start["reply_id"] != tentative["reply_id"]
    after = (await alice.get(f"/interviews/{session['id']}")).json()
    refs = [t["ref"] for t in after["transcript"]]
    assert tentative["reply_id"] not in refs  # the discarded reply left no trace
    assert [t["text"] for t in after["transcript"] if t["ref"] == "t1"] == [GOOD_ANSWER]
    assert after["stats"]["tentative_discarded"] == 1 and after["stats"]["discarded_tokens"] >= 1


async def test_barge_in_keeps_what_was_heard_and_a_backchannel_does_not_interrupt(
        server, alice, alice_token, documents):
    # The mock provider speaks like a remote model (600 ms to the first token, 40 tokens/s):
    # time enough to talk over it.
    session = await _session(alice, documents, provider="mock")
    async with chat_with(server, alice_token, session["id"]) as chat:
        start = await chat.next("reply.start")  # the greeting, streamed token by token
        await chat.next("reply.delta")
        await chat.send("input.end", turn_id="b1", rev=1, text="mm-hm")
        end = await chat.next("reply.end")
        assert not end["interrupted"]  # "mm-hm" is listening, not taking the turn

        await chat.send("input.end", turn_id="t1", rev=1, text="Yes, ready.")
        question = await chat.next("reply.start")
        heard = ""
        while len(heard) < 12:  # the candidate hears a few words, then talks over the interviewer
            heard += (await chat.next("reply.delta"))["text"]
        await chat.send("interrupt", reply_id=question["reply_id"], heard_chars=12)
        end = await chat.next("reply.end")
        assert end["interrupted"] and end["reply_id"] == question["reply_id"]
        assert start["reply_id"] != question["reply_id"]
    detail = (await alice.get(f"/interviews/{session['id']}")).json()
    cut = next(t for t in detail["transcript"] if t["ref"] == question["reply_id"])
    assert cut["interrupted"] and len(cut["text"]) == 12
    assert not any(t["text"] == "mm-hm" for t in detail["transcript"])


async def test_a_reconnect_with_since_loses_and_repeats_nothing(server, alice, alice_token, documents):
    session = await _session(alice, documents)
    async with chat_with(server, alice_token, session["id"]) as chat:
        await chat.reply()
        first = [m["seq"] for m in chat.received if "seq" in m]
        await chat.send("input.end", turn_id="t1", rev=1, text="Yes, ready.")
        await chat.next("reply.delta")  # mid-reply: the connection drops here
    last_seen = max(m["seq"] for m in chat.received if "seq" in m)
    async with chat_with(server, alice_token, session["id"], since=last_seen) as again:
        end = await again.next("reply.end")
        seqs = [m["seq"] for m in again.received if "seq" in m]
        assert seqs == list(range(last_seen + 1, last_seen + 1 + len(seqs)))  # no gap, no repeat
        assert end["question_id"] == "q1"
        # A tentative reply open when the client goes away is discarded on its return.
        await again.send("input.update", turn_id="t2", rev=1, text=GOOD_ANSWER)
        tentative = await again.next("reply.start")
        assert tentative["tentative"]
    async with chat_with(server, alice_token, session["id"], since=tentative["seq"]) as third:
        discard = await third.next("reply.discard")
        assert discard["reply_id"] == tentative["reply_id"] and discard["reason"] == "reconnect"
    assert first == list(range(1, len(first) + 1))


async def test_another_users_interview_is_not_found_and_its_socket_refused(server, alice, bob, bob_token,
                                                                          documents):
    session = await _session(alice, documents)
    assert (await bob.get(f"/interviews/{session['id']}")).status_code == 404
    assert (await bob.post(f"/interviews/{session['id']}/end")).status_code == 404
    assert (await bob.get(f"/interviews/{session['id']}/report")).status_code == 404
    assert session["id"] not in {s["id"] for s in (await bob.get("/interviews")).json()}
    url = server.url.replace("http", "ws") + f"/interviews/{session['id']}/ws?token={bob_token}"
    async with websockets.connect(url) as ws:
        error = json.loads(await ws.recv())
        assert error["type"] == "error" and "No interview" in error["detail"]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4404


async def test_bad_messages_get_a_reason_and_the_interview_goes_on(server, alice, alice_token, documents):
    session = await _session(alice, documents)
    async with chat_with(server, alice_token, session["id"]) as chat:
        await chat.reply()
        await chat.send("input.end", turn_id="", rev=1, text="x")
        assert "turn_id" in (await chat.next("error"))["detail"]
        await chat.send("dance")
        assert "Unknown message type" in (await chat.next("error"))["detail"]
        await chat.ws.send("not json")
        assert "JSON" in (await chat.next("error"))["detail"]
        _, question, _ = await chat.answer("t1", "Yes, ready.")
        assert question.startswith("Great.")
    # Ended by the recruiter: the report follows; the socket takes no more turns.
    ended = await alice.post(f"/interviews/{session['id']}/end")
    assert ended.json()["phase"] == "ended"
    assert (await _report(alice, session["id"]))["session_id"] == session["id"]
    assert (await alice.delete(f"/interviews/{session['id']}")).status_code == 204
    assert (await alice.get(f"/interviews/{session['id']}")).status_code == 404


async def test_an_interview_needs_processed_documents_and_a_sane_budget(alice, documents):
    jd, resume = documents
    too_many = await alice.post("/interviews", json={"job_description_id": jd, "resume_id": resume,
                                                     "max_questions": 500})
    assert too_many.status_code == 422 and "max_questions" in too_many.json()["detail"]
    missing = await alice.post("/interviews", json={"job_description_id": "nope", "resume_id": resume})
    assert missing.status_code == 404


async def test_logging_out_closes_the_interview_socket(server):
    from tests.utils.api import auth, login

    # Bob's own login: logging out revokes every token of the user, so not the module's alice.
    token = await asyncio.to_thread(login, server.url, "bob", "bob-pw")
    async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as bob:
        response = await upload(bob, [DATA / "backend-engineer-jd.md", DATA / "maria-resume.txt"])
        ids = [r["document"]["id"] for r in response.json()["results"]]
        for doc_id in ids:
            assert (await wait_until_terminal(bob, doc_id))["status"] == "completed"
        session = await _session(bob, (ids[0], ids[1]))
        async with chat_with(server, token, session["id"]) as chat:
            await chat.reply()
            assert (await bob.post("/auth/logout")).status_code == 204
            error = await chat.next("error")
            assert "revoked" in error["detail"]
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await chat.ws.recv()
            assert closed.value.rcvd.code == 4401


async def test_an_interview_deleted_while_connected_takes_no_more_turns_and_stays_deleted(
        server, alice, alice_token, documents):
    session = await _session(alice, documents)
    async with chat_with(server, alice_token, session["id"]) as chat:
        await chat.reply()
        assert (await alice.delete(f"/interviews/{session['id']}")).status_code == 204
        await chat.send("input.end", turn_id="t1", rev=1, text="Yes, ready.")
        assert "deleted" in (await chat.next("error"))["detail"]
    assert (await alice.get(f"/interviews/{session['id']}")).status_code == 404  # not written back
