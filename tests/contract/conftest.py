"""Adapters under contract: each test here runs against every one of them.

The embedded adapters always run; the Kafka and MongoDB ones join when their
servers are available (see ``infra/``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from doclane.infra.bus.base import EventBus
from doclane.infra.bus.embedded import EmbeddedBus
from doclane.infra.store.base import Store
from doclane.infra.store.sqlite import SqliteStore

BusFactory = Callable[[], EventBus]


@pytest.fixture(params=["embedded"])
def bus_factory(request: pytest.FixtureRequest, tmp_path: Path) -> BusFactory:
    """Makes buses that share one log, as restarted processes would."""
    if request.param == "embedded":
        return lambda: EmbeddedBus(tmp_path / "events.db")
    raise NotImplementedError(request.param)


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s: Store = SqliteStore(tmp_path / "store.db")
    else:
        raise NotImplementedError(request.param)
    await s.open()
    try:
        yield s
    finally:
        await s.close()
