"""doclane's configuration: one settings class, read from ``DOCLANE_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MOCK_FAILURE_KINDS", "Settings", "get_settings"]

#: Failures the mock AI service can simulate.
MOCK_FAILURE_KINDS = ("timeout", "429", "500", "malformed")


class Settings(BaseSettings):
    """Every knob of doclane, with its default.

    Units are part of the names (``_mb``, ``_s``, ``_chars``).
    """

    # An empty variable means unset (compose files pass ``${VAR:-}`` through).
    model_config = SettingsConfigDict(
        env_prefix="DOCLANE_", env_file=None, extra="ignore", env_ignore_empty=True,
        populate_by_name=True,
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8000

    # --- distributed mode: both set switch the adapters to Kafka and MongoDB ---
    kafka_bootstrap: str | None = None
    #: Partitions of topics doclane creates (the unit of parallelism per group).
    kafka_partitions: int = Field(default=6, ge=1)
    #: Replicas of topics doclane creates (1 for a single broker; 3 in production).
    kafka_replication_factor: int = Field(default=1, ge=1)
    #: Prefix of every topic and consumer group name (isolates tenants and tests).
    kafka_topic_prefix: str = ""
    mongo_url: SecretStr | None = None
    mongo_database: str = "doclane"
    #: How long a starting process keeps retrying to reach the broker, the store and the
    #: search index (and to create their topics, indexes and tables) before it gives up.
    connect_deadline_s: float = Field(default=60, gt=0)
    #: How long a stopping process waits for its broker to take its last commits and its
    #: leaving the group; past it the process stops anyway (the events are redelivered).
    shutdown_grace_s: float = Field(default=10, gt=0)

    # --- auth ---
    #: ``name:password:role`` entries, comma-separated; roles ``user`` and ``admin``.
    users: SecretStr | None = None
    #: Signing key for JWTs. When unset in development, one is generated and kept
    #: in the data directory so tokens survive a restart.
    jwt_secret: SecretStr | None = None
    jwt_ttl_s: int = 3600

    # --- uploads ---
    max_upload_mb: float = Field(default=10, gt=0)
    max_files_per_upload: int = Field(default=100, gt=0)
    #: Per-user upload limit: files per minute, sustained, with bursts of this many files.
    upload_rate_per_min: float = Field(default=120, gt=0)
    upload_burst_files: int = Field(default=100, gt=0)

    # --- resumable uploads (tus 1.0 at /uploads/) ---
    #: Largest file one resumable upload may declare (its own limit, far above the form's).
    max_resumable_mb: float = Field(default=500, gt=0)
    #: An unfinished upload untouched this long is removed; a finished one's record
    #: (which gives its document id to HEAD) lives this long after its last byte.
    resumable_expiry_s: float = Field(default=86_400, gt=0)
    #: How often the gateway removes expired uploads.
    resumable_sweep_s: float = Field(default=60, gt=0)
    #: Unfinished uploads one user may have open at once, and the bytes they declare.
    resumable_max_open: int = Field(default=10, ge=1)
    resumable_max_open_mb: float = Field(default=1024, gt=0)

    # --- pipeline ---
    chunk_max_chars: int = Field(default=4000, ge=200)
    chunk_overlap_chars: int = Field(default=200, ge=0)
    extract_workers: int = Field(default=2, ge=1)
    extract_concurrency: int = Field(default=2, ge=1)
    #: Chunks in analysis at once per process: enough to keep a remote model's
    #: rate limit busy (rate x latency), e.g. 8 calls/s x 4 s = 32.
    analyze_concurrency: int = Field(default=32, ge=1)
    #: The aggregator waits on the AI's reduce call per document: lanes are mostly idle waits.
    aggregate_concurrency: int = Field(default=16, ge=1)
    #: Attempts a stage makes on an unexpected error before dead-lettering the event.
    stage_max_attempts: int = Field(default=3, ge=1)
    stage_retry_base_s: float = Field(default=0.2, ge=0)

    # --- analysis ---
    #: ``openai`` | ``local`` | ``mock``; unset: ``openai`` when ``OPENAI_API_KEY`` is set, else ``local``.
    ai_provider: Literal["openai", "local", "mock"] | None = None
    #: Model asked by the ``openai`` provider (any model of an OpenAI-compatible server).
    ai_model: str = "gpt-4.1"
    #: The SDK's own variable names, so an existing OpenAI setup works as it is.
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    #: OpenAI-compatible server; unset: OpenAI's API.
    ai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DOCLANE_AI_BASE_URL", "OPENAI_BASE_URL")
    )
    #: Version of the prompt files (``doclane/ai/prompts/<version>/``); recorded on results.
    ai_prompt_version: str = "v1"
    ai_temperature: float | None = Field(default=0.2, ge=0, le=2)
    #: Input the model may be given per call; big documents are reduced in rounds within it.
    ai_max_input_tokens: int = Field(default=100_000, ge=2_000)
    ai_max_output_tokens: int = Field(default=1_500, ge=200)
    ai_timeout_s: float = Field(default=60, gt=0)
    #: Per process: AI calls started per second, and tokens per minute (prompt + answer).
    #: In distributed mode divide the account's limits among the analyzer workers.
    ai_requests_per_s: float = Field(default=8, gt=0)
    ai_tokens_per_min: int = Field(default=400_000, gt=0)
    #: AI calls in flight at once, per process.
    ai_concurrency: int = Field(default=32, ge=1)
    #: Attempts per AI step (chunk or reduce) before the document fails: 2 = retry once.
    ai_max_attempts: int = Field(default=2, ge=1)
    #: Reuse results of identical content / chunks analysed with the same configuration.
    ai_cache: bool = True

    # --- mock AI service (load and chaos tests) ---
    #: Mean latency per call; with ``mock_latency_p99_ms`` it is lognormal, else fixed.
    mock_latency_ms: int = Field(default=0, ge=0)
    mock_latency_p99_ms: int | None = Field(default=None, ge=0)
    #: Clamp of the drawn latency.
    mock_latency_min_ms: int = Field(default=0, ge=0)
    mock_latency_max_ms: int | None = Field(default=None, ge=0)
    #: Share of calls that fail, each with one of ``mock_failure_kinds``.
    mock_failure_rate: float = Field(default=0, ge=0, le=1)
    #: Comma-separated: ``timeout``, ``429``, ``500``, ``malformed``.
    mock_failure_kinds: str = "timeout,429,500,malformed"
    #: ``Retry-After`` of simulated 429 answers.
    mock_retry_after_s: float = Field(default=1, ge=0)
    #: Same seed, same latencies and failures for the same calls.
    mock_seed: int = 0
    #: The simulated provider's own rate limit (unset: none): over it, 429 with ``Retry-After``;
    #: every answer carries OpenAI's ``x-ratelimit-*`` headers. Requests a second (a bucket of
    #: one second's worth) and tokens a minute (a bucket of one minute's worth).
    mock_limit_requests_per_s: float | None = Field(default=None, gt=0)
    mock_limit_tokens_per_min: int | None = Field(default=None, gt=0)

    # --- search: embeddings, the index, the indexer group ---
    #: Index every document for search. Off: no indexer group, documents complete once
    #: analysed, and ``/search`` answers 503 (saves the embedding CPU where nobody searches).
    search_enabled: bool = True
    #: ``local`` | ``openai``; unset: ``openai`` when the analysis provider is ``openai``, else ``local``.
    embeddings: Literal["local", "openai"] | None = None
    #: The model of the ``local`` embeddings (shipped inside a Python package, run on CPU).
    embeddings_local_model: Literal["minilm-l6-v2", "wordllama-l2"] = "minilm-l6-v2"
    #: Model asked by the ``openai`` embeddings.
    embeddings_openai_model: str = "text-embedding-3-small"
    #: PostgreSQL with pgvector (``postgresql://...``); unset: the embedded SQLite index.
    search_url: SecretStr | None = None
    #: Chunks being indexed at once per process (embedding is CPU work: a few lanes suffice).
    index_concurrency: int = Field(default=4, ge=1)

    # --- models of our own: classification and NER (built by `make models`) ---
    #: Where trained model artefacts are cached (outside the repository), keyed by the
    #: hash of their data and code.
    models_dir: Path = Path.home() / ".cache" / "doclane" / "models"
    #: A/B experiments on model versions: a JSON list, or the path of a .json/.yaml file
    #: holding one (see ``doclane.ai.experiments.config``); unset: none.
    experiments: str | None = None

    # --- interviews (doclane.interviews) ---
    #: Who words the interviewer's replies: ``local`` (offline templates), ``mock`` (timed
    #: like a remote model, for latency tests), ``openai`` (streamed chat completions with the
    #: analysis settings' model, key and base URL). Unset: ``openai`` when the analysis
    #: provider is, else ``local``.
    interview_provider: Literal["local", "mock", "openai"] | None = None
    #: The local provider streams a reply word by word, this long apart (a voice's pace is
    #: ~300 ms a word; text clients want it fast).
    interview_word_delay_ms: int = Field(default=15, ge=0, le=2000)
    #: The mock provider: time to the first token, then tokens per second.
    interview_mock_ttft_ms: int = Field(default=600, ge=0, le=60_000)
    interview_mock_tokens_per_s: float = Field(default=40, gt=0, le=10_000)
    #: Start replying before the candidate's turn ends, when it looks finished.
    interview_tentative: bool = True
    #: Tentative replies started for one candidate turn at most.
    interview_max_tentative: int = Field(default=3, ge=1, le=20)

    # --- observability ---
    #: How often the gateway refreshes the queue gauges of /metrics (lag, depth, oldest
    #: waiting, per group and topic); 0 turns them off.
    queue_metrics_s: float = Field(default=15, ge=0)
    #: Workers serve Prometheus metrics on this port when set (the gateway uses /metrics).
    metrics_port: int | None = None

    # --- streaming ---
    heartbeat_s: float = Field(default=15, gt=0)
    #: Origins allowed to call the API from a browser (CORS), comma-separated; empty: CORS off.
    cors_origins: str = ""

    @property
    def distributed(self) -> bool:
        return self.kafka_bootstrap is not None

    @property
    def analysis_provider(self) -> Literal["openai", "local", "mock"]:
        """The provider in use: the configured one, else ``openai`` when a key is set."""
        if self.ai_provider is not None:
            return self.ai_provider
        return "openai" if self.openai_api_key is not None else "local"

    @property
    def mock_failure_kind_list(self) -> list[str]:
        return [k.strip() for k in self.mock_failure_kinds.split(",") if k.strip()]

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_resumable_bytes(self) -> int:
        return int(self.max_resumable_mb * 1024 * 1024)

    @model_validator(mode="after")
    def _distributed_needs_both(self) -> Settings:
        if (self.kafka_bootstrap is None) != (self.mongo_url is None):
            raise ValueError(
                "distributed mode needs both DOCLANE_KAFKA_BOOTSTRAP and DOCLANE_MONGO_URL; "
                "set both, or neither for the embedded mode"
            )
        return self

    @model_validator(mode="after")
    def _prompts_exist(self) -> Settings:
        from doclane.ai.prompts import available_versions

        if self.ai_prompt_version not in available_versions():
            raise ValueError(
                f"DOCLANE_AI_PROMPT_VERSION={self.ai_prompt_version!r} has no prompt files; "
                f"available: {', '.join(available_versions())}"
            )
        return self

    @model_validator(mode="after")
    def _openai_needs_a_server(self) -> Settings:
        if self.ai_provider == "openai" and self.openai_api_key is None and self.ai_base_url is None:
            raise ValueError(
                "DOCLANE_AI_PROVIDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL / "
                "DOCLANE_AI_BASE_URL for a local OpenAI-compatible server)"
            )
        return self

    @model_validator(mode="after")
    def _mock_makes_sense(self) -> Settings:
        unknown = set(self.mock_failure_kind_list) - set(MOCK_FAILURE_KINDS)
        if unknown:
            raise ValueError(
                f"DOCLANE_MOCK_FAILURE_KINDS has unknown kinds {sorted(unknown)}; "
                f"choose from {', '.join(MOCK_FAILURE_KINDS)}"
            )
        if self.mock_failure_rate > 0 and not self.mock_failure_kind_list:
            raise ValueError("DOCLANE_MOCK_FAILURE_RATE is set but DOCLANE_MOCK_FAILURE_KINDS is empty")
        p99 = self.mock_latency_p99_ms
        if p99 is not None and self.mock_latency_ms > 0:
            ratio = p99 / self.mock_latency_ms
            # A lognormal's p99/mean ratio lies in [1, e^(z99^2/2)] (about 15).
            if not 1 <= ratio <= 14.9:
                raise ValueError(
                    "DOCLANE_MOCK_LATENCY_P99_MS must be between 1x and ~15x "
                    "DOCLANE_MOCK_LATENCY_MS for a lognormal latency"
                )
        return self

    @model_validator(mode="after")
    def _experiments_make_sense(self) -> Settings:
        from doclane.ai.experiments.config import parse_experiments

        parse_experiments(self.experiments, self)  # a ValueError says what to fix
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production":
            if self.jwt_secret is None or len(self.jwt_secret.get_secret_value()) < 32:
                raise ValueError("DOCLANE_JWT_SECRET must be set to 32+ characters in production")
            if self.users is None:
                raise ValueError("DOCLANE_USERS must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
