"""Resuming streams, heartbeats and cleanup of disconnected clients."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets
from httpx_sse import aconnect_sse

from tests.utils.api import all_terminal, collect_sse, collect_ws, upload, wait_until_terminal
from tests.utils.documents import make_report_pdf, make_text
from tests.utils.waiting import eventually


async def _finished_docs(client, tmp_path, n=3):
    ids = []
    for i in range(n):
        path = tmp_path / f"r{i}.pdf"
        make_report_pdf(path, n_pages=3)
        ids.append((await upload(client, [path])).json()["results"][0]["document"]["id"])
    for doc_id in ids:
        await wait_until_terminal(client, doc_id)
    return set(ids)


async def test_last_event_id_resumes_with_nothing_lost_or_repeated(alice, tmp_path):
    ids = await _finished_docs(alice, tmp_path)
    everything = await collect_sse(alice, all_terminal(ids), params={"since": "0"})
    mine = [e for e in everything if e["document_id"] in ids]
    assert len(mine) >= 3 * 4

    # Read part of the stream, "drop", and come back with the last id seen.
    cut = everything.index(mine[len(mine) // 2])
    first = await collect_sse(alice, lambda evs: len(evs) == cut + 1, params={"since": "0"})
    last_id = str(first[-1]["cursor"])
    final = everything[-1]["cursor"]
    rest = await collect_sse(alice, lambda evs: evs[-1]["cursor"] >= final,
                             headers={"Last-Event-ID": last_id})
    assert first + rest == everything
    assert rest[0]["cursor"] == int(last_id) + 1


async def test_websocket_resumes_with_since(alice, server, alice_token, tmp_path):
    ids = await _finished_docs(alice, tmp_path, n=2)
    everything = await collect_ws(server.url, all_terminal(ids), token=alice_token, query="&since=0")
    middle = everything[len(everything) // 2]["cursor"]
    final = everything[-1]["cursor"]
    rest = await collect_ws(server.url, lambda evs: evs[-1]["cursor"] >= final,
                            token=alice_token, query=f"&since={middle}")
    assert rest == [e for e in everything if e["cursor"] > middle]


async def test_a_bad_last_event_id_is_a_clear_400(alice):
    r = await alice.get("/documents/stream", headers={"Last-Event-ID": "yesterday"})
    assert r.status_code == 400
    assert "Last-Event-ID" in r.json()["detail"]


async def test_idle_connections_get_heartbeats(alice, server, alice_token):
    # The test server sends heartbeats every second (DOCLANE_HEARTBEAT_S=1).
    async def first_sse_comment() -> str:
        async with alice.stream("GET", "/documents/stream") as response:
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    return line
        return ""

    assert "ping" in await asyncio.wait_for(first_sse_comment(), 10)
    url = server.url.replace("http://", "ws://") + f"/ws?token={alice_token}"
    async with websockets.connect(url) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message == {"type": "heartbeat"}


async def test_a_disconnected_client_is_forgotten(alice, server, alice_token):
    async def clients() -> int:
        async with httpx.AsyncClient(base_url=server.url) as c:
            return int((await c.get("/ready")).json()["stream_clients"])

    await eventually(lambda: _equals(clients(), 0), what="no clients at start")
    async with aconnect_sse(alice, "GET", "/documents/stream") as source:
        assert source.response.status_code == 200
        await eventually(lambda: _equals(clients(), 1), what="one client")
    await eventually(lambda: _equals(clients(), 0), what="client released after SSE disconnect")

    url = server.url.replace("http://", "ws://") + f"/ws?token={alice_token}"
    async with websockets.connect(url) as ws:
        await ws.recv()
        await eventually(lambda: _equals(clients(), 1), what="one WS client")
    await eventually(lambda: _equals(clients(), 0), what="client released after WS close")


async def _equals(value, expected) -> bool:
    return await value == expected


async def test_a_new_connection_without_a_cursor_starts_from_now(alice, tmp_path):
    old = await _finished_docs(alice, tmp_path, n=1)
    ready = asyncio.Event()
    new: set[str] = set()
    watcher = asyncio.create_task(collect_sse(
        alice, lambda evs: bool(new) and all_terminal(new)(evs), ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    path = make_text(tmp_path / "fresh.txt", "A fresh note.")
    fresh = (await upload(alice, [path])).json()["results"][0]["document"]["id"]
    # the watcher learns which document to wait for only once it has finished: all its events
    # came before (as they may when a small note beats the upload's answer to the client)
    await wait_until_terminal(alice, fresh)
    new.add(fresh)
    events = await watcher
    assert not {e["document_id"] for e in events} & old


async def test_replay_is_not_held_up_by_gaps_that_deleted_documents_leave(alice, tmp_path):
    ids = await _finished_docs(alice, tmp_path, n=4)
    for doc_id in list(ids)[:3]:
        assert (await alice.delete(f"/documents/{doc_id}")).status_code == 204
    kept = set(list(ids)[3:])
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = await collect_sse(alice, all_terminal(kept), params={"since": "0"}, timeout_s=30)
    assert loop.time() - started < 1.5  # a wait per gap would take 2 s each
    assert not {e["document_id"] for e in events} & (ids - kept)
