"""Interview sessions and reports in every store: the same behaviour on SQLite and MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from doclane.schemas.interviews import InterviewReport, InterviewSession, PlannedQuestion, Turn


def _session(sid: str, owner: str = "alice", minutes_ago: int = 0) -> InterviewSession:
    return InterviewSession(
        id=sid, owner=owner, job_description_id="jd", resume_id="cv", provider="local", max_questions=3,
        duration_min=30, created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        plan=[PlannedQuestion(id="q1", text="Tell me about Kafka.", targets=["kafka"], kind="gap",
                              source_kind="general")])


async def test_a_session_is_kept_whole_and_replaced_whole(store):
    session = _session("s1")
    await store.save_interview(session)
    text = "I used {\"$x\": 1} in Kafka."  # a key MongoDB-protocol servers refuse, kept as text
    session.transcript.append(Turn(index=0, role="candidate", text=text, kind="answer"))
    session.stats.tokens = 42
    await store.save_interview(session)
    loaded = await store.get_interview("s1")
    assert loaded == session
    assert await store.get_interview("nope") is None


async def test_sessions_are_listed_per_owner_newest_first(store):
    for i in range(3):
        await store.save_interview(_session(f"a{i}", minutes_ago=10 - i))
    await store.save_interview(_session("b0", owner="bob"))
    assert [s.id for s in await store.list_interviews("alice")] == ["a2", "a1", "a0"]
    assert [s.id for s in await store.list_interviews("alice", limit=1, offset=1)] == ["a1"]
    assert [s.id for s in await store.list_interviews("bob")] == ["b0"]


async def test_a_report_is_kept_beside_its_session_and_goes_with_it(store):
    report = InterviewReport(session_id="s2", skills=[], rubric=[], overall=3.0, strengths=[], gaps=[],
                             recommendation="yes", provider="local", rubric_version="r@1")
    assert not await store.save_interview_report("s2", report)  # no session: nothing written
    await store.save_interview(_session("s2"))
    assert await store.get_interview_report("s2") is None
    assert await store.save_interview_report("s2", report)
    assert await store.get_interview_report("s2") == report
    await store.save_interview(_session("s2"))  # the session saved again keeps its report
    assert await store.get_interview_report("s2") == report
    assert await store.delete_interview("s2")
    assert not await store.delete_interview("s2")
    assert await store.get_interview_report("s2") is None
    assert not await store.save_interview_report("s2", report)  # not resurrected
    assert await store.get_interview("s2") is None
