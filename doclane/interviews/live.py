"""A live interview in the gateway: the conversation over one socket, turn by turn.

:class:`LiveInterview` holds what a session needs while people talk: the numbered log of
server messages (so a client reconnecting with ``since`` misses nothing and sees nothing
twice), the reply being streamed, and the candidate's turn in progress. It knows nothing
of WebSockets: the route feeds it the client's messages and forwards what it emits.

Tentative replies: while the candidate is still typing or speaking, an update that reads
like a finished turn starts a reply based on that revision, streamed at once. When the
turn ends it is *committed* if the final text matches (case, punctuation and spacing
aside) and *discarded* and regenerated otherwise. Until committed a reply changes
nothing: the decision comes from :func:`~doclane.interviews.conversation.next_intent`,
which only reads the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from doclane.infra.metrics import INTERVIEW_DISCARDED_TOKENS, INTERVIEW_REPLIES
from doclane.interviews import conversation as talk
from doclane.interviews.conversation import Intent
from doclane.interviews.providers import LocalProvider, ReplyProvider
from doclane.schemas.interviews import InterviewEvent, InterviewSession, Phase, Turn

__all__ = ["Hooks", "LiveInterview", "LiveInterviews", "ProtocolError"]

logger = logging.getLogger(__name__)

Message = dict[str, Any]
#: Messages kept for replay to a reconnecting client, per session.
LOG_LIMIT = 20_000


class ProtocolError(Exception):
    """A client message that cannot be acted on; the client gets ``error {detail}``."""


@dataclass
class _Reply:
    id: str
    intent: Intent
    tentative: bool
    turn_id: str | None
    #: The candidate's text the reply answers (for a tentative one: the revision's).
    based_on: str | None
    based_on_rev: int | None
    text: str = ""
    tokens: int = 0
    committed: bool = False
    streamed: bool = False
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Hooks:
    """Where a live interview keeps its effects: the store and the event topic."""

    save: Callable[[InterviewSession], Awaitable[None]]
    publish: Callable[[InterviewEvent], Awaitable[None]]


class LiveInterview:
    def __init__(self, session: InterviewSession, provider: ReplyProvider, hooks: Hooks,
                 tentative: bool = True, max_tentative: int = 3) -> None:
        self.session = session
        self._provider = provider
        self._hooks = hooks
        self._tentative_on = tentative
        self._max_tentative = max_tentative
        self._log: list[Message] = []
        self._listeners: set[asyncio.Queue[Message]] = set()
        self._lock = asyncio.Lock()
        self._reply: _Reply | None = None
        #: The candidate's turn in progress: id → (rev, text).
        self._turns: dict[str, tuple[int, str]] = {}
        self._attempts: dict[str, int] = {}
        self._paused_at: datetime | None = None
        #: Let go of (deleted, or the gateway stopping): it takes no more turns and saves nothing.
        self._closed = False
        #: When the last client left (monotonic seconds); ``None`` while one is connected.
        self.idle_since: float | None = time.monotonic()

    # --- messages out ---
    def _emit(self, kind: str, **body: Any) -> Message:
        self.session.last_seq += 1
        message = {"type": kind, "seq": self.session.last_seq, **body}
        self._log.append(message)
        if len(self._log) > LOG_LIMIT:
            del self._log[: len(self._log) - LOG_LIMIT]
        for queue in self._listeners:
            queue.put_nowait(message)
        return message

    async def attach(self, since: int | None) -> tuple[asyncio.Queue[Message], list[Message]]:
        """Follow the session: the messages after ``since`` (all kept ones if ``None``), then live.

        A reconnect discards an open tentative reply (reason ``reconnect``): the client
        lost its context; a committed reply is replayed whole from the log.
        """
        async with self._lock:
            if self._reply is not None and self._reply.tentative and not self._reply.committed:
                await self._discard(self._reply, "reconnect")
            queue: asyncio.Queue[Message] = asyncio.Queue()
            backlog = [m for m in self._log if since is None or m["seq"] > since]
            self._listeners.add(queue)
            self.idle_since = None
            if self.session.started_at is None:
                self.session.started_at = datetime.now(UTC)
                opening = talk.opening(self.session, self.session.candidate_name, self.session.job_title)
                await self._start_reply(opening, tentative=False, turn_id=None, based_on=None, rev=None)
            return queue, backlog

    def detach(self, queue: asyncio.Queue[Message]) -> None:
        self._listeners.discard(queue)
        if not self._listeners:
            self.idle_since = time.monotonic()

    def idle_for(self, now: float) -> float:
        """Seconds with no client and nothing being said (0 while either lasts)."""
        if self.idle_since is None or (self._reply is not None and not self._reply.done.is_set()):
            return 0.0
        return now - self.idle_since

    # --- messages in ---
    async def handle(self, message: Message) -> None:
        kind = message.get("type")
        async with self._lock:
            if self._closed:
                raise ProtocolError("This interview was deleted; it takes no more turns.")
            if self.session.phase is Phase.ENDED:
                raise ProtocolError("The interview has ended; its report is at GET /interviews/{id}/report.")
            if kind == "input.update":
                await self._on_update(*_turn(message))
            elif kind == "input.end":
                await self._on_end(*_turn(message))
            elif kind == "interrupt":
                await self._on_interrupt(message)
            elif kind == "control":
                await self._on_control(message.get("action"))
            else:
                raise ProtocolError(f"Unknown message type {str(kind)[:40]!r}: send input.update, input.end, "
                                    "interrupt or control.")

    def _elapsed_s(self) -> float:
        if self.session.started_at is None:
            return 0.0
        paused = self.session.paused_s
        if self._paused_at is not None:
            paused += (datetime.now(UTC) - self._paused_at).total_seconds()
        return (datetime.now(UTC) - self.session.started_at).total_seconds() - paused

    def _resume_clock(self) -> None:
        if self._paused_at is not None:
            self.session.paused_s += (datetime.now(UTC) - self._paused_at).total_seconds()
            self._paused_at = None

    def _speaking(self) -> bool:
        return self._reply is not None and self._reply.committed and not self._reply.done.is_set()

    async def _on_update(self, turn_id: str, rev: int, text: str) -> None:
        known = self._turns.get(turn_id)
        if known is not None and rev <= known[0]:
            return  # an older revision arriving late changes nothing
        self._turns[turn_id] = (rev, text)
        self._resume_clock()
        reply = self._reply
        if reply is not None and reply.tentative and not reply.committed:
            if talk.normalise(text) == talk.normalise(reply.based_on or ""):
                return  # the same words, only punctuation or spacing changed
            await self._discard(reply, "input_changed")
        if (not self._tentative_on or self._speaking() or not talk.looks_final(text)
                or self._attempts.get(turn_id, 0) >= self._max_tentative):
            return
        self._attempts[turn_id] = self._attempts.get(turn_id, 0) + 1
        intent = self._decide(text)
        await self._start_reply(intent, tentative=True, turn_id=turn_id, based_on=text, rev=rev)

    async def _on_end(self, turn_id: str, rev: int, text: str) -> None:
        self._turns.pop(turn_id, None)
        self._resume_clock()
        speaking = self._reply if self._speaking() else None
        if speaking is not None:
            if talk.is_backchannel(text):
                return  # "mm-hm" while the interviewer talks: listening, not taking the turn
            await self._cut(speaking, len(speaking.text))  # talking over the reply: it stops there
        if not text.strip():
            raise ProtocolError("input.end needs the turn's whole text (input.update sends it as it grows).")
        reply = self._reply
        if reply is not None and reply.tentative and not reply.committed:
            if reply.turn_id == turn_id and talk.normalise(reply.based_on or "") == talk.normalise(text):
                await self._commit(reply, text)
                return
            await self._discard(reply, "input_changed")
        intent = self._decide(text)
        await self._start_reply(intent, tentative=False, turn_id=turn_id, based_on=text, rev=rev)

    async def _on_interrupt(self, message: Message) -> None:
        reply = self._reply
        reply_id, heard = message.get("reply_id"), message.get("heard_chars")
        if reply is None or reply.id != reply_id or reply.done.is_set():
            raise ProtocolError(f"No reply {str(reply_id)[:40]!r} is being spoken.")
        if not isinstance(heard, int) or heard < 0:
            raise ProtocolError("interrupt needs heard_chars: how many characters of the reply were heard.")
        if reply.tentative and not reply.committed:
            await self._discard(reply, "interrupted")
            return
        await self._cut(reply, heard)

    async def _on_control(self, action: object) -> None:
        if action == "pause":
            if self._reply is not None and not self._reply.done.is_set():
                await self._stop(self._reply, len(self._reply.text))
            self._paused_at = self._paused_at or datetime.now(UTC)
            self._emit("state", state="listening", paused=True)
            return
        self._resume_clock()
        if self._reply is not None and not self._reply.done.is_set():
            await self._stop(self._reply, len(self._reply.text))
        if action == "repeat":
            await self._start_reply(talk.repeat(self.session), tentative=False, turn_id=None, based_on=None,
                                    rev=None)
        elif action == "skip":
            await self._start_reply(talk.skip(self.session), tentative=False, turn_id=None, based_on=None,
                                    rev=None)
        else:
            raise ProtocolError("control needs action: repeat, pause or skip.")

    def _decide(self, text: str) -> Intent:
        return talk.next_intent(self.session, text, self._elapsed_s(), self.session.skill_names,
                                self.session.job_lines)

    # --- replies ---
    async def _start_reply(self, intent: Intent, *, tentative: bool, turn_id: str | None,
                           based_on: str | None, rev: int | None) -> None:
        reply = _Reply(id=uuid.uuid4().hex[:12], intent=intent, tentative=tentative, turn_id=turn_id,
                       based_on=based_on, based_on_rev=rev)
        self._reply = reply
        if tentative:
            self.session.stats.tentative_started += 1
        self._emit("state", state="thinking")
        self._emit("reply.start", reply_id=reply.id, turn_id=turn_id, tentative=tentative, based_on_rev=rev)
        if not tentative:
            INTERVIEW_REPLIES.labels(self._provider.name, "direct").inc()
            await self._apply(reply, based_on)
        reply.task = asyncio.create_task(self._stream(reply), name=f"interview-reply-{reply.id}")

    async def _apply(self, reply: _Reply, candidate_text: str | None) -> None:
        """The reply is committed: the candidate's turn and the interview's move take effect."""
        reply.committed = True
        phase = self.session.phase
        turn = talk.commit_turn(self.session, reply.intent, candidate_text, reply.turn_id)
        await self._save()
        if turn is not None:
            await self._publish("turn", turn)
        if self.session.phase is not phase:
            self._emit("phase", phase=self.session.phase.value)

    async def _stream(self, reply: _Reply) -> None:
        self._emit("state", state="speaking")
        try:
            await self._say(reply, self._provider)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The interview must go on: a reply the provider could not give is said in the
            # rules' own words (or, cut mid-way, stops where it got to).
            logger.warning("interview %s: provider %s failed on reply %s (%s); falling back",
                           self.session.id, self._provider.name, reply.id, exc)
            self.session.stats.provider_failures += 1
            if reply.tokens == 0:
                await self._say(reply, LocalProvider())
        reply.streamed = True
        if reply.committed:
            async with self._lock:
                await self._finish(reply)

    async def _say(self, reply: _Reply, provider: ReplyProvider) -> None:
        async for token in provider.stream(reply.intent, reply.based_on):
            self._emit("reply.delta", reply_id=reply.id, index=reply.tokens, text=token)
            reply.text += token
            reply.tokens += 1

    async def _commit(self, reply: _Reply, final_text: str) -> None:
        self.session.stats.tentative_committed += 1
        INTERVIEW_REPLIES.labels(self._provider.name, "committed").inc()
        self._emit("reply.commit", reply_id=reply.id)
        await self._apply(reply, final_text)
        if reply.streamed:
            await self._finish(reply)

    async def _finish(self, reply: _Reply, interrupted: bool = False) -> None:
        if reply.done.is_set():
            return
        reply.done.set()
        self.session.stats.tokens += reply.tokens
        turn = talk.record_reply(self.session, reply.intent, reply.text, reply.id, interrupted)
        self._emit("reply.end", reply_id=reply.id, question_id=reply.intent.question_id,
                   targets=reply.intent.targets, interrupted=interrupted, text=reply.text)
        await self._save()
        await self._publish("turn", turn)
        if self.session.phase is Phase.ENDED:
            await self._end()
        else:
            self._emit("state", state="listening")

    async def _stop(self, reply: _Reply, heard: int) -> None:
        """Stop streaming; a committed reply keeps what was heard."""
        if reply.task is not None and reply.task is not asyncio.current_task():
            reply.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reply.task
        if reply.committed:
            reply.text = reply.text[:heard]
            await self._finish(reply, interrupted=True)
        else:
            await self._discard(reply, "interrupted")

    async def _cut(self, reply: _Reply, heard: int) -> None:
        self.session.stats.interruptions += 1
        await self._stop(reply, heard)

    async def _discard(self, reply: _Reply, reason: str) -> None:
        if reply.task is not None:
            reply.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reply.task
        if reply.done.is_set():
            return
        reply.done.set()
        self.session.stats.tentative_discarded += 1
        self.session.stats.discarded_tokens += reply.tokens
        INTERVIEW_REPLIES.labels(self._provider.name, "discarded").inc()
        INTERVIEW_DISCARDED_TOKENS.labels(self._provider.name).inc(reply.tokens)
        self._emit("reply.discard", reply_id=reply.id, reason=reason)
        self._emit("state", state="listening")
        if self._reply is reply:
            self._reply = None

    async def _save(self) -> None:
        if not self._closed:  # a deleted session must not be written back
            await self._hooks.save(self.session)

    async def _publish(self, kind: Literal["turn", "ended"], turn: Turn | None = None) -> None:
        await self._hooks.publish(InterviewEvent(session_id=self.session.id, owner=self.session.owner,
                                                 type=kind, turn=turn, phase=self.session.phase))

    async def end(self) -> None:
        """End the interview now (``POST /interviews/{id}/end``); the report is made after."""
        async with self._lock:
            if self.session.phase is Phase.ENDED:
                return
            if self._reply is not None and not self._reply.done.is_set():
                await self._stop(self._reply, len(self._reply.text))
            self.session.phase = Phase.ENDED
            self._emit("phase", phase=Phase.ENDED.value)
            await self._end()

    async def _end(self) -> None:
        self.session.ended_at = datetime.now(UTC)
        self._resume_clock()
        await self._save()
        await self._publish("ended")
        self._emit("state", state="ended")

    async def close(self) -> None:
        """Stop whatever is streaming (the gateway is shutting down or the session was deleted);
        nothing is saved after this, so a deleted session is never written back."""
        self._closed = True
        reply = self._reply
        if reply is not None and reply.task is not None:
            reply.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reply.task
        await self._provider.close()


def _turn(message: Message) -> tuple[str, int, str]:
    turn_id, rev, text = message.get("turn_id"), message.get("rev"), message.get("text")
    if not isinstance(turn_id, str) or not turn_id or len(turn_id) > 64:
        raise ProtocolError("turn_id must be a string of 1 to 64 characters naming the candidate's turn.")
    if not isinstance(rev, int) or rev < 0:
        raise ProtocolError("rev must be a whole number that grows with each update of the turn.")
    if not isinstance(text, str) or len(text) > 20_000:
        raise ProtocolError("text must be the whole text of the turn so far, at most 20,000 characters.")
    return turn_id, rev, text


class LiveInterviews:
    """The live interviews of this gateway, by session id.

    One left without a client for ``idle_s`` is let go (its session is in the store; a
    client coming back later gets a new one that numbers its messages on from the last).
    """

    def __init__(self, make: Callable[[InterviewSession], LiveInterview], idle_s: float = 1800) -> None:
        self._make = make
        self._idle_s = idle_s
        self._live: dict[str, LiveInterview] = {}
        self._lock = asyncio.Lock()

    async def get(self, session: InterviewSession) -> LiveInterview:
        async with self._lock:
            now = time.monotonic()
            for stale in [sid for sid, live in self._live.items()
                          if sid != session.id and live.idle_for(now) > self._idle_s]:
                await self._live.pop(stale).close()
            live = self._live.get(session.id)
            if live is None:
                live = self._live[session.id] = self._make(session)
            return live

    def __len__(self) -> int:
        return len(self._live)

    def peek(self, session_id: str) -> LiveInterview | None:
        return self._live.get(session_id)

    async def drop(self, session_id: str) -> None:
        live = self._live.pop(session_id, None)
        if live is not None:
            await live.close()

    async def close(self) -> None:
        for session_id in list(self._live):
            await self.drop(session_id)
