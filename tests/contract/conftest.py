"""Adapters under contract: each test here runs against every one of them.

The embedded adapters always run; the Kafka and MongoDB ones run against the
real servers that ``make test`` starts (see ``infra/`` and ``tests/utils/infra``).
Each test gets its own topic prefix / database, so tests never see each other.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from doclane.infra.bus.base import EventBus
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
