"""Reading Kafka without a group: where a tail starts, and for operators records with their
metadata, queue ages, member reports and backlogs.

Each function works on a started, group-less consumer it is handed, and
assigns and seeks it as it needs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from doclane.infra.bus._control import MemberReport
from doclane.infra.bus.base import BusRecord, GroupBacklog, TopicBacklog, key_matches

__all__ = ["REPORT_FRESH_S", "TailStart", "first_timestamps", "group_backlog", "member_reports",
           "read_records"]

_POLL_MS = 500
#: How long looking for the oldest waiting record may take before it gives up.
_OLDEST_DEADLINE_S = 3.0
#: Reports older than this are from members that left (they report every few seconds).
REPORT_FRESH_S = 10.0


class TailStart:
    """Where a starting tail must begin so that it misses none of this bus's publishes.

    A tail positions itself at the partitions' end offsets, which takes a few
    round trips; a publish this bus began after the tail started, but that
    landed before the tail read the end offsets, would fall before that
    position. Such publishes report their offsets here, and the tail starts at
    the lower of the two.
    """

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.first: dict[int, int] = {}  # partition -> lowest offset published since
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def begin(self) -> None:
        self._pending += 1
        self._idle.clear()

    def end(self, partition: int | None, offset: int | None) -> None:
        if partition is not None and offset is not None:
            self.first[partition] = min(offset, self.first.get(partition, offset))
        self._pending -= 1
        if not self._pending:
            self._idle.set()

    async def settled(self) -> None:
        """Wait for the publishes that began before this start was taken off the list."""
        await self._idle.wait()


def _to_bus_record(topic: str, record: ConsumerRecord[bytes, bytes]) -> BusRecord:
    return BusRecord(
        topic=topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        key=(record.key or b"").decode(errors="replace"),
        value=(record.value or b"").decode(errors="replace"),
    )


async def _starts(
    consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], since: datetime | None
) -> dict[TopicPartition, int]:
    firsts: dict[TopicPartition, int] = await consumer.beginning_offsets(tps)
    if since is None:
        return firsts
    found = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in tps})
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    # No record at or after ``since``: start at the end (nothing to read).
    return {tp: ends[tp] if found.get(tp) is None else max(firsts[tp], found[tp].offset)
            for tp in tps}


async def read_records(
    consumer: AIOKafkaConsumer, topic: str, tps: Sequence[TopicPartition], *,
    key: str | None, since: datetime | None,
) -> AsyncIterator[BusRecord]:
    """The records of ``tps`` up to the end offsets taken now (``topic`` is the name shown)."""
    starts = await _starts(consumer, tps, since)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    for tp in tps:
        if starts[tp] >= ends[tp]:
            continue
        consumer.assign([tp])
        consumer.seek(tp, starts[tp])
        # The position decides the end: compaction may leave gaps below it.
        while await consumer.position(tp) < ends[tp]:
            batch = await consumer.getmany(tp, timeout_ms=_POLL_MS)
            for record in batch.get(tp, ()):
                if record.offset >= ends[tp]:
                    break
                bus_record = _to_bus_record(topic, record)
                if key is None or key_matches(bus_record.key, key):
                    yield bus_record


async def first_timestamps(
    consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """The timestamp (ms) of the record at (or first after) each offset; partitions whose
    record did not arrive within a short deadline are left out."""
    if not offsets:
        return {}
    consumer.assign(list(offsets))
    for tp, offset in offsets.items():
        consumer.seek(tp, offset)
    found: dict[TopicPartition, int] = {}
    deadline = time.monotonic() + _OLDEST_DEADLINE_S
    while len(found) < len(offsets) and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=_POLL_MS, max_records=len(offsets) * 4)
        for tp, records in batches.items():
            if records and tp not in found:
                found[tp] = records[0].timestamp
                consumer.pause(tp)  # one record is all we need of it
    return found


async def member_reports(
    consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], group: str
) -> list[MemberReport]:
    """The latest fresh report of every member of ``group``."""
    since = datetime.fromtimestamp(time.time() - REPORT_FRESH_S, UTC)
    latest: dict[str, MemberReport] = {}
    async for record in read_records(consumer, "", tps, key=group, since=since):
        report = MemberReport.model_validate_json(record.value)
        if report.group == group and report.produced_at >= since:
            latest[report.member] = report
    return list(latest.values())


async def group_backlog(
    consumer: AIOKafkaConsumer,
    group: str,
    parts: dict[str, list[TopicPartition]],
    offsets: Mapping[TopicPartition, OffsetAndMetadata],
    members: Sequence[TopicPartition],
) -> GroupBacklog:
    """``group``'s backlog on each topic of ``parts`` (shown name -> its partitions), from its
    committed ``offsets`` and its members' reports on the members topic's partitions."""
    every = [tp for tps in parts.values() for tp in tps]
    ends: dict[TopicPartition, int] = await consumer.end_offsets(every)
    firsts: dict[TopicPartition, int] = await consumer.beginning_offsets(every)
    # A partition the group never committed on is read from its beginning.
    committed = {tp: offsets[tp].offset if tp in offsets and offsets[tp].offset >= 0 else firsts[tp]
                 for tp in every}
    stamps = await first_timestamps(consumer, {tp: committed[tp] for tp in every if committed[tp] < ends[tp]})
    reports = await member_reports(consumer, members, group)
    now_ms = time.time() * 1000
    result = []
    for topic, tps in parts.items():
        ages = [(now_ms - stamps[tp]) / 1000 for tp in tps if tp in stamps]
        result.append(TopicBacklog(
            topic=topic,
            end=sum(ends[tp] for tp in tps),
            committed=sum(committed[tp] for tp in tps),
            in_flight=sum(r.in_flight.get(topic, 0) for r in reports),
            oldest_waiting_s=max(0.0, max(ages)) if ages else None,
            done_last_min=sum(r.done_last_min.get(topic, 0) for r in reports),
        ))
    return GroupBacklog(result, len(reports), sum(r.paused for r in reports))
