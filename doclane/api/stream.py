"""Live status: ``GET /documents/stream`` (SSE) and ``/ws`` (WebSocket).

Both send every status event of the caller's documents, in order, once. The
SSE event id and the WebSocket ``cursor`` are the owner's event cursor: send it
back (``Last-Event-ID`` header, or ``since``) to resume after a reconnect.
Without either, a connection starts with what happens from now on;
``since=0`` replays everything.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, WebSocket, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette import EventSourceResponse, ServerSentEvent

from doclane.api.deps import GatewayDep, authenticate_token
from doclane.api.gateway import Gateway
from doclane.api.limits import MAX_CURSOR_CHARS
from doclane.api.security import AuthError, Session
from doclane.api.sockets import (
    REVOKED_OR_EXPIRED,
    SEND_THE_TOKEN,
    first_message,
    refuse,
    revocation_watch,
    run_until_one_ends,
)
from doclane.schemas.events import StatusEvent

__all__ = ["InvalidCursor", "check_cursor", "router"]

router = APIRouter(tags=["stream"])
_WS_POLICY_VIOLATION = 1008
_DIGITS = re.compile(rf"[0-9]{{1,{MAX_CURSOR_CHARS}}}")
_bearer = HTTPBearer(auto_error=False)
_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
_BEARER = "Send 'Authorization: Bearer <token>'; get a token from POST /auth/login."


class InvalidCursor(ValueError):
    """A resume cursor that is not one this stream could have sent; the message says what to send."""


def check_cursor(value: object, name: str, latest: int) -> int:
    """``value`` as a cursor of an owner whose newest event is ``latest``; :class:`InvalidCursor` if not.

    A cursor is an event id received from the stream: a whole number from 0 (replay
    everything) to the newest one. Anything else (beyond what exists, negative, not a
    number, a JSON ``true``) is refused, so a client never waits on a stream that
    cannot deliver what it asked for.
    """
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        raise InvalidCursor(f"{name} must be an event id received from this stream: a whole number "
                            f"from 0 (replay everything) to {latest} (your newest event); leave it "
                            "out to start from now.")
    cursor = int(text)
    if cursor > latest:
        raise InvalidCursor(f"{name}={cursor} is beyond your newest event ({latest}); send an event "
                            "id received from this stream, 0 to replay everything, or nothing to "
                            "start from now.")
    return cursor


async def _current_session(
    gateway: GatewayDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Session:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, _BEARER, headers=_UNAUTHORIZED)
    try:
        return await authenticate_token(gateway, credentials.credentials)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.reason, headers=_UNAUTHORIZED) from exc


@router.get("/documents/stream", responses={
    400: {"description": "A cursor that is not an event id of yours"},
    401: {"description": "Missing, invalid or revoked token"},
})
async def stream(
    gateway: GatewayDep,
    session: Annotated[Session, Depends(_current_session)],
    last_event_id: Annotated[str | None, Header(
        alias="Last-Event-ID", description="Resume after this event id (0 to your newest).")] = None,
    since: Annotated[str | None, Query(
        description="Resume after this event id (0: replay everything).")] = None,
) -> EventSourceResponse:
    """Server-Sent Events: every status event of your documents, live."""
    user = session.user
    latest = await gateway.hub.now(user.name)
    try:
        if last_event_id:
            start = check_cursor(last_event_id, "Last-Event-ID", latest)
        elif since:
            start = check_cursor(since, "since", latest)
        else:
            start = latest
    except InvalidCursor as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None

    async def events() -> AsyncIterator[ServerSentEvent]:
        outbox: asyncio.Queue[StatusEvent | None] = asyncio.Queue(64)

        async def pump() -> None:
            async for event in gateway.hub.follow(user.name, start):
                await outbox.put(event)

        async def watch() -> None:
            await revocation_watch(gateway, session)
            await outbox.put(None)

        tasks = [asyncio.create_task(pump()), asyncio.create_task(watch())]
        try:
            while (event := await outbox.get()) is not None:
                yield ServerSentEvent(data=gateway.hub.encode(event), id=str(event.cursor), event="status")
            yield ServerSentEvent(data=json.dumps({"detail": REVOKED_OR_EXPIRED}), event="error")
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return EventSourceResponse(events(), ping=gateway.services.settings.heartbeat_s)




def _ws_message(gateway: Gateway, event: StatusEvent) -> str:
    # The event's own JSON (encoded once for all its owner's clients) with "type" first.
    return '{"type":"status",' + gateway.hub.encode(event)[1:]


async def _refuse(websocket: WebSocket, detail: str, reason: str) -> None:
    await refuse(websocket, detail, _WS_POLICY_VIOLATION, reason)


async def _authenticate(websocket: WebSocket, gateway: Gateway, token: str | None,
                        since: object) -> tuple[Session, int] | None:
    if token is None:
        first = await first_message(websocket)
        if not isinstance(first, dict):
            await _refuse(websocket, 'The first message must be a JSON object: {"token": "...", '
                          '"since": N}.', "bad first message")
            return None
        token = first.get("token") if isinstance(first.get("token"), str) else None
        if "since" in first:  # a JSON number; "" fails the check like any other non-number
            since = first["since"] if isinstance(first["since"], int) else ""
    if not token:
        await _refuse(websocket, SEND_THE_TOKEN, "missing token")
        return None
    try:
        session = await authenticate_token(gateway, token)
    except AuthError as exc:
        await _refuse(websocket, exc.reason, "invalid token")
        return None
    latest = await gateway.hub.now(session.user.name)
    if since is None:
        return session, latest
    try:
        return session, check_cursor(since, "since", latest)
    except InvalidCursor as exc:
        await _refuse(websocket, str(exc), "invalid since")
        return None


@router.websocket("/ws")
async def ws(websocket: WebSocket, token: str | None = None, since: str | None = None) -> None:
    """WebSocket: the same events as the SSE stream, as JSON messages."""
    gateway: Gateway = websocket.app.state.gateway
    await websocket.accept()
    auth = await _authenticate(websocket, gateway, token, since)
    if auth is None:
        return
    session, start = auth
    user = session.user
    await websocket.send_json({"type": "ready", "user": user.name, "cursor": start})
    heartbeat_s = gateway.services.settings.heartbeat_s
    outbox: asyncio.Queue[StatusEvent] = asyncio.Queue(64)

    async def pump() -> None:
        async for event in gateway.hub.follow(user.name, start):
            await outbox.put(event)

    async def send() -> None:
        while True:
            try:
                event = await asyncio.wait_for(outbox.get(), heartbeat_s)
            except TimeoutError:
                await websocket.send_json({"type": "heartbeat"})
                continue
            await websocket.send_text(_ws_message(gateway, event))

    async def receive() -> None:
        # Reading is how a disconnect is noticed; client messages are ignored.
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    async def watch() -> None:
        await revocation_watch(gateway, session)
        await _refuse(websocket, REVOKED_OR_EXPIRED, "token revoked")

    await run_until_one_ends(pump, send, receive, watch)
