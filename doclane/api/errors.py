"""Domain errors become HTTP answers here, once; clients never see raw exception text."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from doclane.exceptions import DoclaneError

__all__ = ["ErrorBody", "http_status_for", "install_error_handlers"]

logger = logging.getLogger(__name__)

_STATUS_BY_CATEGORY = {
    "too_large": status.HTTP_413_CONTENT_TOO_LARGE,
    "unsupported_type": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    "auth": status.HTTP_401_UNAUTHORIZED,
    "conflict": status.HTTP_409_CONFLICT,
    "storage_full": status.HTTP_507_INSUFFICIENT_STORAGE,
    "throttled": status.HTTP_429_TOO_MANY_REQUESTS,
}


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: what went wrong and what to do, for a person."""

    detail: str
    #: Short machine-readable kind of error, when there is one (``too_large``, ``auth``...).
    category: str | None = None
    #: For invalid parameters: each one's location and message.
    errors: list[dict[str, Any]] | None = None


#: Answers every route can give besides its own: documented so clients (and the
#: fuzzer's schema checks) know them.
_PUBLIC_PATHS = {"/health", "/ready", "/metrics", "/auth/login"}
_COMMON = {
    "400": "Malformed request (a body that is not valid JSON, a bad cursor)",
    "401": "Missing, invalid, expired or revoked token",
    "403": "This needs the admin role",
    "404": "No such document, interview or upload of yours",
    "413": "Request body over its limit",
    "422": "A parameter out of its range; the detail names it",
}


def _document_errors(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        # FastAPI documents its own validation body (detail: list); ours is ErrorBody.
        components["HTTPValidationError"] = ErrorBody.model_json_schema()
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                wanted = {"400", "422"}
                if path not in _PUBLIC_PATHS:
                    wanted.add("401")
                if path.startswith("/admin"):
                    wanted.add("403")
                if any(p in path for p in ("{document_id}", "{session_id}", "{upload_id}", "{letter_id}")):
                    wanted.add("404")
                if method in ("post", "put", "patch"):
                    wanted.add("413")
                for code in sorted(wanted):
                    responses.setdefault(code, {"description": _COMMON[code]})
                for code, response in responses.items():
                    if code[0] in "45":
                        response["content"] = ref
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def http_status_for(error: DoclaneError) -> int:
    return _STATUS_BY_CATEGORY.get(error.category, status.HTTP_422_UNPROCESSABLE_CONTENT)


_NOT_AN_OBJECT = "The body must be a JSON object, sent with 'Content-Type: application/json'."


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors:
        raw_loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            # FastAPI's loc is (body, character) and its msg 'JSON decode error': say it plainly.
            at = f" (at character {raw_loc[-1]})" if len(raw_loc) > 1 else ""
            return f"The body is not valid JSON{at}; {_NOT_AN_OBJECT[0].lower()}{_NOT_AN_OBJECT[1:]}"
        if raw_loc == ("body",):  # the body as a whole: missing, or not an object
            return _NOT_AN_OBJECT
        loc = [str(p) for p in raw_loc if p not in ("body", "query", "path")]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {err.get('msg')}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    _document_errors(app)

    @app.exception_handler(DoclaneError)
    async def _domain(_: Request, exc: DoclaneError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.reason, "category": exc.category}, status_code=http_status_for(exc)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse(
            {"detail": _describe(errors), "errors": [
                {"loc": e.get("loc"), "msg": e.get("msg")} for e in errors
            ]},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            {"detail": "Something went wrong on our side; try again, and tell the operator if it persists."},
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
