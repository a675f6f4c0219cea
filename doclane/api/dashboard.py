"""The web dashboard: ``GET /`` is its page, ``/static/...`` its scripts and styles.

The files live in the package (``doclane/web``), need no build step and load
nothing from another origin, so the gateway's strict Content-Security-Policy
(``default-src 'self'``, no inline code) applies to the dashboard unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_PREFIX", "WEB_DIR", "router"]

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_PREFIX = "/static"

router = APIRouter(include_in_schema=False)
# Scripts and styles revalidate on every load (ETag / Last-Modified answer 304), so an
# upgraded gateway never runs a page against stale modules.
_NO_CACHE = {"Cache-Control": "no-cache"}


@router.api_route("/", methods=["GET", "HEAD"])
async def index() -> FileResponse:
    """The dashboard's single page."""
    return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=_NO_CACHE)


class _Static(StaticFiles):
    """Static files that revalidate each time: the page is small and served locally."""

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(_NO_CACHE)
        return response


router.mount(STATIC_PREFIX, _Static(directory=WEB_DIR, check_dir=False), name="static")
