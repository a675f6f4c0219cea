"""Who may call what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
import websockets

from tests.utils.server import JWT_SECRET


async def test_login_returns_a_one_hour_bearer_token(server):
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/auth/login", json={"username": "alice", "password": "alice-pw"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["role"] == "user"
    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert 3590 <= claims["exp"] - claims["iat"] <= 3600


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong"), ("nobody", "alice-pw")])
async def test_wrong_credentials_are_refused_the_same_way(server, username, password):
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/auth/login", json={"username": username, "password": password})
    assert r.status_code == 401
    assert r.json()["detail"] == "Wrong username or password."


async def test_login_without_fields_says_what_is_missing(server):
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/auth/login", json={"username": "alice"})
    assert r.status_code == 422
    assert "password" in r.json()["detail"]


def _token(**overrides: object) -> str:
    now = datetime.now(UTC)
    claims = {"sub": "alice", "role": "user", "iat": now, "exp": now + timedelta(hours=1)}
    claims.update(overrides)
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("headers", "hint"),
    [
        ({}, "Authorization"),
        ({"Authorization": "Bearer not-a-jwt"}, "not valid"),
        ({"Authorization": f"Bearer {_token(exp=datetime.now(UTC) - timedelta(minutes=1))}"}, "expired"),
        ({"Authorization": f"Bearer {jwt.encode({'sub': 'alice', 'exp': 9999999999}, 'x' * 40)}"},
         "not valid"),
        ({"Authorization": f"Bearer {_token(sub='mallory')}"}, "no longer exists"),
    ],
    ids=["missing", "garbage", "expired", "wrong-key", "unknown-user"],
)
@pytest.mark.parametrize(
    "path", ["/documents", "/documents/abc", "/documents/abc/status", "/documents/stream"]
)
async def test_every_endpoint_needs_a_valid_token(server, headers, hint, path):
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.get(path, headers=headers)
    assert r.status_code == 401
    assert hint in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"


async def test_upload_and_delete_need_a_token(server):
    async with httpx.AsyncClient(base_url=server.url) as c:
        up = await c.post("/documents/upload", files=[("files", ("a.txt", b"hello"))])
        rm = await c.delete("/documents/abc")
    assert up.status_code == 401 and rm.status_code == 401


async def test_websocket_refuses_a_bad_token_with_a_reason(server):
    url = server.url.replace("http://", "ws://") + "/ws?token=nope"
    async with websockets.connect(url) as ws:
        message = await ws.recv()
        assert "not valid" in message
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 1008
