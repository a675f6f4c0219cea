"""Resumable uploads at ``/uploads/``: the tus 1.0 protocol (core, creation, termination, expiration).

Any tus client (tuspy, tus-js-client, Uppy) works unchanged, with the same
``Authorization: Bearer`` token as the rest of the API. ``Upload-Metadata`` carries
``filename`` and ``priority``. When the last byte arrives the file becomes a document
exactly as a form upload does; the final ``PATCH`` answer and every later ``HEAD``
name it in ``Doclane-Document-Id``. The upload logic lives in
:mod:`doclane.producers.tus`; this module speaks HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from doclane.api.deps import CurrentUser, GatewayDep
from doclane.api.errors import http_status_for
from doclane.api.gateway import Gateway
from doclane.exceptions import DoclaneError
from doclane.infra.metrics import UPLOADS
from doclane.infra.supervise import supervised
from doclane.producers.tus import TUS_EXTENSIONS, TUS_VERSION, ResumableUpload, ResumableUploads

__all__ = ["DOCUMENT_ID_HEADER", "router"]

logger = logging.getLogger(__name__)

#: Names the document a finished upload became (final ``PATCH`` and ``HEAD``).
DOCUMENT_ID_HEADER = "Doclane-Document-Id"
_OFFSET_TYPE = "application/offset+octet-stream"
_STATUS_BY_CATEGORY = {
    "invalid_request": status.HTTP_400_BAD_REQUEST,
    "not_found": status.HTTP_404_NOT_FOUND,
    "expired": status.HTTP_410_GONE,
    "conflict": status.HTTP_409_CONFLICT,
    "locked": status.HTTP_423_LOCKED,
}


class _TusRoute(APIRoute):
    """Every answer of a tus route carries ``Tus-Resumable``, its errors included (401s too)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as exc:
                response = JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
            except DoclaneError as exc:
                code = _STATUS_BY_CATEGORY.get(exc.category) or http_status_for(exc)
                response = JSONResponse({"detail": exc.reason, "category": exc.category}, code)
            response.headers.setdefault("Tus-Resumable", TUS_VERSION)
            return response

        return tus_handler


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the gateway's lifespan: the upload store and its expiry sweep."""
    gateway: Gateway = app.state.gateway
    uploads = ResumableUploads(gateway.services.settings)
    app.state.resumable_uploads = uploads
    sweeper = supervised(uploads.sweep_forever(), name="resumable-upload-sweep")
    try:
        yield
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper


# Answers carry headers, not bodies (errors are JSON, documented once for the whole API).
router = APIRouter(prefix="/uploads", tags=["resumable uploads (tus)"], route_class=_TusRoute,
                   default_response_class=Response, lifespan=_lifespan)


def _get_uploads(request: Request) -> ResumableUploads:
    uploads: ResumableUploads = request.app.state.resumable_uploads
    return uploads


def _check_version(tus_resumable: Annotated[str | None, Header(
        description="The protocol version.", json_schema_extra={"enum": [TUS_VERSION]})] = None) -> None:
    if tus_resumable != TUS_VERSION:
        raise HTTPException(
            status.HTTP_412_PRECONDITION_FAILED,
            f"This server speaks tus {TUS_VERSION}; send 'Tus-Resumable: {TUS_VERSION}'"
            + (f" (got '{tus_resumable[:20]}')." if tus_resumable else "."),
            headers={"Tus-Version": TUS_VERSION})


Uploads = Annotated[ResumableUploads, Depends(_get_uploads)]
_Tus = [Depends(_check_version)]


def _whole_number(name: str, value: str | None) -> int:
    if value is None or not value.isdigit() or len(value) > 19:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"{name}: send a whole number of bytes (got '{(value or '')[:20]}').")
    return int(value)


def _expires(uploads: ResumableUploads, upload: ResumableUpload) -> str:
    return format_datetime(uploads.expires_at(upload), usegmt=True)


@router.options("/", status_code=status.HTTP_204_NO_CONTENT)
@router.options("", status_code=status.HTTP_204_NO_CONTENT, include_in_schema=False)
async def discover(gateway: GatewayDep) -> Response:
    """What this tus server supports (no token needed)."""
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": ",".join(TUS_EXTENSIONS),
        "Tus-Max-Size": str(gateway.services.settings.max_resumable_bytes),
    })


_Responses = dict[int | str, dict[str, str]]
#: Every tus route but OPTIONS (documented so clients, and the API fuzzer, know them).
_ANY: _Responses = {412: {"description": "Tus-Resumable is not 1.0.0"}}
_ONE: _Responses = {**_ANY, 404: {"description": "No such upload of yours"},
                    410: {"description": "The upload expired"}}
