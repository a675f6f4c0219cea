"""A Kafka bus's control plane: its groups' pauses, and the reports of its members.

Pauses are records on the compacted control topic (one partition, keyed by group). A bus
that runs members reads that topic to its end before its members start (so a worker started
during a pause takes nothing), then follows it; the same loop publishes what its members
hold in flight and finished to the members topic every :data:`REPORT_S` seconds, which is
where a gateway (running no member) learns them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from doclane.infra.bus._control import GroupPaused, MemberReport, PauseGate
from doclane.infra.bus._kafka_member import GroupMember
from doclane.infra.bus._kafka_ops import read_records
from doclane.infra.bus.base import CONTROL_TOPIC, MEMBERS_TOPIC
from doclane.schemas.events import Event

__all__ = ["REPORT_S", "KafkaControl"]

logger = logging.getLogger(__name__)

#: How often members report what they hold and finished.
REPORT_S = 2.0


class KafkaControl:
    """The pause gates of one bus's groups, kept as the control topic says, and its members'
    reports; ``publish`` is the bus's, ``members`` what it runs now."""

    def __init__(self, member_id: str, prefix: str, publish: Callable[[str, str, Event], Awaitable[None]],
                 members: Callable[[], Sequence[GroupMember]]) -> None:
        self._member_id = member_id
        self._prefix = prefix
        self._publish = publish
        self._members = members
        self._gates: dict[str, PauseGate] = {}
        self._report_due = False  # a pause changed: report before the next interval

    def gate(self, group: str) -> PauseGate:
        return self._gates.setdefault(group, PauseGate())

    def apply(self, change: GroupPaused) -> None:
        gate = self.gate(change.group)
        if gate.paused != change.paused:
            logger.info("group %s %s", change.group, "paused" if change.paused else "resumed")
        gate.set(change.paused)
        self._report_due = True
        if not change.paused:
            for member in self._members():
                if member.group == change.group:
                    member.wake()

    async def catch_up(self, consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition]) -> None:
        """Apply every pause recorded so far on the control topic's ``tps``; leave the
        (started) ``consumer`` positioned after them."""
        async for record in read_records(consumer, CONTROL_TOPIC, tps, key=None, since=None):
            self.apply(GroupPaused.model_validate_json(record.value))
        ends = await consumer.end_offsets(tps)
        consumer.assign(list(tps))
        for tp in tps:
            consumer.seek(tp, ends[tp])

    async def follow(self, consumer: AIOKafkaConsumer) -> None:
        """Apply pauses as they come; report the members every :data:`REPORT_S` seconds."""
        try:
            next_report = 0.0
            while True:
                try:
                    if self._report_due or time.monotonic() >= next_report:
                        self._report_due = False
                        next_report = time.monotonic() + REPORT_S
                        await self._report()
                    batches = await consumer.getmany(timeout_ms=int(REPORT_S * 1000))
                except KafkaError as exc:  # the broker is away: the members go on as they are
                    logger.warning("following the control topic failed (%s); retrying", exc)
                    await asyncio.sleep(REPORT_S)
                    continue
                for records in batches.values():
                    for record in records:
                        self.apply(GroupPaused.model_validate_json(record.value or b""))
        finally:
            await consumer.stop()

    async def _report(self) -> None:
        strip = len(self._prefix)
        for member in self._members():
            report = MemberReport(
                member=self._member_id, group=member.group, paused=member.gate.paused,
                in_flight={t[strip:]: n for t, n in member.stats.in_flight.items()},
                done_last_min={t[strip:]: n for t, n in member.stats.done_last_min().items()},
            )
            await self._publish(MEMBERS_TOPIC, f"{member.group}:{self._member_id}", report)
