#!/usr/bin/env python3
"""End-to-end smoke test of the local services started by infra/up.sh.

Needs aiokafka and pymongo>=4.10 (AsyncMongoClient) in the running interpreter:

    eval "$(infra/up.sh)"
    python infra/smoke.py            # exits non-zero if a required check fails

Kafka: idempotent producer (acks=all) writes 100 keyed messages to a new topic; a
consumer group reads part of them and commits; a new consumer in the same group
resumes exactly at the committed offsets.
Mongo: insert, unique compound index, find_one_and_update($inc, upsert, AFTER),
sorted query, delete. Then a few optional features are tried and reported as
supported / rejected (FerretDB 1.x does not implement everything MongoDB does).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections import defaultdict

BOOTSTRAP = os.environ.get("DOCLANE_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
MONGO_URL = os.environ.get("DOCLANE_MONGO_URL", "mongodb://127.0.0.1:27117/")

failures: list[str] = []


def check(cond: bool, what: str) -> None:
    print(("  ok    " if cond else "  FAIL  ") + what)
    if not cond:
        failures.append(what)


# ------------------------------------------------------------------ Kafka --


async def kafka_smoke() -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    print(f"kafka @ {BOOTSTRAP}")
    topic = f"smoke-{uuid.uuid4().hex[:12]}"
    group = f"smoke-group-{uuid.uuid4().hex[:8]}"
    n = 100

    t0 = time.monotonic()
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all")
    await producer.start()
    sent: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    try:
        for i in range(n):
            key, value = f"key-{i % 10}", f"msg-{i}"
            md = await producer.send_and_wait(topic, value.encode(), key=key.encode())
            sent[md.partition].append((key, value, md.offset))
    finally:
        await producer.stop()
    check(sum(len(v) for v in sent.values()) == n, f"produced {n} keyed messages to auto-created {topic} "
          f"({len(sent)} partitions used, {time.monotonic() - t0:.2f}s)")
    # same key -> same partition
    key_parts = defaultdict(set)
    for p, msgs in sent.items():
        for key, _, _ in msgs:
            key_parts[key].add(p)
    check(all(len(ps) == 1 for ps in key_parts.values()), "each key maps to one partition")

    def consumer() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            bootstrap_servers=BOOTSTRAP,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # small fetches so that the first consumer stops part-way through partitions
            max_partition_fetch_bytes=512,
        )

    first_batch = 60
    seen: list[tuple[int, int, str]] = []
    c1 = consumer()
    t0 = time.monotonic()
    await c1.start()
    try:
        while len(seen) < first_batch:
            msg = await asyncio.wait_for(c1.getone(), timeout=30)
            seen.append((msg.partition, msg.offset, msg.value.decode()))
        await c1.commit()
        committed = {tp.partition: await c1.committed(tp) for tp in c1.assignment()}
    finally:
        await c1.stop()
    check(len(seen) == first_batch, f"consumer 1 read {first_batch} and committed "
          f"{committed} ({time.monotonic() - t0:.2f}s incl. group join)")

    c2 = consumer()
    first_offset: dict[int, int] = {}
    t0 = time.monotonic()
    await c2.start()
    try:
        while not c2.assignment():
            await asyncio.sleep(0.05)
        start_pos = {tp.partition: await c2.position(tp) for tp in c2.assignment()}
        while len(seen) < n:
            msg = await asyncio.wait_for(c2.getone(), timeout=30)
            first_offset.setdefault(msg.partition, msg.offset)
            seen.append((msg.partition, msg.offset, msg.value.decode()))
        extra = await c2.getmany(timeout_ms=1000)
        await c2.commit()
        end = await c2.end_offsets([TopicPartition(topic, p) for p in sent])
        final = {tp: await c2.committed(tp) for tp in end}
    finally:
        await c2.stop()
    resumed_ok = start_pos == committed and all(first_offset[p] == committed[p] for p in first_offset)
    check(resumed_ok, f"consumer 2 (same group) started at the committed offsets {start_pos}, "
          f"first offsets read {first_offset} ({time.monotonic() - t0:.2f}s)")
    check(not any(extra.values()), "no messages beyond the 100 produced")
    check(len({v for _, _, v in seen}) == n and len(seen) == n, "all 100 messages seen exactly once")
    check(all(final[tp] == end[tp] for tp in end), "final committed offsets == end offsets")
    per_part = defaultdict(list)
    for p, off, _ in seen:
        per_part[p].append(off)
    check(all(offs == sorted(offs) for offs in per_part.values()), "offsets in order per partition")

    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        explicit = f"smoke-admin-{uuid.uuid4().hex[:8]}"
        await admin.create_topics([NewTopic(explicit, num_partitions=2, replication_factor=1)])
        topics = await admin.list_topics()
        check(explicit in topics and topic in topics, "admin: create_topics / list_topics")
        await admin.delete_topics([explicit, topic])
        check(True, "admin: delete_topics")
    finally:
        await admin.close()


# ------------------------------------------------------------------ Mongo --


async def mongo_smoke() -> None:
    from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
    from pymongo.errors import DuplicateKeyError, PyMongoError

    print(f"mongo @ {MONGO_URL}")
    client: AsyncMongoClient = AsyncMongoClient(MONGO_URL, serverSelectionTimeoutMS=5000)
    dbname = f"smoke_{uuid.uuid4().hex[:12]}"
    db = client[dbname]
    try:
        hello = await client.admin.command("hello")
        build = await client.admin.command("buildInfo")
        print(f"  server: {build.get('version')} ferretdb={build.get('ferretdbVersion')} "
              f"maxWireVersion={hello.get('maxWireVersion')}")

        docs = db["docs"]
        res = await docs.insert_many(
            [{"tenant": "t1", "doc_id": f"d{i}", "created": i, "tags": ["a"]} for i in range(10)]
        )
        check(len(res.inserted_ids) == 10, "insert_many 10 docs")
        one = await docs.insert_one({"tenant": "t2", "doc_id": "d0", "created": 100})
        check(one.inserted_id is not None, "insert_one")

        name = await docs.create_index([("tenant", ASCENDING), ("doc_id", ASCENDING)], unique=True)
        info = await docs.index_information()
        check(info.get(name, {}).get("unique") is True, f"unique compound index {name}")
        try:
            await docs.insert_one({"tenant": "t1", "doc_id": "d3"})
            check(False, "duplicate insert rejected by unique index")
        except DuplicateKeyError:
            check(True, "duplicate insert rejected by unique index (DuplicateKeyError)")

        counters = db["counters"]
        for expect in (1, 2, 3):
            doc = await counters.find_one_and_update(
                {"_id": "uploads"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
            )
            if doc is None or doc.get("n") != expect:
                break
        check(doc is not None and doc.get("n") == 3, "find_one_and_update $inc upsert=True AFTER -> 1,2,3")

        rows = await docs.find({"tenant": "t1", "created": {"$gte": 2}}).sort("created", DESCENDING).limit(3).to_list()
        check([r["created"] for r in rows] == [9, 8, 7], "find with filter + sort desc + limit")
        rows = await docs.find({}, {"_id": 0, "doc_id": 1}).sort([("tenant", DESCENDING), ("created", ASCENDING)]).to_list()
        check(rows[0]["doc_id"] == "d0" and len(rows) == 11, "find with projection + compound sort")

        d = await docs.delete_one({"tenant": "t1", "doc_id": "d0"})
        dm = await docs.delete_many({"created": {"$lt": 5}})
        left = await docs.count_documents({})
        check(d.deleted_count == 1 and dm.deleted_count == 4 and left == 6, "delete_one / delete_many / count_documents")

        # ---- optional features: report, do not fail
        print("  optional features:")

        async def opt(what: str, coro, expect=None) -> None:
            try:
                result = await coro
                if expect is not None and result != expect:
                    print(f"    WRONG      {what}: got {result}, MongoDB gives {expect}")
                    return
                print(f"    supported  {what}" + (f" -> {result}" if result is not None else ""))
            except (PyMongoError, NotImplementedError) as exc:
                msg = str(exc).split(", full error")[0]
                print(f"    REJECTED   {what}: {type(exc).__name__}: {msg[:160]}")

        async def upd_ops():
            r = await docs.update_many({"tenant": "t1"}, {"$set": {"state": "done"}, "$push": {"tags": "b"},
                                                          "$currentDate": {"ts": True}})
            r2 = await docs.update_one({"doc_id": "d9"}, {"$addToSet": {"tags": "a"}, "$unset": {"state": ""}})
            return (r.modified_count, r2.modified_count)

        async def agg():
            return await (await docs.aggregate([
                {"$match": {"created": {"$gte": 0}}},
                {"$group": {"_id": "$tenant", "n": {"$sum": 1}, "s": {"$sum": "$created"}}},
                {"$sort": {"_id": 1}}, {"$project": {"n": 1, "s": 1}}, {"$limit": 5},
            ])).to_list()

        async def unwind():
            rows = await (await docs.aggregate([
                {"$match": {"tenant": "t1"}}, {"$unwind": "$tags"}, {"$project": {"_id": 0, "tenant": 1, "tags": 1}},
                {"$limit": 1},
            ])).to_list()
            return rows[0] if rows else None

        async def agg_max():
            return await (await docs.aggregate([{"$group": {"_id": None, "mx": {"$max": "$created"}}}])).to_list()

        async def agg_count():
            return await (await docs.aggregate([{"$match": {"tenant": "t1"}}, {"$count": "n"}])).to_list()

        async def upsert_soi():
            r = await docs.update_one({"tenant": "t4", "doc_id": "y"},
                                      {"$setOnInsert": {"created": 1}, "$set": {"v": 2}}, upsert=True)
            return r.upserted_id is not None

        async def query_ops():
            q = {"tenant": {"$in": ["t1", "t3"]}, "doc_id": {"$regex": "^d"}, "tags": {"$elemMatch": {"$eq": "b"}},
                 "state": {"$exists": True}}
            return len(await docs.find(q).sort("created", 1).skip(1).limit(2).to_list())

        async def lookup():
            return await (await docs.aggregate([
                {"$lookup": {"from": "counters", "localField": "tenant", "foreignField": "_id", "as": "c"}}
            ])).to_list()

        async def bulk():
            from pymongo import InsertOne, UpdateOne
            r = await docs.bulk_write([InsertOne({"tenant": "t3", "doc_id": "x"}),
                                       UpdateOne({"tenant": "t3", "doc_id": "x"}, {"$set": {"v": 1}})], ordered=True)
            return (r.inserted_count, r.modified_count)

        async def txn():
            async with client.start_session() as s:
                await s.start_transaction()
                await docs.insert_one({"tenant": "tx", "doc_id": "1"}, session=s)
                await s.commit_transaction()

        async def change_stream():
            async with await docs.watch(max_await_time_ms=100) as stream:
                await stream.try_next()

        async def ttl():
            return await db["ttl"].create_index("expires", expireAfterSeconds=60)

        async def text_index():
            return await docs.create_index([("body", "text")])

        async def partial_index():
            return await docs.create_index("state", partialFilterExpression={"state": {"$exists": True}})

        async def dotted():
            await db["nested"].insert_one({"a": {"b": [1, 2, 3]}, "meta": {"k": "v"}})
            return await db["nested"].count_documents({"a.b": 2, "meta.k": "v"})

        async def fau_sorted():
            return await docs.find_one_and_update({"tenant": "t1"}, {"$set": {"picked": True}},
                                                  sort=[("created", ASCENDING)], return_document=ReturnDocument.AFTER)

        await opt("update_many $set/$push/$currentDate, update_one $addToSet/$unset", upd_ops())
        await opt("aggregate $group with two accumulators ($sum: 1, $sum: '$created')", agg(),
                  [{"_id": "t1", "n": 5, "s": 35}, {"_id": "t2", "n": 1, "s": 100}])
        await opt("aggregate $unwind keeps the other fields", unwind(), {"tenant": "t1", "tags": "a"})
        await opt("aggregate $group with $max", agg_max())
        await opt("aggregate $count", agg_count())
        await opt("update_one upsert with $setOnInsert", upsert_soi())
        await opt("find $in/$regex/$elemMatch/$exists + skip", query_ops())
        await opt("aggregate $lookup", lookup())
        await opt("bulk_write ordered", bulk())
        await opt("find_one_and_update with sort", fau_sorted())
        await opt("query on dotted path into array", dotted())
        await opt("distinct", docs.distinct("tenant"))
        await opt("TTL index (expireAfterSeconds)", ttl())
        await opt("partial index", partial_index())
        await opt("text index", text_index())
        await opt("multi-document transaction", txn())
        await opt("change stream (watch)", change_stream())
    finally:
        await client.drop_database(dbname)
        await client.close()


async def main() -> int:
    await kafka_smoke()
    await mongo_smoke()
    if failures:
        print(f"\n{len(failures)} check(s) failed: {failures}")
        return 1
    print("\nall required checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
