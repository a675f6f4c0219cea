"""Hostile requests get a 4xx that says what to fix, never a 500 or a dead stream (issue 12)."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from tests.utils.hostile import make_nested_pdf


async def test_an_offset_beyond_any_integer_is_a_422_with_the_range(alice):
    for offset in (2**63, 10**30, 10**6 + 1):
        r = await alice.get("/documents", params={"offset": str(offset)})
        assert r.status_code == 422, (offset, r.text)
        assert "offset" in r.json()["detail"]


@pytest.mark.parametrize("where", ["since", "Last-Event-ID"])
@pytest.mark.parametrize("value", [str(10**30), str(2**63), "999999", "9" * 5000, "1.5", "-0x1"])
async def test_a_stream_cursor_beyond_what_exists_is_a_400_that_says_what_to_send(
    alice, where, value
):
    kwargs = ({"params": {"since": value}} if where == "since"
              else {"headers": {"Last-Event-ID": value}})
    r = await alice.get("/documents/stream", **kwargs)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert where in detail and ("0" in detail or "newest" in detail), detail


@pytest.mark.parametrize("query", [f"&since={10**30}", "&since=999999", "&since=abc", "&since=-1"])
async def test_a_websocket_cursor_beyond_what_exists_gets_an_error_and_a_close_code(
    server, alice_token, query
):
    url = server.url.replace("http://", "ws://") + f"/ws?token={alice_token}{query}"
    async with websockets.connect(url) as ws:
        message = json.loads(await ws.recv())
        assert message["type"] == "error" and "since" in message["detail"], message
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


@pytest.mark.parametrize("first", [{"since": 10**30}, {"since": True}, {"since": "7"}, [1, 2], 42])
async def test_a_websocket_first_message_with_a_bad_cursor_is_refused(server, alice_token, first):
    url = server.url.replace("http://", "ws://") + "/ws"
    async with websockets.connect(url) as ws:
        body = {"token": alice_token, **first} if isinstance(first, dict) else first
        await ws.send(json.dumps(body))
        message = json.loads(await ws.recv())
        assert message["type"] == "error", message
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


@pytest.mark.parametrize("username", ["alice", "nobody"])
@pytest.mark.parametrize("length", [72, 73, 200, 1024])
async def test_long_passwords_are_refused_as_wrong_not_as_a_crash(server, username, length):
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/auth/login", json={"username": username, "password": "é" * length})
    assert r.status_code == 401, r.text


@pytest.mark.parametrize(("size", "code"), [(4096, 422), (1 << 20, 413)])
async def test_a_huge_password_is_a_4xx_with_the_limit(server, size, code):
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/auth/login", json={"username": "alice", "password": "x" * size})
    assert r.status_code == code, r.text
    assert "password" in r.json()["detail"] or "MB" in r.json()["detail"]


async def test_a_lone_surrogate_in_a_password_is_not_a_crash(server):
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/auth/login", content=b'{"username": "alice", "password": "\\ud800"}',
                         headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "password" in r.json()["detail"], r.text


async def test_a_form_without_a_file_says_to_send_files_in_plain_words(alice):
    # Multipart, but 'files' is a plain field: what a form whose file input was left empty sends.
    r = await alice.post("/documents/upload", files={"files": (None, "not a file")})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "files" in detail and "class" not in detail and "UploadFile" not in detail, detail


async def test_an_upload_that_is_not_multipart_is_told_to_be(alice):
    r = await alice.post("/documents/upload", json={"files": []})
    assert r.status_code == 422, r.text
    assert "multipart/form-data" in r.json()["detail"]
    r = await alice.post("/documents/upload", data={"files": "not a file"})
    assert r.status_code == 422 and "multipart/form-data" in r.json()["detail"], r.text


async def test_a_pdf_of_deeply_nested_objects_is_called_damaged_not_scanned(alice, tmp_path):
    from tests.utils.api import upload, wait_until_terminal

    path = make_nested_pdf(tmp_path / "nested.pdf", depth=100_000)
    r = await upload(alice, [path])
    if r.status_code != 202:  # refused at upload: fine, if it says why
        assert "scanned" not in r.text
        return
    doc = r.json()["results"][0]["document"]
    detail = await wait_until_terminal(alice, doc["id"])
    assert detail["status"] == "failed"
    assert "scanned" not in detail["error"] and "nested" in detail["error"], detail["error"]
