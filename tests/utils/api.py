"""HTTP, SSE and WebSocket helpers for tests that talk to a real server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import websockets
from httpx_sse import aconnect_sse

__all__ = [
    "assert_ordered_lifecycle",
    "auth",
    "collect_sse",
    "collect_ws",
    "login",
    "upload",
    "wait_until_terminal",
]

TERMINAL = {"completed", "failed"}
LIFECYCLE = ["pending", "processing", "analyzing", "completed"]


def login(url: str, username: str, password: str) -> str:
    response = httpx.post(f"{url}/auth/login", json={"username": username, "password": password})
    response.raise_for_status()
    return str(response.json()["access_token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def upload(
    client: httpx.AsyncClient, paths: Iterable[Path], **data: str
) -> httpx.Response:
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    return await client.post("/documents/upload", files=files, data=data)


def all_terminal(ids: set[str]) -> Callable[[list[dict[str, Any]]], bool]:
    def done(events: list[dict[str, Any]]) -> bool:
        finished = {e["document_id"] for e in events if e["status"] in TERMINAL}
        return ids <= finished
    return done


#: How often a collector asks ``until`` again between events.
_RECHECK_S = 0.25


Events = list[dict[str, Any]]


async def _read_until(read: Callable[[], Awaitable[None]], events: Events,
                      until: Callable[[Events], bool], timeout_s: float) -> Events:
    """Run ``read`` (which appends events and returns when ``until`` holds at one) and ask
    ``until`` again every quarter second: a condition may rest on what the test learnt after the
    events came (the ids an upload answered with, when the documents finished before the answer
    reached the client), and no further event would ask it."""
    async def watch() -> None:
        reader = asyncio.ensure_future(read())
        try:
            while not reader.done():
                await asyncio.wait({reader}, timeout=_RECHECK_S)
                if not reader.done() and events and until(events):
                    return
            reader.result()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    await asyncio.wait_for(watch(), timeout_s)
    return events


async def collect_sse(
    client: httpx.AsyncClient,
    until: Callable[[list[dict[str, Any]]], bool],
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    ready: asyncio.Event | None = None,
    timeout_s: float = 90,
) -> list[dict[str, Any]]:
    """Status events from ``/documents/stream`` until ``until(events)`` holds."""
    events: list[dict[str, Any]] = []

    async def run() -> None:
        async with aconnect_sse(
            client, "GET", "/documents/stream", headers=dict(headers or {}), params=params,
            timeout=httpx.Timeout(timeout_s, connect=10),
        ) as source:
            assert source.response.status_code == 200, await source.response.aread()
            if ready is not None:
                ready.set()
            async for sse in source.aiter_sse():
                if sse.event != "status":
                    continue
                event = json.loads(sse.data)
                assert sse.id == str(event["cursor"])
                events.append(event)
                if until(events):
                    return

    return await _read_until(run, events, until, timeout_s)


async def collect_ws(
    url: str,
    until: Callable[[list[dict[str, Any]]], bool],
    *,
    token: str | None = None,
    first_message: dict[str, Any] | None = None,
    query: str = "",
    ready: asyncio.Event | None = None,
    timeout_s: float = 90,
) -> list[dict[str, Any]]:
    """Status messages from ``/ws`` until ``until(events)`` holds."""
    ws_url = url.replace("http://", "ws://") + "/ws" + (f"?token={token}" if token else "") + query
    events: list[dict[str, Any]] = []

    async def run() -> None:
        async with websockets.connect(ws_url) as ws:
            if first_message is not None:
                await ws.send(json.dumps(first_message))
            hello = json.loads(await ws.recv())
            assert hello["type"] == "ready", hello
            if ready is not None:
                ready.set()
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] != "status":
                    continue
                events.append(message)
                if until(events):
                    return

    return await _read_until(run, events, until, timeout_s)


async def wait_until_terminal(
    client: httpx.AsyncClient, document_id: str, timeout_s: float = 90
) -> dict[str, Any]:
    """Poll a document until it is completed or failed; returns its detail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            response = await client.get(f"/documents/{document_id}")
        except httpx.RemoteProtocolError:
            # A kept-alive connection the server closed as the request left: poll again.
            await asyncio.sleep(0.05)
            continue
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body["status"] in TERMINAL:
            return body
        if loop.time() > deadline:
            raise AssertionError(f"{document_id} still {body['status']} after {timeout_s}s")
        await asyncio.sleep(0.05)


def assert_ordered_lifecycle(events: list[dict[str, Any]], ids: set[str]) -> None:
    """Each document's events: contiguous seq, forward-only statuses, unique progress,
    ending completed with its analysis; cursors strictly increasing over the stream."""
    by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_doc[e["document_id"]].append(e)
    assert set(by_doc) == ids
    for doc_id, evs in by_doc.items():
        seqs = [e["seq"] for e in evs]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (doc_id, seqs)
        statuses = [e["status"] for e in evs]
        ranks = [LIFECYCLE.index(s) for s in statuses]
        assert ranks == sorted(ranks), statuses
        assert statuses[-1] == "completed", evs[-1]
        # Retry notices (``attempt``) repeat the status without a progress step.
        progress = [e["progress"]["done"] for e in evs
                    if e["status"] == "analyzing" and e["progress"] is not None]
        assert progress == sorted(progress) and len(set(progress)) == len(progress), progress
        final = evs[-1]
        assert final["progress"]["done"] == final["progress"]["total"]
        assert final["analysis"]["summary"]
        assert {"document_id", "status", "stage", "seq", "timestamp", "cursor"} <= set(final)
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
