"""Many processes opening one fresh store or bus at the same moment, as a first deployment does.

Compose or Kubernetes starts the gateway and every worker together on a new
database and new topics: each of them creates the same indexes and topics at
once. The servers' adapters must take that (and a lost race) as success. The embedded
adapters are left out: they belong to one process (several ``open()``s of one
SQLite file at once can hit "database is locked").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

import pytest

from doclane.infra.bus.base import EventBus, Subscription
from doclane.infra.bus.kafka import KafkaBus
from doclane.infra.connect import ConnectFailed
from doclane.infra.store.base import Store
from doclane.infra.store.mongo import MongoStore
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import Event
from tests.utils import infra
from tests.utils.chaos import PrivateInfra
from tests.utils.late_server import LateForwarder
from tests.utils.server import free_port
from tests.utils.waiting import eventually

#: Processes started together in one round.
STARTS = 6


class Note(Event):
    key: str
    n: int


def _failures(results: list[object]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException)]


@pytest.mark.parametrize("store_factory", ["mongo"], indirect=True)
@pytest.mark.parametrize("round_", range(10))
async def test_simultaneous_opens_of_a_fresh_store_all_succeed(store_factory, round_):
    stores = [store_factory() for _ in range(STARTS)]  # one fresh database per round
    results = await asyncio.gather(*(s.open() for s in stores), return_exceptions=True)
    try:
        assert _failures(results) == [], f"{len(_failures(results))} of {STARTS} opens failed"
        # Every one of them works, on the same database.
        doc_id = uuid.uuid4().hex
        doc = DocumentRecord(id=doc_id, owner="alice", filename="a.txt", content_type="text/plain",
                             size_bytes=1, sha256="0" * 64, blob_key=f"uploads/{doc_id}/a.txt")
        await stores[0].create_document(doc)
        for store in stores:
            assert await store.get_document(doc.id) is not None
    finally:
        drop = getattr(stores[0], "drop", None)
        if drop is not None and not isinstance(results[0], BaseException):
            await drop()
        await asyncio.gather(*(s.close() for s in stores))


@pytest.mark.parametrize("bus_factory", ["kafka"], indirect=True)
@pytest.mark.parametrize("round_", range(5))
async def test_simultaneous_starts_on_fresh_topics_all_succeed(bus_factory, round_, caplog):
    caplog.set_level(logging.WARNING)
    topics = [f"start.{uuid.uuid4().hex[:8]}.{lane}" for lane in ("high", "normal", "low")]
    seen: set[int] = set()

    async def handler(note: Note) -> None:
        seen.add(note.n)

    buses = [bus_factory() for _ in range(STARTS)]
    for bus in buses:
        bus.subscribe(Subscription("g", topics, Note, handler, concurrency=2))
    results = await asyncio.gather(*(b.start() for b in buses), return_exceptions=True)
    try:
        assert _failures(results) == [], f"{len(_failures(results))} of {STARTS} starts failed"
        # A first start is not an error: nobody should read "Topic ... not found" in its log
        # (the control topic was read before the broker's metadata listed it).
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], errors
        # The group they formed delivers what any of them publishes.
        for n, bus in enumerate(buses):
            await bus.publish(topics[n % len(topics)], f"k{n}", Note(key=f"k{n}", n=n))
        await eventually(lambda: seen == set(range(STARTS)), timeout_s=60,
                         what="every published note handled by the group")
    finally:
        await asyncio.gather(*(b.close() for b in buses))


async def test_the_first_group_on_a_new_broker_starts_without_an_error_logged(caplog):
    # A new broker has no offsets topic yet: the first group to ask for a coordinator
    # creates it, and until its partitions load the broker answers "coordinator not
    # available" (which aiokafka's consumer logs as an error before retrying).
    infra.kafka_bootstrap()  # skip (or fail on CI) like the other Kafka tests
    broker = await asyncio.to_thread(PrivateInfra().start, ("kafka",))
    try:
        caplog.set_level(logging.WARNING)
        buses = [KafkaBus(broker.kafka_bootstrap, partitions=2) for _ in range(2)]
        for bus in buses:
            bus.subscribe(Subscription("g", ["first.topic"], Note, lambda note: asyncio.sleep(0)))
        try:
            await asyncio.gather(*(b.start() for b in buses))
        finally:
            await asyncio.gather(*(b.close() for b in buses))
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], errors
    finally:
        await asyncio.to_thread(broker.stop)


# --- a server that is not up yet, or never comes up ---

def _late_adapter(kind: str, address: str, deadline_s: float, userinfo: str = "") -> Store | EventBus:
    if kind == "mongo":
        return MongoStore(f"mongodb://{userinfo}{address}/",
                          database=f"t_{uuid.uuid4().hex[:12]}", connect_deadline_s=deadline_s)
    return KafkaBus(address, topic_prefix=f"t{uuid.uuid4().hex[:10]}.", partitions=2,
                    connect_deadline_s=deadline_s)


async def _open(adapter: Store | EventBus) -> None:
    await (adapter.open() if isinstance(adapter, MongoStore) else adapter.start())


async def _shut(adapter: Store | EventBus) -> None:
    if isinstance(adapter, MongoStore):
        await adapter.drop()
    await adapter.close()


def _target(kind: str) -> str:
    return infra.mongo_url().split("//", 1)[1].strip("/") if kind == "mongo" else infra.kafka_bootstrap()


@pytest.mark.parametrize("kind", ["mongo", "kafka"])
async def test_a_server_that_comes_up_late_is_waited_for(kind, caplog):
    late = LateForwarder(_target(kind))
    adapter = _late_adapter(kind, late.address, deadline_s=30)
    if isinstance(adapter, KafkaBus):
        adapter.subscribe(Subscription("g", ["late.topic"], Note, lambda note: asyncio.sleep(0)))
    caplog.set_level(logging.WARNING, logger="doclane.infra.connect")
    opening = asyncio.create_task(_open(adapter))
    try:
        await eventually(lambda: "waiting for" in caplog.text, timeout_s=20, what="a retry logged")
        assert not opening.done()
        await late.listen()
        await asyncio.wait_for(opening, 30)
    finally:
        if opening.done() and not opening.cancelled() and opening.exception() is None:
            await _shut(adapter)
        else:
            opening.cancel()
            with contextlib.suppress(BaseException):
                await opening
        await late.close()
    assert late.address in caplog.text  # the log line says what it waits for


@pytest.mark.parametrize("kind", ["mongo", "kafka"])
async def test_an_unreachable_server_fails_after_the_deadline_naming_it(kind, caplog):
    closed = f"127.0.0.1:{free_port()}"
    adapter = _late_adapter(kind, closed, deadline_s=3, userinfo="doclane:hunter2@")
    started = time.monotonic()
    with pytest.raises(ConnectFailed) as failed:
        await _open(adapter)
    elapsed = time.monotonic() - started
    assert 3 <= elapsed < 9, elapsed
    assert closed in str(failed.value)
    assert "hunter2" not in str(failed.value) + caplog.text  # no credentials, ever
    assert "waiting for" in caplog.text
