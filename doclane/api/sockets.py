"""What every long-lived connection of the gateway needs: its loops run together, and the
token it was opened with checked while it lasts (a logout closes it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from doclane.api.deps import authenticate_token
from doclane.api.gateway import Gateway
from doclane.api.security import AuthError, Session

__all__ = ["SEND_THE_TOKEN", "REVOKED_OR_EXPIRED", "first_message", "refuse", "revocation_watch",
           "run_until_one_ends"]

#: How often an open stream checks that its token was not revoked (logout).
REVOCATION_CHECK_S = 1.0
REVOKED_OR_EXPIRED = "Your token was revoked or has expired; log in again at POST /auth/login."
SEND_THE_TOKEN = 'Send the token as ?token=... or as the first message {"token": "..."}.'  # noqa: S105 - a message, not a secret
#: How long a socket opened without ``?token=`` waits for the message that carries it.
AUTH_TIMEOUT_S = 10


async def first_message(websocket: WebSocket) -> Any:
    """The client's first message (JSON), which carries the token when the URL does not;
    ``{}`` when none came in time or it was not JSON."""
    try:
        return await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_S)
    except (TimeoutError, ValueError, WebSocketDisconnect):
        return {}


async def refuse(websocket: WebSocket, detail: str, code: int, reason: str | None = None) -> None:
    """Tell the client why (an ``error`` message), then close with ``code``."""
    await websocket.send_json({"type": "error", "detail": detail})
    await websocket.close(code, reason or detail[:120])


async def revocation_watch(gateway: Gateway, session: Session) -> None:
    """Returns when the session's token is revoked (logout) or expires."""
    while True:
        await asyncio.sleep(REVOCATION_CHECK_S)
        try:
            await authenticate_token(gateway, session.token)
        except AuthError:
            return


async def run_until_one_ends(*loops: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a connection's loops together; when one ends (the client left, the token was
    revoked, the feed closed), cancel the others and wait for them."""
    tasks = [asyncio.create_task(loop()) for loop in loops]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
