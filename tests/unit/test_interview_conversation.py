"""The interview's rules, as pure functions: what counts as a finished turn, a backchannel,
an answer worth a follow-up; and the live interviews a gateway keeps."""

from __future__ import annotations

import asyncio

import pytest

from doclane.interviews import conversation as talk
from doclane.interviews.live import Hooks, LiveInterview, LiveInterviews
from doclane.interviews.providers import LocalProvider
from doclane.schemas.interviews import InterviewSession, Phase, PlannedQuestion

TECHNICAL = PlannedQuestion(id="q1", text="How did you use Kafka at Atlantic Pay?", targets=["kafka"],
                            kind="technical", source_kind="resume")
BEHAVIOURAL = PlannedQuestion(id="q2", text="Tell me about a time you led an incident.", targets=[],
                              kind="behavioural", source_kind="jd")


def _session(**fields) -> InterviewSession:
    return InterviewSession(id="s", owner="alice", job_description_id="jd", resume_id="cv", provider="local",
                            max_questions=2, duration_min=30, plan=[TECHNICAL, BEHAVIOURAL],
                            skill_names={"kafka": "Kafka"}, **fields)


@pytest.mark.parametrize(("text", "final"), [
    ("I built the consumers in Kafka.", True),
    ("Did it work?", True),
    ("I built the consumers and", False),
    ("I built the consumers,", False),
    ("Yes.", False),  # too few words to answer early
    ("We shipped it, um.", False),
])
def test_a_turn_reads_finished_when_a_sentence_ends(text, final):
    assert talk.looks_final(text) is final


@pytest.mark.parametrize("text", ["ok", "Okay.", "mm-hm", "Mm hm", "uh-huh", "Right!", "yeah"])
def test_backchannels_are_recognised_however_written(text):
    assert talk.is_backchannel(text)


@pytest.mark.parametrize("text", ["ok, so the first thing", "no", "I disagree"])
def test_taking_the_turn_is_not_a_backchannel(text):
    assert not talk.is_backchannel(text)


def test_normalised_text_ignores_case_punctuation_and_spacing():
    assert talk.normalise("  I used KAFKA,  mostly. ") == talk.normalise("i used kafka mostly")


def test_answers_get_the_follow_up_they_call_for():
    names = {"kafka": "Kafka"}
    assert talk.answer_issues(TECHNICAL, "Yes I did.", names)[0] == "too_short"
    python_only = "I wrote the settlement service in Python and tuned its queries for the batch window."
    assert "missing_concept" in talk.answer_issues(TECHNICAL, python_only, names)
    vague = "I think I maybe used Kafka a bit for some of the event streams, sort of on the side."
    assert "hedging" in talk.answer_issues(TECHNICAL, vague, names)
    assert talk.answer_issues(
        TECHNICAL, "I ran the Kafka consumers for billing: 12 partitions, and I cut lag from 40 s to 2 s.",
        names) == []
    platitude = "Incidents are important and I always stay calm and communicate well with everyone."
    assert "no_star" in talk.answer_issues(BEHAVIOURAL, platitude, names)


def test_a_follow_up_changes_nothing_until_committed_and_then_moves_the_interview():
    session = _session(phase=Phase.QUESTIONS)
    intent = talk.next_intent(session, "Yes.", elapsed_s=10, names=session.skill_names)
    assert intent.kind == "follow_up" and intent.question_id == "q1"
    assert session.transcript == [] and session.follow_ups == 0  # deciding changed nothing
    talk.commit_turn(session, intent, "Yes.", "t1")
    assert session.follow_ups == 1 and session.transcript[0].question_id == "q1"
    # Not better the second time: no second follow-up, the next question.
    nxt = talk.next_intent(session, "No.", elapsed_s=20, names=session.skill_names)
    assert nxt.kind == "question" and nxt.question_id == "q2"


def test_time_pressure_moves_on_instead_of_following_up():
    session = _session(phase=Phase.QUESTIONS)
    late = talk.next_intent(session, "Yes.", elapsed_s=16 * 60, names=session.skill_names)  # past q1's half
    assert late.kind == "question" and late.question_id == "q2"
    over = talk.next_intent(session, "Yes.", elapsed_s=31 * 60, names=session.skill_names)
    assert over.kind == "invite_questions" and over.phase is Phase.CANDIDATE_QUESTIONS


def test_the_candidates_questions_are_answered_from_the_job_and_no_question_ends_it():
    session = _session(phase=Phase.CANDIDATE_QUESTIONS,
                       job_lines=["You will join the on-call rotation one week in six."])
    answer = talk.next_intent(session, "How does the on-call rotation work?", 100,
                              job_lines=session.job_lines)
    assert answer.kind == "answer_question" and "one week in six" in answer.text
    done = talk.next_intent(session, "No, that's all, thanks.", 100)
    assert done.kind == "wrap_up" and done.phase is Phase.ENDED


async def test_a_gateway_lets_go_of_interviews_left_without_a_client():
    async def nothing(*_: object) -> None:
        return None

    made: list[LiveInterview] = []

    def make(session: InterviewSession) -> LiveInterview:
        made.append(LiveInterview(session, LocalProvider(), Hooks(save=nothing, publish=nothing)))
        return made[-1]

    live = LiveInterviews(make, idle_s=0)
    first = await live.get(_session())
    queue, _ = await first.attach(None)  # a client: the greeting starts
    await asyncio.wait_for(_spoken(first), 5)
    await live.get(_session().model_copy(update={"id": "other"}))
    assert len(live) == 2  # the first has a client: kept
    first.detach(queue)
    await asyncio.sleep(0.01)
    await live.get(_session().model_copy(update={"id": "third"}))
    assert live.peek("s") is None and live.peek("other") is None and live.peek("third") is not None


async def _spoken(live: LiveInterview) -> None:
    while not any(t.role == "interviewer" for t in live.session.transcript):
        await asyncio.sleep(0.01)


def test_a_follow_up_asks_for_what_the_score_would_miss_and_nothing_else():
    from doclane.interviews.report import score_answer

    question = PlannedQuestion(id="q1", text="Tell me about your negotiation skills.",
                               targets=["negotiation"], kind="technical", source_kind="jd")
    names = {"negotiation": "negotiation"}
    answer = ("I negotiate every supplier contract myself: last year I moved our biggest one from 60 to 30 "
              "days of payment terms.")
    assert "missing_concept" not in talk.answer_issues(question, answer, names)
    assert score_answer(question, answer, names).scores["relevance"] > 1  # the stem counts for both
