"""A distributed doclane on the real Kafka broker and FerretDB: one OS process per role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.utils import infra
from tests.utils.api import auth, login
from tests.utils.server import ServerProcess, WorkerProcess


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

    def start(self, analyzers: int = 2) -> Cluster:
        self.gateway.start()
        for stage, name in [("extract", "extractor"), *[("analyze", f"analyzer-{i}")
                            for i in range(1, analyzers + 1)], ("aggregate", "aggregator")]:
            self.add_worker(stage, name).start()
        return self

    def stop(self) -> None:
        for proc in [self.gateway, *self.workers.values()]:
            proc.stop()


def cluster_env(**extra: str) -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    return {
        "DOCLANE_KAFKA_BOOTSTRAP": infra.kafka_bootstrap(),
        "DOCLANE_MONGO_URL": infra.mongo_url(),
        "DOCLANE_KAFKA_TOPIC_PREFIX": f"it{tag}.",
        "DOCLANE_MONGO_DATABASE": f"it_{tag}",
        "DOCLANE_KAFKA_PARTITIONS": "4",
        "DOCLANE_EXTRACT_WORKERS": "1",
        **extra,
    }


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[type[Cluster]]:
    started: list[Cluster] = []

    def make(**extra: str) -> Cluster:
        cluster = Cluster(tmp_path / "data", cluster_env(**extra))
        started.append(cluster)
        return cluster

    yield make  # type: ignore[misc]
    for cluster in started:
        cluster.stop()


@pytest.fixture
async def alice_on(request: pytest.FixtureRequest) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    def client_for(cluster: Cluster) -> httpx.AsyncClient:
        token = login(cluster.gateway.url, "alice", "alice-pw")
        client = httpx.AsyncClient(base_url=cluster.gateway.url, headers=auth(token), timeout=60)
        clients.append(client)
        return client

    yield client_for
    for client in clients:
        await client.aclose()
