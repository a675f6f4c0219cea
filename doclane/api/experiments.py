"""``GET /admin/experiments``: the running A/B experiments, their arms compared on production figures."""

from __future__ import annotations

from fastapi import APIRouter

from doclane.ai.experiments import compare
from doclane.api.deps import AdminUser, ServicesDep
from doclane.schemas.experiments import ExperimentsReport

__all__ = ["router"]

router = APIRouter(tags=["admin"])


@router.get("/admin/experiments", responses={403: {"description": "Not an admin"}})
async def experiments(_: AdminUser, services: ServicesDep) -> ExperimentsReport:
    """Each experiment's control and candidate: documents, latency, failures, confidence, tokens,
    agreement on shadowed documents and accuracy on documents of the evaluation sets."""
    running = services.experiments
    if running is None:
        return ExperimentsReport(experiments=[])
    return ExperimentsReport(experiments=[
        compare(config, await services.store.experiment_observations(config.name))
        for config in running.configs
    ])
