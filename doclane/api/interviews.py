"""Interview routes: assessments, sessions, the live chat over WebSocket, reports."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
import uuid
from typing import Annotated, Any

from cachetools import LRUCache
from fastapi import APIRouter, HTTPException, Query, Response, WebSocket, WebSocketDisconnect, status
from fastapi.responses import JSONResponse

from doclane.api.deps import CurrentUser, GatewayDep, ServicesDep, authenticate_token
from doclane.api.gateway import Gateway
from doclane.api.security import AuthError, Session, User
from doclane.api.sockets import (
    REVOKED_OR_EXPIRED,
    SEND_THE_TOKEN,
    BadMessage,
    first_message,
    receive_object,
    refuse,
    revocation_watch,
    run_until_one_ends,
)
from doclane.api.stream import InvalidCursor, check_cursor
from doclane.infra.runtime import Services
from doclane.infra.store.base import Store
from doclane.interviews import ASSESSMENT_VERSION, assess
from doclane.interviews.exceptions import DocumentFailed, DocumentNotReady
from doclane.interviews.judge import SkillJudge, load_judge
from doclane.interviews.live import Hooks, LiveInterview, LiveInterviews, ProtocolError
from doclane.interviews.plan import PLAN_VERSION, plan_questions
from doclane.interviews.profiles import job_profile, statements
from doclane.interviews.providers import build_provider
from doclane.interviews.skills import known_skills
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.events import DocumentStatus, Topics
from doclane.schemas.interviews import (
    Assessment,
    AssessmentRequest,
    InterviewCreate,
    InterviewEvent,
    InterviewReport,
    InterviewSession,
    InterviewSummary,
    JobProfile,
    Phase,
)

__all__ = ["live_interviews", "router"]

router = APIRouter(prefix="/interviews", tags=["interviews"])

_NOT_FOUND = "No interview with id '{}'."
#: WebSocket close codes (4000-4999 are the application's): like HTTP 404 and 401.
_WS_NOT_FOUND, _WS_UNAUTHORIZED = 4404, 4401
_WS_POLICY_VIOLATION = 1008


async def _finished(store: Store, user: User, document_id: str, role: str
                    ) -> tuple[DocumentRecord, list[ChunkRecord]]:
    doc = await store.get_document(document_id)
    if doc is None or doc.owner != user.name:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No document with id '{document_id}' ({role}).")
    if doc.status is DocumentStatus.FAILED:
        raise DocumentFailed(f"The {role} '{doc.filename}' failed ({doc.error or 'no reason given'}); "
                             "upload it again or pick another document.")
    if doc.status is not DocumentStatus.COMPLETED:
        raise DocumentNotReady(f"The {role} '{doc.filename}' is still being processed ({doc.status}); "
                               "try again when it has completed.")
    return doc, await store.list_chunks(doc.id)


#: The skill model, found once per process: finding it hashes its training inputs (~15 ms), and it
#: does not change under a running gateway.
_judge = functools.cache(load_judge)


#: What later stages write on a chunk: not what a job profile reads.
_LATER_STAGES = {"analysis", "analyzed_at", "indexed_at", "aggregated", "index_aggregated"}


class JobProfiles:
    """Job profiles already made, by their JD's content and the model that read it: a JD is
    assessed against many resumes (one per candidate), and reading it costs the skill model
    about 0.2 s of CPU (`bench/interview.py`). A JD processed again with other text gets a new key."""

    def __init__(self, size: int = 256) -> None:
        self._made: LRUCache[tuple[str, ...], JobProfile] = LRUCache(size)
        self._lock = threading.Lock()  # profiles are made in worker threads

    def get(self, doc: DocumentRecord, chunks: list[ChunkRecord], known: frozenset[str],
            judge: SkillJudge | None) -> JobProfile:
        digest = hashlib.blake2b(doc.model_dump_json(include={"title"}).encode(), digest_size=16)
        for chunk in chunks:
            digest.update(chunk.model_dump_json(exclude=_LATER_STAGES).encode())
        model = f"{judge.version}@{id(judge)}" if judge else "rules"
        key = (doc.id, digest.hexdigest(), model, str(len(known)))
        with self._lock:
            found = self._made.get(key)
        if found is not None:
            return found
        made = job_profile(doc, chunks, known, judge)
        with self._lock:
            self._made[key] = made
        return made


_profiles = JobProfiles()


async def _assessment(services: Services, user: User, job_id: str, resume_id: str
                      ) -> tuple[Assessment, list[ChunkRecord]]:
    job, job_chunks = await _finished(services.store, user, job_id, "job description")
    resume, resume_chunks = await _finished(services.store, user, resume_id, "resume")
    models_dir = services.settings.models_dir
    known = known_skills(models_dir)
    # the parse and the skill model are CPU work: off the event loop
    judge = await asyncio.to_thread(_judge, models_dir)
    profile = await asyncio.to_thread(_profiles.get, job, job_chunks, known, judge)
    assessment = await asyncio.to_thread(assess, job, job_chunks, resume, resume_chunks, known, None, judge,
                                         profile)
    return assessment, job_chunks


def _default_provider(services: Services) -> str:
    """``DOCLANE_INTERVIEW_PROVIDER``, else ``openai`` where the analysis uses it, else ``local``."""
    settings = services.settings
    return settings.interview_provider or ("openai" if settings.analysis_provider == "openai" else "local")


_DOCUMENT_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Either document does not exist (or is not yours)"},
    409: {"description": "Either document is still being processed"},
    422: {"description": "Either document failed in the pipeline, or the body is invalid"},
}


@router.post("/assessments", responses=_DOCUMENT_ERRORS)
async def create_assessment(body: AssessmentRequest, user: CurrentUser, services: ServicesDep) -> Assessment:
    """Matched and missing skills with evidence from the resume, a fit score with its
    breakdown, and focus areas for the interview."""
    assessment, _ = await _assessment(services, user, body.job_description_id, body.resume_id)
    return assessment


@router.post("", status_code=status.HTTP_201_CREATED, responses=_DOCUMENT_ERRORS)
async def create_interview(body: InterviewCreate, user: CurrentUser,
                           services: ServicesDep) -> InterviewSession:
    """A new session with its question plan; talk to it at ``/interviews/{id}/ws``."""
    provider = body.provider or _default_provider(services)
    settings = services.settings
    if provider == "openai" and settings.openai_api_key is None and settings.ai_base_url is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "The openai provider needs OPENAI_API_KEY (or DOCLANE_AI_BASE_URL for a "
                            "compatible server) on the server; choose provider 'local' to interview offline.")
    assessment, job_chunks = await _assessment(services, user, body.job_description_id, body.resume_id)
    wanted = [*assessment.job.required_skills, *assessment.job.preferred_skills]
    session = InterviewSession(
        id=uuid.uuid4().hex, owner=user.name, job_description_id=body.job_description_id,
        resume_id=body.resume_id, provider=provider,
        max_questions=body.max_questions, duration_min=body.duration_min,
        plan=plan_questions(assessment, body.max_questions), fit_score=assessment.fit_score,
        job_title=assessment.job.title, candidate_name=assessment.candidate.name,
        skill_names={r.skill: r.name for r in wanted},
        required_skills=[r.skill for r in assessment.job.required_skills],
        job_lines=[c.text[a:b] for c in job_chunks for a, b in statements(c.text)][:400],
        version=f"{PLAN_VERSION}+{ASSESSMENT_VERSION}",
    )
    await services.store.save_interview(session)
    return session


@router.get("")
async def list_interviews(user: CurrentUser, services: ServicesDep,
                          limit: Annotated[int, Query(ge=1, le=200)] = 50,
                          offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[InterviewSummary]:
    """Your interview sessions, newest first."""
    return [InterviewSummary.of(s) for s in await services.store.list_interviews(user.name, limit, offset)]


async def _owned(services: Services, user: User, session_id: str) -> InterviewSession:
    session = await services.store.get_interview(session_id)
    if session is None or session.owner != user.name:  # another user's session does not exist for you
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND.format(session_id[:64]))
    return session


async def _current(gateway: Gateway, session: InterviewSession) -> InterviewSession:
    """The session as the live conversation holds it, if one runs here (it is ahead of the store)."""
    live = gateway.interviews.peek(session.id)
    return live.session if live is not None else session


@router.get("/{session_id}", responses={404: {"description": "No such interview (or not yours)"}})
async def get_interview(session_id: str, user: CurrentUser, gateway: GatewayDep) -> InterviewSession:
    """State, phase, plan and transcript."""
    return await _current(gateway, await _owned(gateway.services, user, session_id))


@router.post("/{session_id}/end", responses={404: {"description": "No such interview (or not yours)"}})
async def end_interview(session_id: str, user: CurrentUser, gateway: GatewayDep) -> InterviewSession:
    """End the interview now; its report is made by the assessor (``GET .../report``)."""
    session = await _owned(gateway.services, user, session_id)
    live = await gateway.interviews.get(session)
    await live.end()
    return live.session


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {"description": "No such interview (or not yours)"}})
async def delete_interview(session_id: str, user: CurrentUser, gateway: GatewayDep) -> Response:
    await _owned(gateway.services, user, session_id)
    await gateway.interviews.drop(session_id)
    await gateway.services.store.delete_interview(session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}/report", response_model=InterviewReport,
            responses={202: {"description": "The interview ended; the report is being made"},
                       404: {"description": "No such interview (or not yours)"},
                       409: {"description": "The interview has not ended"}})
async def get_report(session_id: str, user: CurrentUser,
                     gateway: GatewayDep) -> InterviewReport | JSONResponse:
    session = await _current(gateway, await _owned(gateway.services, user, session_id))
    report = await gateway.services.store.get_interview_report(session_id)
    if report is not None:
        return report
    if session.phase is not Phase.ENDED:
        raise HTTPException(status.HTTP_409_CONFLICT, "The interview has not ended: end it with "
                                                      f"POST /interviews/{session_id}/end first.")
    return JSONResponse({"detail": "The report is being made; ask again in a moment."},
                        status_code=status.HTTP_202_ACCEPTED, headers={"Retry-After": "1"})


# --- the live chat ---

async def _socket_user(websocket: WebSocket, gateway: Gateway,
                       token: str | None) -> tuple[Session, Any] | None:
    """The session of the token (query or first message), and the first message's ``since``."""
    since: Any = None
    if token is None:
        first = await first_message(websocket)
        if isinstance(first, dict):
            token = first.get("token") if isinstance(first.get("token"), str) else None
            if "since" in first:  # a JSON number; "" fails the cursor check like any other
                since = first["since"] if isinstance(first["since"], int) else ""
    if not token:
        await refuse(websocket, SEND_THE_TOKEN, _WS_UNAUTHORIZED)
        return None
    try:
        return await authenticate_token(gateway, token), since
    except AuthError as exc:
        await refuse(websocket, exc.reason, _WS_UNAUTHORIZED)
        return None


