"""What the interviewer does next: the interview's rules as pure functions of the session.

:func:`next_intent` reads the session and the candidate's words and says what the
interviewer will reply and how the session changes *if* the reply is committed; it
changes nothing itself. That is what makes tentative replies safe: one can be computed
from a revision of the candidate's turn, streamed, and thrown away without a trace.
:func:`commit` applies an intent to the session.

Phases: greeting → questions (with follow-ups) → candidate questions → wrap-up → ended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from doclane.interviews.answers import structure_parts, target_credit
from doclane.interviews.profiles import statements
from doclane.schemas.interviews import InterviewSession, Phase, PlannedQuestion, Turn

__all__ = ["Intent", "answer_issues", "commit_turn", "is_backchannel", "looks_final", "next_intent",
           "normalise", "opening", "record_reply", "repeat", "skip"]

IntentKind = Literal["greeting", "question", "follow_up", "invite_questions", "answer_question", "wrap_up",
                     "repeat"]
CandidateKind = Literal["answer", "candidate_question", "reply"]
TurnKind = Literal["greeting", "question", "follow_up", "answer", "candidate_question", "reply", "wrap_up"]

#: Follow-ups on one question: one, and a second only when the first one's answer improved.
MAX_FOLLOW_UPS = 2
#: An answer shorter than this many words says too little to judge.
MIN_ANSWER_WORDS = 12

_WORD = re.compile(r"[\w'\u2019-]+")
_PUNCT = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")
_HEDGES = re.compile(r"\b(?:i think|maybe|probably|kind of|sort of|i guess|not sure|i believe|perhaps|"
                     r"somewhat|more or less|i suppose)\b", re.I)
_SPECIFIC = re.compile(
    r"\d|%|\b(?:because|so that|which meant|resulting|reduced|increased|cut|saved)\b", re.I)
#: What a listener says to show they follow, written without spaces or punctuation.
_BACKCHANNELS = frozenset({
    "ok", "okay", "k", "mm", "mhm", "mmhm", "uhhuh", "right", "yeah", "yes", "yep", "sure", "gotit", "isee",
    "alright", "hm", "hmm", "cool", "great", "goon", "ah", "oh",
})
_NO_QUESTIONS = re.compile(r"^\W*(?:no|nope|nothing|none|not really|no questions?|that'?s (?:all|it)|"
                           r"i'?m good|all good|no thanks?(?: you)?)\b", re.I)
_QUESTION_START = re.compile(r"^\W*(?:what|how|why|when|where|who|which|is|are|do|does|can|could|will|would|"
                             r"should)\b", re.I)


def normalise(text: str) -> str:
    """Text as compared for a tentative reply: case, punctuation and spacing do not count."""
    return _SPACES.sub(" ", _PUNCT.sub(" ", text.lower())).strip()


def is_backchannel(text: str) -> bool:
    """"ok", "mm-hm", "right": the listener is following, not taking the turn."""
    return normalise(text).replace(" ", "") in _BACKCHANNELS


def looks_final(text: str) -> bool:
    """Whether a turn in progress reads like a finished one: worth a tentative reply.

    Finished sentences (``.``, ``?``, ``!``) of a few words; a trailing comma, a
    conjunction or a hesitation ("and", "um") says more is coming.
    """
    stripped = text.rstrip()
    if not stripped or stripped[-1] not in ".?!":
        return False
    words = _WORD.findall(stripped.lower())
    if len(words) < 3:
        return False
    return words[-1] not in {"and", "but", "so", "because", "um", "uh", "er", "like", "then", "or"}


_TURN_KIND: dict[IntentKind, TurnKind] = {
    "greeting": "greeting", "question": "question", "follow_up": "follow_up", "invite_questions": "reply",
    "answer_question": "reply", "wrap_up": "wrap_up", "repeat": "reply",
}


@dataclass(frozen=True)
class Intent:
    """A reply the interviewer may give, and what committing it does to the session."""

    kind: IntentKind
    text: str
    #: How the candidate's turn that prompted it is recorded.
    candidate_kind: CandidateKind
    phase: Phase
    question_index: int
    follow_ups: int
    question_id: str | None = None
    targets: list[str] = field(default_factory=list)
    #: Why a follow-up is asked (``too_short``, ``missing_concept``, ``hedging``, ``no_star``).
    reason: str | None = None


def _question(session: InterviewSession, index: int) -> PlannedQuestion | None:
    return session.plan[index] if 0 <= index < len(session.plan) else None


def _answers_to(session: InterviewSession, question_id: str) -> list[Turn]:
    return [t for t in session.transcript if t.role == "candidate" and t.question_id == question_id]


def answer_issues(question: PlannedQuestion, answer: str, names: dict[str, str]) -> list[str]:
    """What a good interviewer would follow up on, most important first."""
    issues = []
    words = _WORD.findall(answer)
    if len(words) < MIN_ANSWER_WORDS:
        issues.append("too_short")
    spans = statements(answer)
    missing = [s for s in question.targets if not target_credit(s, names.get(s, s), answer, spans)]
    if question.kind != "behavioural" and missing and len(missing) == len(question.targets):
        issues.append("missing_concept")
    if _HEDGES.search(answer) and not _SPECIFIC.search(answer):
        issues.append("hedging")
    if question.kind == "behavioural" and structure_parts(answer) < 3:
        issues.append("no_star")
    return issues


def _follow_up_text(issue: str, question: PlannedQuestion, names: dict[str, str]) -> str:
    target = names.get(question.targets[0], question.targets[0]) if question.targets else "it"
    return {
        "too_short": "Could you say more about that? What exactly did you do, and what came of it?",
        "missing_concept": f"You did not mention {target}. Where did {target} come into it, if at all?",
        "hedging": "Can you make that concrete: a specific project, a number, a decision you made?",
        "no_star": "What was the situation, what did you do yourself, and what was the result?",
    }[issue]


def _next_question(session: InterviewSession, index: int, prefix: str = "") -> Intent:
    question = _question(session, index)
    if question is None:
        return Intent(kind="invite_questions", candidate_kind="answer", phase=Phase.CANDIDATE_QUESTIONS,
                      question_index=index, follow_ups=0,
                      text=prefix + "That's all my questions. What would you like to ask me about the role "
                                    "or the team?")
    return Intent(kind="question", candidate_kind="answer", phase=Phase.QUESTIONS, question_index=index,
                  follow_ups=0, question_id=question.id, targets=list(question.targets),
                  text=prefix + question.text)


def opening(session: InterviewSession, candidate: str | None, job_title: str | None) -> Intent:
    hello = f"Hello {candidate.split()[0]}" if candidate else "Hello"
    role = f"the {job_title} role" if job_title else "this role"
    return Intent(
        kind="greeting", candidate_kind="reply", phase=Phase.GREETING, question_index=0, follow_ups=0,
        text=(f"{hello}, thanks for joining. I'm interviewing you for {role}. We have about "
              f"{session.duration_min} minutes for {len(session.plan)} questions, and then time for yours. "
              "Ready to start?"))


def next_intent(session: InterviewSession, text: str, elapsed_s: float,
                names: dict[str, str] | None = None, job_lines: list[str] | None = None) -> Intent:
    """The interviewer's next move after the candidate said ``text`` (nothing is changed).

    ``names`` maps canonical skills to how the job description writes them; ``job_lines``
    are the job description's statements, for answering the candidate's questions.
    """
    names = names or {}
    out_of_time = elapsed_s >= session.duration_min * 60
    if session.phase is Phase.GREETING:  # the candidate answered the greeting: no question yet
        return replace(_next_question(session, 0, "Great. "), candidate_kind="reply")
    if session.phase is Phase.QUESTIONS:
        question = _question(session, session.question_index)
        if question is None or out_of_time:
            return _next_question(session, len(session.plan),
                                  "We are out of time for questions. " if out_of_time else "")
        # Time pressure: past this question's share of the interview, move on.
        share_s = session.duration_min * 60 * (session.question_index + 1) / max(len(session.plan), 1)
        issues = answer_issues(question, text, names)
        previous = _answers_to(session, question.id)
        improved = bool(previous) and len(_WORD.findall(text)) > len(_WORD.findall(previous[-1].text))
        may_follow = session.follow_ups == 0 or (session.follow_ups < MAX_FOLLOW_UPS and improved)
        if issues and may_follow and elapsed_s < share_s:
            return Intent(kind="follow_up", candidate_kind="answer", phase=Phase.QUESTIONS,
                          question_index=session.question_index, follow_ups=session.follow_ups + 1,
                          question_id=question.id, targets=list(question.targets), reason=issues[0],
                          text=_follow_up_text(issues[0], question, names))
        return _next_question(session, session.question_index + 1, "Thank you. ")
    if session.phase is Phase.CANDIDATE_QUESTIONS:
        if out_of_time or _NO_QUESTIONS.match(text) or not ("?" in text or _QUESTION_START.match(text)):
            return Intent(kind="wrap_up", candidate_kind="reply", phase=Phase.ENDED,
                          question_index=session.question_index, follow_ups=0,
                          text="Thank you for your time today. That is the end of the interview; the team "
                               "will be in touch about next steps. Goodbye!")
        return Intent(kind="answer_question", candidate_kind="candidate_question",
                      phase=Phase.CANDIDATE_QUESTIONS, question_index=session.question_index, follow_ups=0,
                      text=_answer_from_job(text, job_lines or []))
    return Intent(kind="wrap_up", candidate_kind="reply", phase=Phase.ENDED,
                  question_index=session.question_index, follow_ups=0, text="The interview has ended.")


def repeat(session: InterviewSession) -> Intent:
    """Say the last thing the interviewer asked again (nothing else changes)."""
    last = next((t for t in reversed(session.transcript) if t.role == "interviewer"), None)
    return Intent(kind="repeat", candidate_kind="reply", phase=session.phase,
                  question_index=session.question_index, follow_ups=session.follow_ups,
                  question_id=last.question_id if last else None,
                  text=last.text if last else "We have not started yet.")


def skip(session: InterviewSession) -> Intent:
    """Move on to the next question without a follow-up (outside the questions: go on as usual)."""
    if session.phase is Phase.QUESTIONS:
        return _next_question(session, session.question_index + 1, "Let's move on. ")
    return next_intent(session, "no", 0)


def _answer_from_job(question: str, lines: list[str]) -> str:
    asked = {w for w in _WORD.findall(question.lower()) if len(w) > 3}
    best = max(lines, key=lambda line: len(asked & set(_WORD.findall(line.lower()))), default=None)
    if best is None or not asked & set(_WORD.findall(best.lower())):
        return ("That is a good question for the hiring team; I will pass it on. "
                "Is there anything else you would like to ask?")
    quote = best.strip().lstrip("-•* ")
    return (f"Good question. The job description says: \u201c{quote}\u201d. The team can tell you more "
            "in the next round. Anything else you would like to ask?")


def commit_turn(session: InterviewSession, intent: Intent, candidate_text: str | None,
                turn_id: str | None) -> Turn | None:
    """Apply a committed reply's decision: the candidate's turn joins the transcript (on the
    question being discussed when it was given) and the interview moves on."""
    turn = None
    if candidate_text is not None:
        current = _question(session, session.question_index)
        on_question = current.id if current is not None and session.phase is Phase.QUESTIONS else None
        turn = Turn(index=len(session.transcript), role="candidate", text=candidate_text,
                    kind="answer" if on_question else intent.candidate_kind, question_id=on_question,
                    ref=turn_id)
        session.transcript.append(turn)
    session.phase = intent.phase
    session.question_index = intent.question_index
    session.follow_ups = intent.follow_ups
    return turn


def record_reply(session: InterviewSession, intent: Intent, text: str, reply_id: str,
                 interrupted: bool = False) -> Turn:
    """The interviewer's reply joins the transcript: whole, or as much as was heard."""
    turn = Turn(index=len(session.transcript), role="interviewer", text=text, kind=_TURN_KIND[intent.kind],
                question_id=intent.question_id, ref=reply_id, interrupted=interrupted)
    session.transcript.append(turn)
    return turn
