"""Request limits and response headers, applied to every request before a route runs.

* :class:`BodyLimitMiddleware` counts the body bytes of each request as they arrive
  and cuts the request at its route's limit with a 413 that says the limit: the
  upload route gets room for ``max_files_per_upload`` files of ``max_upload_mb``
  each, every other route 1 MiB (JSON bodies are small). A ``Content-Length``
  beyond the limit is refused before a byte of the body is read.
* :class:`SecurityHeadersMiddleware` adds a restrictive Content-Security-Policy,
  ``nosniff``, ``frame-ancestors 'none'`` and a Referrer-Policy to every answer.

Both are pure ASGI middleware: nothing is buffered, streams (SSE) pass through.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doclane.exceptions import DoclaneError
from doclane.infra.settings import Settings

__all__ = [
    "JSON_BODY_BYTES",
    "MAX_OFFSET",
    "MAX_CURSOR_CHARS",
    "BodyLimitMiddleware",
    "RESUMABLE_PATH",
    "RequestTooLarge",
    "SecurityHeadersMiddleware",
    "UPLOAD_PATH",
    "request_limit",
]

#: Body of any request but an upload: logins, retries, admin actions are small JSON.
JSON_BODY_BYTES = 1 << 20
#: Multipart headers, boundaries and small fields, per file and per request.
_PART_OVERHEAD_BYTES = 16 << 10
_REQUEST_OVERHEAD_BYTES = 1 << 20
#: Largest ``offset`` of a listing: past any real history, far below SQLite's 2^63.
MAX_OFFSET = 1_000_000
#: A stream cursor is a number below 2^63: 19 digits at most.
MAX_CURSOR_CHARS = 19
UPLOAD_PATH = "/documents/upload"
#: Resumable uploads: ``POST /uploads/`` creates one (no body), ``PATCH /uploads/{id}`` sends bytes.
RESUMABLE_PATH = "/uploads/"


class RequestTooLarge(DoclaneError):
    """The request's body is larger than its route accepts."""

    category = "too_large"


def request_limit(settings: Settings, path: str) -> int:
    """The most body bytes a request to ``path`` may send."""
    if path == UPLOAD_PATH:
        files = settings.max_files_per_upload
        return files * (settings.max_upload_bytes + _PART_OVERHEAD_BYTES) + _REQUEST_OVERHEAD_BYTES
    if path.startswith(RESUMABLE_PATH) and len(path) > len(RESUMABLE_PATH):
        # One PATCH may carry the whole file (tuspy and tus-js-client send it in one by
        # default): it is streamed to disk, and the route refuses bytes past the
        # upload's declared length, itself within this limit.
        return settings.max_resumable_bytes
    return JSON_BODY_BYTES


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MB" if n >= 1 << 20 else f"{n / 1024:g} KB"


def too_large_reason(limit: int, path: str) -> str:
    if path == UPLOAD_PATH:
        return (f"The upload is larger than {_size(limit)}, the most one request may carry; "
                "send fewer or smaller files per request.")
    if path.startswith(RESUMABLE_PATH) and len(path) > len(RESUMABLE_PATH):
        return (f"The PATCH is larger than {_size(limit)}, the most a resumable upload may hold "
                "(DOCLANE_MAX_RESUMABLE_MB).")
    return f"The request body is larger than {_size(limit)}; send a smaller body."


class BodyLimitMiddleware:
    """Counts each HTTP request's body as it arrives; past its limit, a 413 and no more reading."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self._limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self._limit_for(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            if declared - limit <= _DRAIN_BYTES:
                await _drain(receive, 0, limit + _DRAIN_BYTES)
            await _send_413(send, too_large_reason(limit, path))
            return
        received = 0
        exceeded = False
        started = False

        async def reject() -> None:
            if received - limit <= _DRAIN_BYTES:
                await _drain(receive, received, limit + _DRAIN_BYTES)
            await _send_413(send, too_large_reason(limit, path))

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise RequestTooLarge(too_large_reason(limit, path))
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # Whatever the route made of the cut body (a 400 from the JSON reader, a
            # 413 from ours), the client gets the one answer that names the limit.
            if exceeded and not started:
                started = True
                await reject()
                return
            if exceeded:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except RequestTooLarge:
            if not started:
                started = True
                await reject()


#: A client sends its whole body before it reads the answer: one closed on early gets a
#: connection reset, not the 413. Up to this much past the limit is read and dropped
#: (never kept) so the client sees why; beyond it the connection is simply closed.
_DRAIN_BYTES = 8 << 20


async def _drain(receive: Receive, received: int, most: int) -> None:
    """Read and drop the rest of the body while the total stays within ``most`` bytes."""
    while received <= most:
        message = await receive()
        if message["type"] != "http.request":
            return
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(send: Send, reason: str) -> None:
    body = json.dumps({"detail": reason, "category": "too_large"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})


#: Everything the gateway serves comes from itself; nothing may frame it.
_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'")
#: The interactive API docs load Swagger UI / ReDoc from their CDN with inline setup code.
_DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
             "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
             "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
             "https://cdn.redoc.ly; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
             "frame-ancestors 'none'")
_DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    """Adds CSP, ``nosniff``, frame and referrer policies to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = _DOCS_CSP if scope["path"].startswith(_DOCS_PATHS) else _CSP
        extra: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in extra if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
