"""Reading Kafka for operators: records with their metadata, queue ages, member reports.

Each function works on a started, group-less consumer it is handed, and
assigns and seeks it as it needs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from doclane.infra.bus._control import MemberReport
from doclane.infra.bus.base import BusRecord, key_matches

__all__ = ["REPORT_FRESH_S", "first_timestamps", "member_reports", "read_records"]

_POLL_MS = 500
#: How long looking for the oldest waiting record may take before it gives up.
_OLDEST_DEADLINE_S = 3.0
#: Reports older than this are from members that left (they report every few seconds).
REPORT_FRESH_S = 10.0


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
