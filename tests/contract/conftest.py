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


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        from doclane.infra.store.sqlite import SqliteStore

        s: Store = SqliteStore(tmp_path / "store.db")
    else:
        url = infra.mongo_url()
        from doclane.infra.store.mongo import MongoStore

        s = MongoStore(url, database=f"t_{uuid.uuid4().hex[:12]}")
    await s.open()
    try:
        yield s
    finally:
        if request.param == "mongo":
            await s.drop()  # type: ignore[attr-defined]
        await s.close()
