"""Live status: ``GET /documents/stream`` (SSE) and ``/ws`` (WebSocket).

Both send every status event of the caller's documents, in order, once. The
SSE event id and the WebSocket ``cursor`` are the owner's event cursor: send it
back (``Last-Event-ID`` header, or ``since``) to resume after a reconnect.
Without either, a connection starts with what happens from now on;
``since=0`` replays everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, WebSocket, WebSocketDisconnect, status
from sse_starlette import EventSourceResponse, ServerSentEvent

from doclane.api.deps import CurrentUser, GatewayDep
from doclane.api.gateway import Gateway
from doclane.api.security import AuthError, User, read_token
from doclane.schemas.events import StatusEvent

__all__ = ["router"]

router = APIRouter(tags=["stream"])
_AUTH_TIMEOUT_S = 10
_WS_POLICY_VIOLATION = 1008


def _cursor(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        cursor = int(value)
    except ValueError:
        cursor = -1
    if cursor < 0:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"{name} must be an event id received from this stream (a whole number >= 0).",
        )
    return cursor


@router.get("/documents/stream")
async def stream(
    gateway: GatewayDep,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    since: Annotated[str | None, Query(description="Resume after this event id.")] = None,
) -> EventSourceResponse:
    """Server-Sent Events: every status event of your documents, live."""
    start = _cursor(last_event_id, "Last-Event-ID")
    if start is None:
        start = _cursor(since, "since")
    if start is None:
        start = await gateway.hub.now(user.name)
    begin = start

    async def events() -> AsyncIterator[ServerSentEvent]:
        async for event in gateway.hub.follow(user.name, begin):
            yield ServerSentEvent(data=event.model_dump_json(), id=str(event.cursor), event="status")

    return EventSourceResponse(events(), ping=gateway.services.settings.heartbeat_s)


def _ws_message(event: StatusEvent) -> str:
    return json.dumps({"type": "status", **event.model_dump(mode="json")})


async def _authenticate(websocket: WebSocket, gateway: Gateway, token: str | None,
                        since: int | None) -> tuple[User, int | None] | None:
    if token is None:
        try:
            first: Any = await asyncio.wait_for(websocket.receive_json(), _AUTH_TIMEOUT_S)
        except (TimeoutError, ValueError, WebSocketDisconnect):
            first = {}
        token = first.get("token") if isinstance(first, dict) else None
        if isinstance(first, dict) and isinstance(first.get("since"), int):
            since = first["since"]
    if not token:
        reason = 'Send the token as ?token=... or as the first message {"token": "..."}.'
        await websocket.send_json({"type": "error", "detail": reason})
        await websocket.close(_WS_POLICY_VIOLATION, "missing token")
        return None
    try:
        return read_token(token, gateway.jwt_secret, gateway.users), since
    except AuthError as exc:
        await websocket.send_json({"type": "error", "detail": exc.reason})
        await websocket.close(_WS_POLICY_VIOLATION, "invalid token")
        return None


@router.websocket("/ws")
async def ws(websocket: WebSocket, token: str | None = None, since: int | None = None) -> None:
    """WebSocket: the same events as the SSE stream, as JSON messages."""
    gateway: Gateway = websocket.app.state.gateway
    await websocket.accept()
    auth = await _authenticate(websocket, gateway, token, since)
    if auth is None:
        return
    user, since_cursor = auth
    start = since_cursor if since_cursor is not None else await gateway.hub.now(user.name)
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
            await websocket.send_text(_ws_message(event))

    async def receive() -> None:
        # Reading is how a disconnect is noticed; client messages are ignored.
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    tasks = [asyncio.create_task(t()) for t in (pump, send, receive)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
