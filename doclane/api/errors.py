"""Domain errors become HTTP answers here, once; clients never see raw exception text."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from doclane.exceptions import DoclaneError

__all__ = ["http_status_for", "install_error_handlers"]

logger = logging.getLogger(__name__)

_STATUS_BY_CATEGORY = {
    "too_large": status.HTTP_413_CONTENT_TOO_LARGE,
    "unsupported_type": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    "auth": status.HTTP_401_UNAUTHORIZED,
    "conflict": status.HTTP_409_CONFLICT,
    "storage_full": status.HTTP_507_INSUFFICIENT_STORAGE,
    "throttled": status.HTTP_429_TOO_MANY_REQUESTS,
}


def http_status_for(error: DoclaneError) -> int:
    return _STATUS_BY_CATEGORY.get(error.category, status.HTTP_422_UNPROCESSABLE_CONTENT)


def _describe(errors: list[dict[str, object]]) -> str:
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]  # type: ignore[attr-defined]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {err.get('msg')}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
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
