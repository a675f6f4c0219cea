"""A command that cannot reach its servers at start says so in one line and exits, no traceback.

The adapters raise :class:`~doclane.infra.connect.ConnectFailed` once their
connect deadline has passed; its message names the server and says what to
check, so a traceback would only bury it.
"""

from __future__ import annotations

import resource
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from rich.console import Console
from rich.markup import escape
from starlette.types import Message, Receive, Scope, Send

from doclane.infra.connect import ConnectFailed

__all__ = ["OneLineStartFailure", "print_start_failure", "raise_fd_limit"]


def raise_fd_limit() -> int:
    """Lift the soft limit on open files to the hard one; the limit now in force.

    Every SSE or WebSocket client holds a socket for as long as it follows, and the
    usual soft default (1,024) would refuse connections long before the gateway's
    CPU or memory runs out. The hard limit is the administrator's, left as it is.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    unlimited = resource.RLIM_INFINITY
    target = (1 << 20) if hard == unlimited else hard
    if soft != unlimited and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # some platforms cap it lower (macOS: OPEN_MAX)
            return soft
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def print_start_failure(console: Console, what: str, exc: ConnectFailed) -> None:
    """``doclane <what> cannot start: <reason>`` on one line (never wrapped by the console)."""
    console.print(f"[red]doclane {escape(what)} cannot start:[/red] {escape(str(exc))}", soft_wrap=True)


class OneLineStartFailure:
    """The gateway's app, whose start-up failure to connect is reported in one line.

    Starlette reports a failed lifespan start-up to uvicorn with the formatted
    traceback as the message, which uvicorn logs. For :class:`ConnectFailed` the
    line from :func:`print_start_failure` is printed instead and the message left
    empty; uvicorn still logs "Application startup failed" and exits non-zero.
    """

    def __init__(self, app: FastAPI, console: Console, what: str) -> None:
        self.app = app
        self._console = console
        self._what = what
        self._failure: ConnectFailed | None = None
        app.router.lifespan_context = self._noting_failure(app.router.lifespan_context)

    def _noting_failure(
        self, inner: Callable[[Any], AbstractAsyncContextManager[Any]]
    ) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
        @asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[Any]:
            try:
                async with inner(app) as state:
                    yield state
            except ConnectFailed as exc:
                self._failure = exc  # read when Starlette reports the failure, just after
                raise

        return lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def report(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self._failure is not None:
                print_start_failure(self._console, self._what, self._failure)
                message = {**message, "message": ""}
            await send(message)

        await self.app(scope, receive, report)
