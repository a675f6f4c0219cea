"""Adapters under contract: each test here runs against every one of them.

The embedded adapters always run; the Kafka, MongoDB and PostgreSQL ones run
against the real servers that ``make test`` starts (see ``infra/`` and ``tests/utils/infra``).
Each test gets its own topic prefix / database, so tests never see each other.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from doclane.infra.bus.base import EventBus
from doclane.infra.search.base import SearchIndex
from doclane.infra.store.base import Store
from tests.utils import infra

BusFactory = Callable[[], EventBus]


@pytest.fixture(params=["embedded", "kafka"])
def bus_factory(request: pytest.FixtureRequest, tmp_path: Path) -> BusFactory:
    """Makes buses that share one log, as restarted processes would."""
    if request.param == "embedded":
        from doclane.infra.bus.embedded import EmbeddedBus

        return lambda: EmbeddedBus(tmp_path / "events.db")
    bootstrap, prefix = infra.kafka_bootstrap(), f"t{uuid.uuid4().hex[:10]}."
    from doclane.infra.bus.kafka import KafkaBus

    return lambda: KafkaBus(bootstrap, topic_prefix=prefix, partitions=4)


StoreFactory = Callable[[], Store]


@pytest.fixture(params=["sqlite", "mongo"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Makes stores on one database, as several processes would open it."""
    if request.param == "sqlite":
        from doclane.infra.store.sqlite import SqliteStore

        return lambda: SqliteStore(tmp_path / "store.db")
    url, database = infra.mongo_url(), f"t_{uuid.uuid4().hex[:12]}"
    from doclane.infra.store.mongo import MongoStore

    return lambda: MongoStore(url, database=database)


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[Store]:
    s = store_factory()
    await s.open()
    try:
        yield s
    finally:
        drop = getattr(s, "drop", None)
        if drop is not None:
            await drop()
        await s.close()


SearchFactory = Callable[..., SearchIndex]


@pytest.fixture(params=["sqlite", "postgres"])
async def search_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SearchFactory]:
    """Makes search indexes on one fresh database (or file), as several processes would open it.

    ``factory(model="test-model", dim=8)``. On PostgreSQL each test gets its own
    database, created empty (no extension, no tables) and dropped afterwards.
    """
    if request.param == "sqlite":
        from doclane.infra.search.sqlite import SqliteSearchIndex

        yield lambda model="test-model", dim=8: SqliteSearchIndex(tmp_path / "search.db", model, dim)
        return
    import psycopg

    from doclane.infra.search.postgres import PostgresSearchIndex

    admin_url, database = infra.search_url(), f"t_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as admin:
        await admin.execute(f"CREATE DATABASE {database}")
    url = urlsplit(admin_url)._replace(path=f"/{database}").geturl()
    try:
        yield lambda model="test-model", dim=8: PostgresSearchIndex(url, model, dim, connect_deadline_s=20)
    finally:
        async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as admin:
            await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture
async def search_index(search_factory: SearchFactory) -> AsyncIterator[SearchIndex]:
    index = search_factory()
    await index.open()
    try:
        yield index
    finally:
        await index.close()
