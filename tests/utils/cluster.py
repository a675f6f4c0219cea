"""A distributed doclane as separate OS processes: one gateway, workers per stage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from tests.utils.server import ServerProcess, WorkerProcess

__all__ = ["Cluster", "cluster_env", "fresh_search_database"]


def fresh_search_database(admin_url: str, name: str) -> str:
    """Create an empty PostgreSQL database ``name``; its URL."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


def cluster_env(kafka_bootstrap: str, mongo_url: str, search_admin_url: str | None = None,
                **extra: str) -> dict[str, str]:
    """Settings for one isolated deployment: its own topic prefix and databases.

    With ``search_admin_url`` the deployment's search index is a fresh PostgreSQL
    database on that server; without, each process would use an SQLite index.
    """
    tag = uuid.uuid4().hex[:10]
    search = ({"DOCLANE_SEARCH_URL": fresh_search_database(search_admin_url, f"it_{tag}")}
              if search_admin_url else {})
    return {
        **search,
        "DOCLANE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "DOCLANE_MONGO_URL": mongo_url,
        "DOCLANE_KAFKA_TOPIC_PREFIX": f"it{tag}.",
        "DOCLANE_MONGO_DATABASE": f"it_{tag}",
        "DOCLANE_KAFKA_PARTITIONS": "4",
        "DOCLANE_EXTRACT_WORKERS": "1",
        **extra,
    }


@dataclass
class Cluster:
    data_dir: Path
    env: dict[str, str]
    gateway: ServerProcess = field(init=False)
    workers: dict[str, WorkerProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.gateway = ServerProcess(self.data_dir, self.env, command="gateway")

    def add_worker(self, stage: str, name: str) -> WorkerProcess:
        worker = WorkerProcess(stage, self.data_dir, self.env, name=name)
        self.workers[name] = worker
        return worker

    def start(self, analyzers: int = 2, indexers: int = 1) -> Cluster:
        self.gateway.start()
        stages = [("extract", "extractor"),
                  *[("analyze", f"analyzer-{i}") for i in range(1, analyzers + 1)],
                  *[("index", f"indexer-{i}") for i in range(1, indexers + 1)],
                  ("aggregate", "aggregator")]
        # All at once: each loads its models (seconds of CPU), and they wait on nothing but the servers.
        workers = [self.add_worker(stage, name) for stage, name in stages]
        for worker in workers:
            worker.launch()
        try:
            for worker in workers:
                worker.wait_ready(timeout_s=90)
        except BaseException:
            self.stop()
            raise
        return self

    def logs_tail(self, lines: int = 15) -> str:
        """The last lines of every process's log, for a failure message."""
        return "\n".join(f"--- {name}\n" + "\n".join(proc.log_text().splitlines()[-lines:])
                         for name, proc in [("gateway", self.gateway), *self.workers.items()])

    def stop(self) -> None:
        for proc in [self.gateway, *self.workers.values()]:
            proc.stop()
