"""The FastAPI gateway: ``create_app`` wires routes, errors and the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from doclane import __version__
from doclane.api import (
    admin,
    audit,
    auth,
    dashboard,
    documents,
    experiments,
    health,
    interviews,
    search,
    stream,
    tus,
)
from doclane.api.errors import install_error_handlers
from doclane.api.gateway import Gateway
from doclane.api.hub import StatusHub
from doclane.api.limits import BodyLimitMiddleware, SecurityHeadersMiddleware, request_limit
from doclane.api.security import UserDirectory, demo_password, load_jwt_secret
from doclane.infra.metrics import STREAM_CLIENTS
from doclane.infra.ratelimit import KeyedLimiter
from doclane.infra.runtime import build_services, running
from doclane.infra.settings import Settings, get_settings
from doclane.infra.supervise import supervised

__all__ = ["create_app", "load_users"]

logger = logging.getLogger(__name__)


def load_users(settings: Settings) -> UserDirectory:
    """``DOCLANE_USERS``, or a ``demo`` user whose password is kept in the data directory."""
    if settings.users is not None:
        return UserDirectory.parse(settings.users.get_secret_value())
    return UserDirectory.parse(f"demo:{demo_password(settings.data_dir)}:admin")


def create_app(settings: Settings | None = None, stages: Iterable[str] | None = None) -> FastAPI:
    """The gateway app; in embedded mode it also runs ``stages`` (default: all)."""
    from doclane.consumers import STAGES

    settings = settings or get_settings()
    run_stages = tuple(STAGES if stages is None else stages)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        users = load_users(settings)
        secret = load_jwt_secret(
            settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
            settings.data_dir,
        )
        services = build_services(settings)
        async with running(services, run_stages):
            hub = StatusHub(services.bus, services.store)
            hub.start()
            STREAM_CLIENTS.set_function(lambda: hub.client_count)
            limiter = KeyedLimiter(settings.upload_rate_per_min / 60, settings.upload_burst_files)
            live = interviews.live_interviews(services)
            app.state.gateway = Gateway(services=services, users=users, jwt_secret=secret, hub=hub,
                                        upload_limiter=limiter, interviews=live)
            gauges = (supervised(admin.export_queue_metrics(services, settings.queue_metrics_s),
                                 name="queue-metrics") if settings.queue_metrics_s else None)
            logger.info("doclane %s ready; stages: %s", __version__, ", ".join(run_stages) or "none")
            try:
                yield
            finally:
                if gauges is not None:
                    gauges.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await gauges
                await live.close()
                await hub.close()

    app = FastAPI(
        title="doclane",
        version=__version__,
        summary="Document intelligence as an event-streaming pipeline.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Each middleware added wraps the ones before: the security headers go on every answer,
    # the 413s of the body limit included; bodies are counted before any route parses them.
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # off unless configured: the dashboard is served by the gateway itself
        # tus clients (Uppy, tus-js-client) on another origin need its methods and headers too.
        tus_headers = ["Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata"]
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE", "HEAD", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID", *tus_headers],
            expose_headers=["Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable",
                            "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Doclane-Document-Id"],
            max_age=600)
    app.add_middleware(BodyLimitMiddleware, limit_for=lambda path: request_limit(settings, path))
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(stream.router)  # before documents: /documents/stream is not an id
    app.include_router(search.router)  # before documents: /documents/{id}/similar
    app.include_router(documents.router)
    app.include_router(admin.router)  # /admin/...; /documents/{id}/audit below
    app.include_router(audit.router)
    app.include_router(experiments.router)  # GET /admin/experiments
    app.include_router(interviews.router)
    app.include_router(tus.router)  # /uploads/: resumable uploads (tus 1.0)
    app.include_router(dashboard.router)  # GET / and /static/: the web dashboard
    return app
