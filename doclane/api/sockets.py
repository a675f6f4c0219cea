"""What every long-lived connection of the gateway needs: its loops run together, and the
token it was opened with checked while it lasts (a logout closes it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import WebSocketDisconnect

from doclane.api.deps import authenticate_token
from doclane.api.gateway import Gateway
from doclane.api.security import AuthError, Session

__all__ = ["REVOKED_OR_EXPIRED", "revocation_watch", "run_until_one_ends"]

#: How often an open stream checks that its token was not revoked (logout).
REVOCATION_CHECK_S = 1.0
REVOKED_OR_EXPIRED = "Your token was revoked or has expired; log in again at POST /auth/login."


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
