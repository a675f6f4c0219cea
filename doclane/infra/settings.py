"""doclane's configuration: one settings class, read from ``DOCLANE_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Every knob of doclane, with its default.

    Units are part of the names (``_mb``, ``_s``, ``_chars``).
    """

    model_config = SettingsConfigDict(env_prefix="DOCLANE_", env_file=None, extra="ignore")

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

    # --- pipeline ---
    chunk_max_chars: int = Field(default=4000, ge=200)
    chunk_overlap_chars: int = Field(default=200, ge=0)
    extract_workers: int = Field(default=2, ge=1)
    extract_concurrency: int = Field(default=2, ge=1)
    analyze_concurrency: int = Field(default=8, ge=1)
    aggregate_concurrency: int = Field(default=4, ge=1)
    #: Attempts a stage makes on an unexpected error before dead-lettering the event.
    stage_max_attempts: int = Field(default=3, ge=1)
    stage_retry_base_s: float = Field(default=0.2, ge=0)

    # --- analysis ---
    ai_provider: Literal["local", "mock"] = "local"
    #: Mock provider: fixed latency per chunk, for tests and load experiments.
    mock_latency_ms: int = Field(default=0, ge=0)

    # --- observability ---
    #: Workers serve Prometheus metrics on this port when set (the gateway uses /metrics).
    metrics_port: int | None = None

    # --- streaming ---
    heartbeat_s: float = Field(default=15, gt=0)

    @property
    def distributed(self) -> bool:
        return self.kafka_bootstrap is not None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @model_validator(mode="after")
    def _distributed_needs_both(self) -> Settings:
        if (self.kafka_bootstrap is None) != (self.mongo_url is None):
            raise ValueError(
                "distributed mode needs both DOCLANE_KAFKA_BOOTSTRAP and DOCLANE_MONGO_URL; "
                "set both, or neither for the embedded mode"
            )
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
