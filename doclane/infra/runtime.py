"""The long-lived services a process needs, built from settings by one factory.

Building makes no connection; :func:`running` opens the store, starts the bus
with the consumer groups this process runs, and closes everything on exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from doclane.ai.base import Analyzer
from doclane.ai.factory import build_analyzer
from doclane.infra.blobs import BlobStore
from doclane.infra.bus.base import EventBus
from doclane.infra.bus.embedded import EmbeddedBus
from doclane.infra.cpu import CpuPool
from doclane.infra.settings import Settings
from doclane.infra.store.base import Store
from doclane.infra.store.sqlite import SqliteStore
from doclane.producers.status import StatusPublisher

__all__ = ["Services", "build_bus", "build_services", "build_store", "running"]


@dataclass
class Services:
    settings: Settings
    store: Store
    bus: EventBus
    blobs: BlobStore
    status: StatusPublisher
    analyzer: Analyzer
    #: CPU-heavy parsing runs here, never on the event loop.
    cpu_pool: CpuPool


def build_services(settings: Settings) -> Services:
    """Wire the adapters chosen by ``settings`` (embedded: SQLite log and store)."""
    data = settings.data_dir
    store: Store = SqliteStore(data / "store.db")
    pool = CpuPool(settings.extract_workers)
    bus: EventBus = EmbeddedBus(data / "events.db")
    return Services(
        settings=settings,
        store=store,
        bus=bus,
        blobs=BlobStore(data),
        status=StatusPublisher(store, bus),
        analyzer=build_analyzer(settings, pool),
        cpu_pool=pool,
    )


@asynccontextmanager
async def running(services: Services, stages: Iterable[str]) -> AsyncIterator[Services]:
    """Open the store, start the bus with ``stages`` subscribed; close all on exit."""
    from doclane.consumers import register_stages  # consumers depend on Services

    await services.store.open()
    try:
        register_stages(services, stages)
        await services.bus.start()
        try:
            yield services
        finally:
            await services.bus.close()
    finally:
        services.cpu_pool.shutdown()
        await services.store.close()
