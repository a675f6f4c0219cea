"""A distributed doclane on the real Kafka broker and FerretDB: one OS process per role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.utils import infra
from tests.utils.api import auth, login
from tests.utils.cluster import Cluster, cluster_env


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    started: list[Cluster] = []

    def make(**extra: str) -> Cluster:
        env = cluster_env(infra.kafka_bootstrap(), infra.mongo_url(), infra.search_url(), **extra)
        cluster = Cluster(tmp_path / "data", env)
        started.append(cluster)
        return cluster

    yield make
    for cluster in started:
        cluster.stop()


@pytest.fixture
async def alice_on() -> AsyncIterator[Callable[[Cluster], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def client_for(cluster: Cluster) -> httpx.AsyncClient:
        token = login(cluster.gateway.url, "alice", "alice-pw")
        client = httpx.AsyncClient(base_url=cluster.gateway.url, headers=auth(token), timeout=60)
        clients.append(client)
        return client

    yield client_for
    for client in clients:
        await client.aclose()
