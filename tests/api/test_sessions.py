"""Password guessing is slowed down without locking the real user out; a logout revokes at once."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from httpx_sse import aconnect_sse

from tests.utils.api import auth, login


async def _login(c: httpx.AsyncClient, user: str, password: str) -> httpx.Response:
    return await c.post("/auth/login", json={"username": user, "password": password})


async def test_repeated_failed_logins_get_429_with_retry_after_then_the_user_gets_in(server):
    async with httpx.AsyncClient(base_url=server.url) as c:
        codes = [(await _login(c, "bob", f"guess-{i}")).status_code for i in range(6)]
        assert codes == [401] * 6
        throttled = await _login(c, "bob", "bob-pw")  # even the right password waits its turn
        assert throttled.status_code == 429, throttled.text
        wait_s = int(throttled.headers["Retry-After"])
        assert 1 <= wait_s <= 60 and f"{wait_s} s" in throttled.json()["detail"]
        await asyncio.sleep(wait_s)
        assert (await _login(c, "bob", "bob-pw")).status_code == 200
        # The success cleared bob's count: one more mistake is an ordinary 401.
        assert (await _login(c, "bob", "typo")).status_code == 401
        # Another user from the same client is not held up by bob's guesser.
        assert (await _login(c, "alice", "alice-pw")).status_code == 200


async def test_logout_revokes_the_token_on_http_sse_and_websocket_at_once(server):
    token = login(server.url, "alice", "alice-pw")
    other = login(server.url, "alice", "alice-pw")
    ws_url = server.url.replace("http://", "ws://") + f"/ws?token={token}"
    async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=30) as c:
        assert (await c.get("/documents")).status_code == 200
        async with websockets.connect(ws_url) as ws, aconnect_sse(
            c, "GET", "/documents/stream", timeout=httpx.Timeout(30, connect=5)
        ) as source:
            assert json.loads(await ws.recv())["type"] == "ready"
            assert source.response.status_code == 200
            assert (await c.post("/auth/logout")).status_code == 204

            async def sse_error() -> str:
                async for sse in source.aiter_sse():
                    if sse.event == "error":
                        return str(json.loads(sse.data)["detail"])
                return ""

            assert "revoked" in await asyncio.wait_for(sse_error(), 10)

            async def ws_error() -> dict:
                while (message := json.loads(await ws.recv()))["type"] != "error":
                    pass
                return message

            assert "revoked" in (await asyncio.wait_for(ws_error(), 10))["detail"]
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        for token_ in (token, other):  # every session of the user ends
            r = await c.get("/documents", headers=auth(token_))
            assert r.status_code == 401 and "revoked" in r.json()["detail"]
        r = await c.get("/documents/stream", headers=auth(token))
        assert r.status_code == 401
        async with websockets.connect(ws_url) as ws:
            assert json.loads(await ws.recv())["type"] == "error"
        fresh = login(server.url, "alice", "alice-pw")  # logging in again works
        assert (await c.get("/documents", headers=auth(fresh))).status_code == 200