@router.websocket("/{session_id}/ws")
async def interview_socket(websocket: WebSocket, session_id: str, token: str | None = None,
                           since: str | None = None) -> None:
    """The live interview: see the README's "Interviews" section for the messages."""
    gateway: Gateway = websocket.app.state.gateway
    await websocket.accept()
    who = await _socket_user(websocket, gateway, token)
    if who is None:
        return
    auth, first_since = who
    user = auth.user
    # Read as text (not int), so that a bad cursor is answered, not refused at the handshake.
    cursor: Any = since if since is not None else first_since
    session = await gateway.services.store.get_interview(session_id)
    if session is None or session.owner != user.name:
        await refuse(websocket, _NOT_FOUND.format(session_id[:64]), _WS_NOT_FOUND)
        return
    live = await gateway.interviews.get(session)
    try:
        start = None if cursor is None else check_cursor(cursor, "since", live.session.last_seq)
    except InvalidCursor as exc:
        await refuse(websocket, str(exc).replace("your newest event", "the interview's last message"),
                     _WS_POLICY_VIOLATION, "invalid since")
        return
    queue, backlog = await live.attach(start)
    heartbeat_s = gateway.services.settings.heartbeat_s
    try:
        await websocket.send_json({"type": "ready", "session_id": session_id,
                                   "phase": live.session.phase.value, "last_seq": live.session.last_seq})
        for message in backlog:
            await websocket.send_json(message)

        async def send() -> None:
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), heartbeat_s)
                except TimeoutError:
                    await websocket.send_json({"type": "heartbeat", "last_seq": live.session.last_seq})
                    continue
                await websocket.send_json(message)

        async def receive() -> None:
            while True:
                try:
                    message = await receive_object(websocket)
                except BadMessage as exc:
                    await websocket.send_json({"type": "error", "detail": exc.reason})
                    continue
                try:
                    await live.handle(message)
                except ProtocolError as exc:
                    await websocket.send_json({"type": "error", "detail": str(exc)})

        async def watch() -> None:  # a logout (or the token's end) closes the interview's socket
            await revocation_watch(gateway, auth)
            await refuse(websocket, REVOKED_OR_EXPIRED, _WS_UNAUTHORIZED)

        await run_until_one_ends(send, receive, watch)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        live.detach(queue)


def live_interviews(services: Services) -> LiveInterviews:
    """The gateway's live interviews: each saves to the store and publishes its turns."""
    settings = services.settings

    async def publish(event: InterviewEvent) -> None:
        await services.bus.publish(Topics.INTERVIEW_EVENTS, event.session_id, event)

    hooks = Hooks(save=services.store.save_interview, publish=publish)
    return LiveInterviews(lambda session: LiveInterview(
        session, build_provider(session.provider, settings, services.ai_limiter, session.job_title), hooks,
        tentative=settings.interview_tentative, max_tentative=settings.interview_max_tentative))
