"""What every long-lived connection of the gateway needs: its loops run together, and the
token it was opened with checked while it lasts (a logout closes it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

import jwt
from fastapi import WebSocket, WebSocketDisconnect

from doclane.api.gateway import Gateway
from doclane.api.security import Session

__all__ = ["BadMessage", "MAX_MESSAGE_CHARS", "SEND_THE_TOKEN", "REVOKED_OR_EXPIRED", "first_message",
           "receive_object", "refuse", "revocation_watch", "run_until_one_ends"]

REVOKED_OR_EXPIRED = "Your token was revoked or has expired; log in again at POST /auth/login."
SEND_THE_TOKEN = 'Send the token as ?token=... or as the first message {"token": "..."}.'  # noqa: S105 - a message, not a secret
#: How long a socket opened without ``?token=`` waits for the message that carries it.
AUTH_TIMEOUT_S = 10


#: Longest message a client may send: an interview turn (20,000 characters, each escaped
#: as ``\uXXXX`` at worst) fits. Longer ones are refused before they are parsed.
MAX_MESSAGE_CHARS = 256 << 10
_NOT_AN_OBJECT = "Messages must be JSON objects, sent as text frames."


class BadMessage(ValueError):
    """A client message that is not a JSON object in a text frame; ``reason`` says what to send."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _receive_json(websocket: WebSocket) -> Any:
    """The client's next message, parsed; :class:`BadMessage` if it is not JSON text.

    Starlette's ``receive_json`` fails on a binary frame (``KeyError``) and on JSON nested
    deeper than Python's parser goes (``RecursionError``): either ended the connection
    without a close frame. Here both are a reason the client reads.
    """
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        raise BadMessage(_NOT_AN_OBJECT)
    if len(text) > MAX_MESSAGE_CHARS:
        raise BadMessage(f"Messages are at most {MAX_MESSAGE_CHARS >> 10} KB.")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise BadMessage(_NOT_AN_OBJECT) from None


async def receive_object(websocket: WebSocket) -> dict[str, Any]:
    """The client's next message as a JSON object; :class:`BadMessage` if it is anything else."""
    message = await _receive_json(websocket)
    if not isinstance(message, dict):
        raise BadMessage(_NOT_AN_OBJECT)
    return message


async def first_message(websocket: WebSocket) -> Any:
    """The client's first message (JSON), which carries the token when the URL does not;
    ``None`` when it was not JSON text, ``{}`` when none came in time."""
    try:
        return await asyncio.wait_for(_receive_json(websocket), AUTH_TIMEOUT_S)
    except BadMessage:
        return None
    except (TimeoutError, WebSocketDisconnect):
        return {}


async def refuse(websocket: WebSocket, detail: str, code: int, reason: str | None = None) -> None:
    """Tell the client why (an ``error`` message), then close with ``code``."""
    await websocket.send_json({"type": "error", "detail": detail})
    await websocket.close(code, reason or detail[:120])


def _still_valid(session: Session) -> Callable[[int], bool]:
    """Whether ``session``'s token is still good when the user's token version is ``version``.

    The token was verified when the connection opened (signature, expiry, user), and of
    that only the expiry and the version can change while it is open: those two are
    compared at each check, without decoding the token again (one check a second per token).
    """
    claims = jwt.decode(session.token, options={"verify_signature": False})
    expires = float(claims["exp"])

    def valid(version: int) -> bool:
        return version == session.version and time.time() < expires
    return valid


async def revocation_watch(gateway: Gateway, session: Session) -> None:
    """Returns when the session's token is revoked (logout) or expires.

    The gateway's one :class:`~doclane.api.hub.TokenWatch` checks every open connection's
    token: one token-version read per user, however many connections the user has open.
    """
    await gateway.hub.tokens.until_invalid(session.user.name, session.token, _still_valid(session))


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
