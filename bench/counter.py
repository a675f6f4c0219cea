"""Benchmark: how fast the MongoDB-protocol server moves one owner's cursor counter.

Every status event takes the next number of its owner's cursor with one
``find_one_and_update($inc)`` on one counter document (``MongoStore._bump_counter``). This
measures that command from 1, 2, 4 and 8 concurrent clients on one document, against the
same number of clients each on a document of its own and against plain inserts, so a
single busy owner's counter can be told apart from the server's speed as a bound. It
prints a table; nothing is written.

    infra/with-infra.sh .venv/bin/python -m bench.counter [--commands 200]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import time
import uuid
from collections.abc import Awaitable, Callable

from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

Doc = dict[str, object]


async def _rate(clients: int, commands: int, one: Callable[[int], Awaitable[object]]) -> float:
    """Commands a second when ``clients`` tasks each run ``commands`` of ``one(client)``."""

    async def client(k: int) -> None:
        for _ in range(commands):
            await one(k)

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    return clients * commands / (time.perf_counter() - started)


def _bump(connections: list[AsyncMongoClient[Doc]], database: str, owner: str | None,
          k: int) -> Awaitable[object]:
    """Client ``k`` moves ``owner``'s counter (``None``: a counter of its own)."""
    counters: AsyncCollection[Doc] = connections[k][database]["counters"]
    return counters.find_one_and_update({"_id": owner or f"owner-{k}"}, {"$inc": {"value": 1}},
                                        upsert=True, return_document=ReturnDocument.AFTER)


def _insert(connections: list[AsyncMongoClient[Doc]], database: str, k: int) -> Awaitable[object]:
    events: AsyncCollection[Doc] = connections[k][database]["events"]
    return events.insert_one({"owner": "owner", "n": k})


async def main(url: str, commands: int) -> None:
    database = f"bench_counter_{uuid.uuid4().hex[:8]}"
    # One connection pool per client, as separate processes would have.
    connections: list[AsyncMongoClient[Doc]] = [AsyncMongoClient(url) for _ in range(8)]
    try:
        print("| clients | one counter, $inc/s | a counter each, $inc/s | inserts/s |")
        print("|---|---|---|---|")
        for n in (1, 2, 4, 8):
            shared = await _rate(n, commands, functools.partial(_bump, connections, database, "owner"))
            own = await _rate(n, commands, functools.partial(_bump, connections, database, None))
            inserts = await _rate(n, commands, functools.partial(_insert, connections, database))
            print(f"| {n} | {shared:.0f} | {own:.0f} | {inserts:.0f} |")
    finally:
        await connections[0].drop_database(database)
        for c in connections:
            await c.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200, help="commands per client and kind")
    args = parser.parse_args()
    url = os.environ.get("DOCLANE_TEST_MONGO_URL") or os.environ.get("DOCLANE_MONGO_URL")
    if not url:
        raise SystemExit("set DOCLANE_MONGO_URL, or run under infra/with-infra.sh")
    asyncio.run(main(url, args.commands))
