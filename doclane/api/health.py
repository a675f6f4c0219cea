"""``/health`` (the process is up) and ``/ready`` (its dependencies answer)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from doclane.api.deps import GatewayDep
from doclane.infra.supervise import unhealthy_tasks

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: answers while the process runs."""
    return {"status": "ok"}


@router.get("/ready", response_model=None)
async def ready(gateway: GatewayDep) -> dict[str, object] | JSONResponse:
    """Readiness: the store answers and no background task has died."""
    problems = sorted(f"task {name} died" for name in unhealthy_tasks())
    try:
        await gateway.services.store.latest_cursor("")
    except Exception as exc:
        problems.append(f"store: {type(exc).__name__}")
    body: dict[str, object] = {
        "status": "ready" if not problems else "not ready",
        "problems": problems,
        "stream_clients": gateway.hub.client_count,
    }
    return body if not problems else JSONResponse(body, status_code=503)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus metrics; unauthenticated like any scrape target, counts only, no document data."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
