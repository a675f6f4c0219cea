"""The :class:`EventBus` on Apache Kafka (or any Kafka-protocol broker), via aiokafka.

Every topic and consumer group name gets ``topic_prefix`` prepended, so tenants
and tests sharing a cluster never see each other; events and handlers only see
the un-prefixed names. Topics are created with ``partitions`` partitions by the
admin client before first use (at :meth:`KafkaBus.start` for subscriptions, on
first publish/tail/replay otherwise) rather than by broker auto-creation, which
would use the broker's default partition count. The producer is idempotent with
``acks=all``: :meth:`KafkaBus.publish` returns once the event is durable.

This uses aiokafka directly, not FastStream: a FastStream 0.7 Kafka subscriber
handles its records one at a time, and its ``max_workers`` modes either
acknowledge before handling (``ACK_FIRST``) or run one sequential consumer per
worker on a single topic, so it cannot express ordered per-partition concurrency
with low-water-mark commits after the effects, weighted lanes across topics, or a
bounded drain on rebalance. The producer and admin client are plain aiokafka too,
so one library owns the connection settings. The group member lives in
:mod:`doclane.infra.bus._kafka_member`, with its timeouts in ``CONSUMER_TIMEOUTS``.

Operating the groups: pauses and member reports are the control plane's
(:mod:`doclane.infra.bus._kafka_control`). Committed offsets come from the admin client,
end offsets and record timestamps from a group-less consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    TopicAlreadyExistsError,
    for_code,
)

from doclane.infra.bus._control import GroupPaused
from doclane.infra.bus._kafka_control import REPORT_S, KafkaControl
from doclane.infra.bus._kafka_member import CONSUMER_ASSIGNORS, CONSUMER_TIMEOUTS, GroupMember
from doclane.infra.bus._kafka_ops import TailStart, group_backlog, read_records
from doclane.infra.bus.base import (
    CONTROL_TOPIC,
    MEMBERS_TOPIC,
    BusRecord,
    E,
    EventBus,
    GroupBacklog,
    Subscription,
)
from doclane.infra.connect import DEFAULT_CONNECT_DEADLINE_S, redact_url, retry_connect
from doclane.infra.supervise import supervised
from doclane.schemas.events import Event

__all__ = ["REPORT_S", "KafkaBus"]

logger = logging.getLogger(__name__)

_POLL_MS = 1_000
#: Topic settings of the bus's own topics: the last pause of a group is kept for
#: ever, member reports for an hour.
_OWN_TOPIC_CONFIGS = {
    CONTROL_TOPIC: {"cleanup.policy": "compact"},
    MEMBERS_TOPIC: {"retention.ms": str(3_600_000)},
}
#: How long a created topic may take to show in the broker's metadata, and a new broker to
#: name a group's coordinator.
_BROKER_READY_S = 10.0


def _ready(topic: dict[str, Any] | None) -> bool:
    """A described topic exists and every partition of it has a leader."""
    return (topic is not None and topic["error_code"] == 0 and bool(topic["partitions"])
            and all(p["leader"] >= 0 for p in topic["partitions"]))


async def _until_none(pending: Callable[[], Awaitable[list[str]]], what: str) -> None:
    """Ask ``pending()`` until it names nothing; after :data:`_BROKER_READY_S` fail naming
    what it still names (a broker that is up, but not yet ready for what was asked)."""
    deadline = time.monotonic() + _BROKER_READY_S
    while names := await pending():
        if time.monotonic() > deadline:
            raise KafkaConnectionError(f"{what} after {_BROKER_READY_S:g} s: {', '.join(names)}")
        await asyncio.sleep(0.05)


def _transient(exc: BaseException) -> bool:
    """Worth another attempt at start: the broker is not up (or not ready) yet."""
    # Kafka marks its transient errors (no connection, no leader or controller yet) retriable.
    return isinstance(exc, KafkaTimeoutError) or (isinstance(exc, KafkaError) and exc.retriable)


class KafkaBus(EventBus):
    """Publish, consume in groups, tail and replay topics on a Kafka cluster."""

    def __init__(
        self,
        bootstrap: str,
        *,
        topic_prefix: str = "",
        partitions: int = 6,
        client_id: str = "doclane",
        replication_factor: int = 1,
        connect_deadline_s: float = DEFAULT_CONNECT_DEADLINE_S,
    ) -> None:
        """Configure only: no connection is made before :meth:`start`."""
        if partitions < 1 or replication_factor < 1:
            raise ValueError("partitions and replication_factor must be at least 1")
        self._bootstrap = bootstrap
        self._prefix = topic_prefix
        self._partitions = partitions
        self._replication = replication_factor
        self._client_id = client_id
        self._connect_deadline_s = connect_deadline_s
        self._subs: list[Subscription[Any]] = []
        self._members: list[GroupMember] = []
        self._admin: AIOKafkaAdminClient | None = None
        self._producer: AIOKafkaProducer | None = None
        self._ensured: set[str] = set()
        self._create_lock = asyncio.Lock()  # one CreateTopics at a time, not one per publish
        self._tail_starts: set[TailStart] = set()  # tails still taking their position
        self._control: asyncio.Task[None] | None = None
        self._pauses = KafkaControl(f"{client_id}-{uuid.uuid4().hex[:8]}", topic_prefix, self.publish,
                                    lambda: self._members)

    def _name(self, topic: str) -> str:
        return self._prefix + topic

    # --- lifecycle ---

    def subscribe(self, subscription: Subscription[E]) -> None:
        self._subs.append(subscription)

    async def start(self) -> None:
        """Connect, create the subscribed topics and join every registered group.

        Connecting and creating the topics is retried until the connect deadline (see
        :meth:`_connect`), so processes may start before the broker and together.

        Raises:
            ConnectFailed: the broker did not answer, or kept failing, until the deadline.
        """
        try:
            await retry_connect(
                self._connect,
                what=f"Kafka at {redact_url(self._bootstrap)}",
                deadline_s=self._connect_deadline_s,
                transient=_transient,
            )
            if self._subs:
                control = await self._catch_up_control()
                # Started before the members, which take their gates from what it read.
                self._control = supervised(self._pauses.follow(control), name="kafka-control")
            for sub in self._subs:
                consumer = AIOKafkaConsumer(
                    bootstrap_servers=self._bootstrap,
                    client_id=self._client_id,
                    group_id=self._prefix + sub.group,
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    partition_assignment_strategy=CONSUMER_ASSIGNORS,
                    **CONSUMER_TIMEOUTS,
                )
                gate = self._pauses.gate(sub.group)
                member = GroupMember(consumer, sub, [self._name(t) for t in sub.topics], gate)
                self._members.append(member)
                await member.start()
        except BaseException:
            await self.close()
            raise

    async def _connect(self, budget_s: float) -> None:
        """One attempt: start the admin client and the producer, create the subscribed topics.

        Safe to repeat: topics another process created first count as created, and on
        failure the clients started here are closed again. A refused connection fails
        at once; an attempt that hangs is cut off by :func:`retry_connect`, so the
        clients keep their own timeouts (``budget_s`` is not needed).
        """
        del budget_s
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=self._client_id)
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
        )
        try:
            await admin.start()
            await producer.start()
            self._admin = admin
            await self._ensure(self._name(t) for sub in self._subs for t in sub.topics)
            await self._until_coordinated(admin, {self._prefix + sub.group for sub in self._subs})
        except BaseException:
            self._admin = None
            await producer.stop()
            await admin.close()
            raise
        self._producer = producer

    async def close(self) -> None:
        """Stop the groups (in-flight events stay uncommitted), then disconnect."""
        if self._control is not None:
            self._control.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._control
            self._control = None
        members, self._members = self._members, []
        results = await asyncio.gather(*(m.stop() for m in members), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                logger.error("stopping a group member failed", exc_info=result)
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
        self._ensured.clear()

    # --- producing ---

    async def publish(self, topic: str, key: str, event: Event) -> None:
        name = self._name(topic)
        await self._ensure((name,))
        starts = [s for s in self._tail_starts if s.topic == topic]
        for start in starts:
            start.begin()
        partition = offset = None
        try:
            meta = await self._started_producer().send_and_wait(
                name, value=event.model_dump_json().encode(), key=key.encode()
            )
            partition, offset = meta.partition, meta.offset
        finally:
            for start in starts:
                start.end(partition, offset)

    def _started_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the Kafka bus is not started")
        return self._producer

    async def _ensure(self, names: Iterable[str]) -> None:
        """Create the topics not yet known to exist, with the configured partitions."""
        wanted = set(names)
        if wanted <= self._ensured:
            return
        async with self._create_lock:
            missing = sorted(wanted - self._ensured)
            if not missing:
                return
            if self._admin is None:
                raise RuntimeError("the Kafka bus is not started")
            response = await self._admin.create_topics([self._new_topic(name) for name in missing])
            for name, code, *message in response.topic_errors:
                error = for_code(code)
                if code and error is not TopicAlreadyExistsError:
                    raise error(f"cannot create topic {name}: {message[0] if message else ''}")
            await self._until_listed(self._admin, missing)
            self._ensured.update(missing)

    async def _until_listed(self, admin: AIOKafkaAdminClient, names: Sequence[str]) -> None:
        """Wait until the broker's metadata lists ``names`` with a leader for every partition.

        A topic exists for the controller before every broker's metadata shows it; a
        client asking for it in between gets "unknown topic" (which aiokafka logs as an
        error, alarming on a first start) or a partition without a leader.
        """
        async def missing() -> list[str]:
            listed = {t["topic"]: t for t in await admin.describe_topics(list(names))}
            return [n for n in names if not _ready(listed.get(n))]

        await _until_none(missing, "topics not listed by the broker")

    @staticmethod
    async def _until_coordinated(admin: AIOKafkaAdminClient, groups: set[str]) -> None:
        """Wait until the broker names a coordinator for every group about to be joined.

        On a new broker the offsets topic that coordinators live on is created by the
        first group that asks; until its partitions are loaded the broker answers
        "coordinator not available", which aiokafka's consumer logs as an error
        (alarming on a first start) before it retries.
        """
        async def uncoordinated() -> list[str]:
            waiting = []
            for group in sorted(groups):
                try:
                    await admin.find_coordinator(group)
                except KafkaError as exc:
                    if not exc.retriable:
                        raise
                    waiting.append(group)
            return waiting

        await _until_none(uncoordinated, "groups without a coordinator")

    def _new_topic(self, name: str) -> NewTopic:
        for own, configs in _OWN_TOPIC_CONFIGS.items():
            if name == self._name(own):
                return NewTopic(name, 1, self._replication, topic_configs=configs)
        return NewTopic(name, self._partitions, self._replication)

    # --- reading without a group ---

    def _reader(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
        )

    async def _partitions_of(self, name: str) -> list[TopicPartition]:
        numbers = await self._started_producer().partitions_for(name)
        return [TopicPartition(name, p) for p in sorted(numbers)]

    async def tail(self, topic: str, model: type[E]) -> AsyncIterator[E]:
        """Events published from the first ``anext`` on (no group, nothing committed)."""
        start = TailStart(topic)
        self._tail_starts.add(start)  # before any await: publishes from now on are ours
        consumer: AIOKafkaConsumer | None = None
        try:
            name = self._name(topic)
            await self._ensure((name,))
            tps = await self._partitions_of(name)
            consumer = self._reader()
            await consumer.start()
            ends = await consumer.end_offsets(tps)
            self._tail_starts.discard(start)  # later publishes land at or past ``ends``
            await start.settled()
            consumer.assign(tps)
            for tp in tps:
                consumer.seek(tp, min(ends[tp], start.first.get(tp.partition, ends[tp])))
            while True:
                batches = await consumer.getmany(timeout_ms=_POLL_MS)
                for records in batches.values():
                    for record in records:
                        yield model.model_validate_json(record.value or b"")
        finally:
            self._tail_starts.discard(start)
            if consumer is not None:
                await consumer.stop()

    async def replay(self, topic: str, model: type[E]) -> AsyncIterator[E]:
        """Every retained event up to the end offsets taken now: by partition, then offset."""
        async for record in self.records(topic):
            yield model.model_validate_json(record.value)

    # --- operating the groups ---

    async def records(
        self, topic: str, *, key: str | None = None, since: datetime | None = None
    ) -> AsyncIterator[BusRecord]:
        name = self._name(topic)
        await self._ensure((name,))
        tps = await self._partitions_of(name)
        consumer = self._reader()
        await consumer.start()
        try:
            async for record in read_records(consumer, topic, tps, key=key, since=since):
                yield record
        finally:
            await consumer.stop()

    async def backlog(self, group: str, topics: Sequence[str]) -> GroupBacklog:
        names = [self._name(t) for t in topics]
        await self._ensure((*names, self._name(MEMBERS_TOPIC)))
        if self._admin is None:
            raise RuntimeError("the Kafka bus is not started")
        offsets = await self._admin.list_consumer_group_offsets(self._prefix + group)
        parts = {topic: await self._partitions_of(name) for topic, name in zip(topics, names, strict=True)}
        members = await self._partitions_of(self._name(MEMBERS_TOPIC))
        consumer = self._reader()
        await consumer.start()
        try:
            return await group_backlog(consumer, group, parts, offsets, members)
        finally:
            await consumer.stop()

    async def set_paused(self, group: str, paused: bool) -> None:
        change = GroupPaused(group=group, paused=paused)
        await self.publish(CONTROL_TOPIC, group, change)
        self._pauses.apply(change)  # this process's members at once; the others when they read it

    async def paused_groups(self) -> set[str]:
        state: dict[str, bool] = {}
        async for event in self.replay(CONTROL_TOPIC, GroupPaused):
            state[event.group] = event.paused
        return {group for group, paused in state.items() if paused}

    async def _catch_up_control(self) -> AIOKafkaConsumer:
        """Apply every pause recorded so far; a consumer positioned after them."""
        name = self._name(CONTROL_TOPIC)
        await self._ensure((name, self._name(MEMBERS_TOPIC)))
        tps = await self._partitions_of(name)
        consumer = self._reader()
        await consumer.start()
        try:
            await self._pauses.catch_up(consumer, tps)
        except BaseException:
            await consumer.stop()
            raise
        return consumer
