"""Many live clients of several owners at once: each gets every event of its owner, once, in order."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from tests.utils.api import all_terminal, auth, collect_sse, collect_ws, upload
from tests.utils.documents import make_text

SSE_PER_OWNER = 12
WS_PER_OWNER = 4
DOCS_PER_OWNER = 3


async def _latest_cursor(url: str, token: str) -> int:
    async with websockets.connect(url.replace("http://", "ws://") + f"/ws?token={token}") as ws:
        return int(json.loads(await ws.recv())["cursor"])


def _without_type(events: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "type"} for e in events]


async def test_every_client_of_every_owner_gets_each_event_of_its_owner_exactly_once_in_order(
        server, alice_token, bob_token, tmp_path):
    tokens = {"alice": alice_token, "bob": bob_token}
    since = {owner: await _latest_cursor(server.url, t) for owner, t in tokens.items()}
    ids: dict[str, set[str]] = {owner: set() for owner in tokens}
    http = {owner: httpx.AsyncClient(base_url=server.url, headers=auth(t), timeout=60)
            for owner, t in tokens.items()}
    try:
        readies: list[asyncio.Event] = []
        clients: list[tuple[str, str, asyncio.Task]] = []
        for owner, token in tokens.items():
            def done(evs, owner=owner):
                return bool(ids[owner]) and all_terminal(ids[owner])(evs)
            for _ in range(SSE_PER_OWNER):
                ready = asyncio.Event()
                readies.append(ready)
                clients.append((owner, "sse", asyncio.create_task(collect_sse(
                    http[owner], done, params={"since": str(since[owner])}, ready=ready,
                    timeout_s=180))))
            for _ in range(WS_PER_OWNER):
                ready = asyncio.Event()
                readies.append(ready)
                clients.append((owner, "ws", asyncio.create_task(collect_ws(
                    server.url, done, token=token, query=f"&since={since[owner]}", ready=ready,
                    timeout_s=180))))
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)

        async def send(owner: str, i: int) -> None:
            path = make_text(tmp_path / f"{owner}-{i}.txt", f"Note {i} of {owner} about the budget.")
            response = await upload(http[owner], [path])
            ids[owner].add(response.json()["results"][0]["document"]["id"])

        # Both owners upload at once, each document on its own, so their events interleave.
        await asyncio.gather(*(send(o, i) for o in tokens for i in range(DOCS_PER_OWNER)))
        received = [(owner, kind, await task) for owner, kind, task in clients]

        for owner in tokens:
            history = await collect_sse(http[owner], all_terminal(ids[owner]),
                                        params={"since": str(since[owner])})
            assert {e["document_id"] for e in history} == ids[owner]
            assert [e["cursor"] for e in history] == list(
                range(since[owner] + 1, since[owner] + 1 + len(history)))
            for who, kind, events in received:
                if who == owner:
                    assert _without_type(events) == history, f"a {kind} client of {owner}"
    finally:
        for client in http.values():
            await client.aclose()
