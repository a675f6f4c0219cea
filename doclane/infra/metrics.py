"""Prometheus metrics of every process: stages, uploads, status events, AI calls, caches."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from doclane.schemas.events import DocumentStatus, Stage

__all__ = [
    "AI_CALLS",
    "AI_CALL_SECONDS",
    "AI_LIMIT_WAIT_SECONDS",
    "AI_TOKENS",
    "CACHE_LOOKUPS",
    "INTERVIEW_DISCARDED_TOKENS",
    "INTERVIEW_REPLIES",
    "QUEUE_DEPTH",
    "QUEUE_LAG",
    "QUEUE_OLDEST_WAITING_SECONDS",
    "MODEL_RUNS",
    "MODEL_SECONDS",
    "STAGE_EVENTS",
    "STAGE_SECONDS",
    "STATUS_EVENTS",
    "STREAM_CLIENTS",
    "UPLOADS",
]

STAGE_EVENTS = Counter(
    "doclane_stage_events_total",
    "Events handled by a stage, by outcome (ok, retried, dead_lettered, superseded, "
    "waited_for_space: a try that met a full data directory and waits, spending no attempt).",
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
#: Read from the gateway's status hub at each scrape (``set_function`` in the app's lifespan).
STREAM_CLIENTS = Gauge(
    "doclane_stream_clients", "SSE and WebSocket clients connected to this gateway."
)
AI_CALLS = Counter(
    "doclane_ai_calls_total",
    "Calls to the AI provider, by outcome (ok, or the error category).",
    ["provider", "outcome"],
)
AI_CALL_SECONDS = Histogram(
    "doclane_ai_call_seconds",
    "Duration of one AI call, from admission by the rate limiter to the answer.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
)
AI_TOKENS = Counter(
    "doclane_ai_tokens_total", "Tokens reported by the AI provider, by kind.", ["provider", "kind"]
)
AI_LIMIT_WAIT_SECONDS = Histogram(
    "doclane_ai_limit_wait_seconds",
    "Time an AI call waited for the rate limiter (requests/s, tokens/min, Retry-After).",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
CACHE_LOOKUPS = Counter(
    "doclane_cache_lookups_total",
    "Analysis cache lookups, by level (chunk, document) and result (hit, miss).",
    ["level", "result"],
)

# --- models of our own and their versions (A/B experiments compare them) ---
MODEL_SECONDS = Histogram(
    "doclane_model_seconds",
    "Time one model version took on one unit of work (a document for the classifier, a chunk "
    "for NER, embeddings and analysis).",
    ["component", "version"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MODEL_RUNS = Counter(
    "doclane_model_runs_total",
    "Runs of a model version, by outcome (ok, failed); shadow runs included.",
    ["component", "version", "outcome"],
)

# --- queues (set by the gateway from the same figures as GET /admin/queues) ---
QUEUE_LAG = Gauge("doclane_queue_lag", "Records of a topic its consumer group has not committed yet.",
                  ["group", "topic"])
QUEUE_DEPTH = Gauge("doclane_queue_depth", "Records of a topic waiting for its group (lag minus in flight).",
                    ["group", "topic"])
QUEUE_OLDEST_WAITING_SECONDS = Gauge(
    "doclane_queue_oldest_waiting_seconds",
    "Age of the oldest record of a topic its group has not finished (0 when none waits).",
    ["group", "topic"])

# --- interviews ---
INTERVIEW_REPLIES = Counter(
    "doclane_interview_replies_total",
    "Interviewer replies, by how they ended: direct (after the turn), committed (tentative, the "
    "final text matched), discarded (tentative, withdrawn).",
    ["provider", "outcome"],
)
INTERVIEW_DISCARDED_TOKENS = Counter(
    "doclane_interview_discarded_tokens_total",
    "Tokens streamed in tentative replies that were then discarded: the price of answering early.",
    ["provider"],
)

def _start_known_series_at_zero() -> None:
    """Create the series whose label values are known in advance, at 0.

    A labelled series appears with its first increment, and Prometheus cannot see that first
    step in ``rate()`` or ``increase()``: without this, the first document a process
    completes, the first upload it accepts or the first retry of a stage would be missing
    from the dashboard's counts.
    """
    for status in DocumentStatus:
        STATUS_EVENTS.labels(status.value)
    for stage in (Stage.EXTRACT, Stage.ANALYZE, Stage.INDEX, Stage.AGGREGATE):
        STAGE_SECONDS.labels(stage.value)
        for outcome in ("ok", "retried", "dead_lettered"):
            STAGE_EVENTS.labels(stage.value, outcome)
    UPLOADS.labels("accepted")
    for provider in ("local", "mock", "openai"):
        INTERVIEW_DISCARDED_TOKENS.labels(provider)
        for outcome in ("direct", "committed", "discarded"):
            INTERVIEW_REPLIES.labels(provider, outcome)


_start_known_series_at_zero()
