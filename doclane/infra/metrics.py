"""Prometheus metrics of every process: stages, uploads, status events."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["STAGE_EVENTS", "STAGE_SECONDS", "STATUS_EVENTS", "UPLOADS"]

STAGE_EVENTS = Counter(
    "doclane_stage_events_total",
    "Events handled by a stage, by outcome (ok, retried, dead_lettered).",
    ["stage", "outcome"],
)
STAGE_SECONDS = Histogram(
    "doclane_stage_seconds",
    "Time a stage spent on one event, retries included.",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
UPLOADS = Counter("doclane_uploads_total", "Uploaded files, by outcome.", ["outcome"])
STATUS_EVENTS = Counter(
    "doclane_status_events_total", "Status events recorded, by status.", ["status"]
)