_CREATE_RESPONSES: _Responses = {
    **_ANY,
    400: {"description": "Upload-Length or Upload-Metadata missing or malformed"},
    413: {"description": "Over DOCLANE_MAX_RESUMABLE_MB, or over your open-upload allowance"},
    429: {"description": "Too many unfinished uploads, or over the per-user upload rate"},
    507: {"description": "No room on the server"},
}


@router.post("/", status_code=status.HTTP_201_CREATED, dependencies=_Tus, responses=_CREATE_RESPONSES)
@router.post("", status_code=status.HTTP_201_CREATED, dependencies=_Tus, include_in_schema=False)
async def create(
    gateway: GatewayDep,
    user: CurrentUser,
    uploads: Uploads,
    upload_length: Annotated[str | None, Header(description="The file's size in bytes.")] = None,
    upload_metadata: Annotated[str | None, Header(
        description="'filename <base64>,priority <base64 of high|normal|low>'.")] = None,
) -> Response:
    """Create a resumable upload; its URL is in ``Location``."""
    if upload_length is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "Upload-Length: send the file's size in bytes (deferred lengths are "
                            "not supported).")
    length = _whole_number("Upload-Length", upload_length)
    wait_s = gateway.upload_limiter.try_take(user.name, 1)
    if wait_s > 0:
        retry_after = math.ceil(wait_s)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Upload limit reached: {gateway.services.settings.upload_rate_per_min:g} files a minute "
            f"per user. Try again in {retry_after} s.", headers={"Retry-After": str(retry_after)})
    upload = await uploads.create(user.name, length, upload_metadata or "")
    return Response(status_code=status.HTTP_201_CREATED, headers={
        "Location": f"/uploads/{upload.id}",
        "Upload-Offset": "0",
        "Upload-Expires": _expires(uploads, upload),
    })


@router.head("/{upload_id}", dependencies=_Tus, responses=_ONE)
async def head(upload_id: str, user: CurrentUser, uploads: Uploads) -> Response:
    """How many bytes arrived; ``Doclane-Document-Id`` once the upload became a document."""
    upload = uploads.get(user.name, upload_id)
    headers = {
        "Upload-Offset": str(uploads.offset(upload)),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
        "Upload-Expires": _expires(uploads, upload),
    }
    if upload.metadata:
        headers["Upload-Metadata"] = upload.metadata
    if upload.document_id:
        headers[DOCUMENT_ID_HEADER] = upload.document_id
    return Response(status_code=status.HTTP_200_OK, headers=headers)


@router.patch("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=_Tus,
              responses={**_ONE,
                         409: {"description": "Upload-Offset is not the bytes the server holds"},
                         413: {"description": "Bytes past the declared Upload-Length"},
                         415: {"description": "Not application/offset+octet-stream, or the "
                                              "finished file is of an unsupported type"},
                         423: {"description": "Another request is writing to this upload"},
                         507: {"description": "No room on the server"}})
async def patch(
    request: Request,
    upload_id: str,
    gateway: GatewayDep,
    user: CurrentUser,
    uploads: Uploads,
    upload_offset: Annotated[str | None, Header(description="Where these bytes start.")] = None,
) -> Response:
    """Send the next bytes; the last ones make the upload a document."""
    content_type, content_length = request.headers.get("content-type"), request.headers.get("content-length")
    if (content_type or "").split(";")[0].strip().lower() != _OFFSET_TYPE:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"Content-Type: a PATCH carries '{_OFFSET_TYPE}'.")
    offset = _whole_number("Upload-Offset", upload_offset)
    declared = _whole_number("Content-Length", content_length) if content_length else None
    upload = uploads.get(user.name, upload_id)
    was_finished = upload.finished
    try:
        upload = await uploads.append(gateway.services, upload, offset, request.stream(), declared)
    except ClientDisconnect:
        # What arrived is kept; the client asks HEAD for the offset when it comes back.
        logger.info("resumable upload %s: client went away at byte %d", upload_id,
                    uploads.offset(upload))
        return Response(status_code=status.HTTP_400_BAD_REQUEST)
    except DoclaneError as exc:
        if exc.category not in _STATUS_BY_CATEGORY:
            UPLOADS.labels(exc.category).inc()
        raise
    headers = {"Upload-Offset": str(uploads.offset(upload)), "Upload-Expires": _expires(uploads, upload)}
    if upload.document_id:
        headers[DOCUMENT_ID_HEADER] = upload.document_id
        if not was_finished:
            UPLOADS.labels("accepted").inc()
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=_Tus,
               responses={**_ONE, 423: {"description": "A PATCH is writing to this upload"}})
async def terminate(upload_id: str, user: CurrentUser, uploads: Uploads) -> Response:
    """Stop an upload and free its bytes (a document it already became stays)."""
    await uploads.delete(uploads.get(user.name, upload_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
