"""Hostile requests get a 4xx that says what to fix, never a 500 or a dead stream (issue 12)."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from tests.utils.hostile import make_nested_pdf

#: The interview fixture waits for two documents to go through the pipeline.
pytestmark = pytest.mark.timeout(300)


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


# --- WebSocket messages: whatever a client sends, it gets a reason, never a dropped connection ---

_DEEP_JSON = "[" * 100_000 + "]" * 100_000  # valid JSON that Python's parser cannot nest
_NOT_A_MESSAGE = {"binary frame": b'{"token": "x"}', "deeply nested JSON": _DEEP_JSON,
                  "over 256 KB": '{"token": "' + "x" * (300 << 10) + '"}'}


async def _error_then_close(ws: websockets.ClientConnection) -> tuple[dict, int | None]:
    """The error message the server sends, then the close code it closes with."""
    message = json.loads(await ws.recv())
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await ws.recv()
    return message, closed.value.rcvd.code if closed.value.rcvd is not None else None


@pytest.mark.parametrize("kind", list(_NOT_A_MESSAGE))
async def test_a_ws_first_message_that_is_not_a_json_object_is_refused_with_a_reason(server, kind):
    # It used to end the connection without a close frame (KeyError / RecursionError).
    async with websockets.connect(server.url.replace("http://", "ws://") + "/ws", max_size=None) as ws:
        await ws.send(_NOT_A_MESSAGE[kind])
        message, code = await _error_then_close(ws)
    assert message["type"] == "error" and "token" in message["detail"], message
    assert code == 1008


async def test_a_ws_frame_far_over_the_limit_is_refused_before_it_is_held(server):
    # Frames were read whole up to uvicorn's 16 MiB before the 256 KB check could refuse them.
    async with websockets.connect(server.url.replace("http://", "ws://") + "/ws", max_size=None) as ws:
        await ws.send('{"token": "' + "x" * (4 << 20) + '"}')
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big


@pytest.fixture(scope="module")
def interview(server, alice_token) -> str:
    """An interview session of alice's (its documents processed once for the module)."""
    import asyncio
    from pathlib import Path

    from tests.utils.api import auth, upload, wait_until_terminal

    data = Path(__file__).parents[1] / "data" / "interviews"

    async def create() -> str:
        async with httpx.AsyncClient(base_url=server.url, headers=auth(alice_token), timeout=60) as c:
            r = await upload(c, [data / "backend-engineer-jd.md", data / "maria-resume.txt"])
            jd, resume = (x["document"]["id"] for x in r.json()["results"])
            for doc_id in (jd, resume):
                assert (await wait_until_terminal(c, doc_id, timeout_s=180))["status"] == "completed"
            r = await c.post("/interviews", json={"job_description_id": jd, "resume_id": resume,
                                                  "provider": "local"})
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

    return asyncio.run(create())


def _interview_url(server, session_id: str, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + f"/interviews/{session_id}/ws{query}"


@pytest.mark.parametrize("kind", list(_NOT_A_MESSAGE))
async def test_a_bad_interview_message_gets_a_reason_and_the_socket_goes_on(
    server, alice_token, interview, kind
):
    async with websockets.connect(_interview_url(server, interview, f"?token={alice_token}"),
                                  max_size=None) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        await ws.send(_NOT_A_MESSAGE[kind])
        while (message := json.loads(await asyncio_wait(ws.recv())))["type"] != "error":
            pass
        assert "JSON object" in message["detail"] or "256 KB" in message["detail"], message
        await ws.send(json.dumps({"type": "dance"}))  # still listening: the next message is answered
        while (message := json.loads(await asyncio_wait(ws.recv())))["type"] != "error":
            pass
        assert "Unknown message type" in message["detail"], message


@pytest.mark.parametrize("kind", list(_NOT_A_MESSAGE))
async def test_a_bad_first_interview_message_is_refused_with_a_reason(server, interview, kind):
    async with websockets.connect(_interview_url(server, interview), max_size=None) as ws:
        await ws.send(_NOT_A_MESSAGE[kind])
        message, code = await _error_then_close(ws)
    assert message["type"] == "error" and "token" in message["detail"], message
    assert code == 4401


@pytest.mark.parametrize("since", [str(10**30), "999999", "-1", "abc", "1.5"])
async def test_an_interview_cursor_beyond_what_exists_gets_an_error_and_1008(
    server, alice_token, interview, since
):
    # ?since=abc used to fail the handshake with a bare 403; a cursor past the last message
    # was taken silently and a negative one replayed everything.
    async with websockets.connect(_interview_url(server, interview,
                                                 f"?token={alice_token}&since={since}")) as ws:
        message, code = await _error_then_close(ws)
    assert message["type"] == "error" and "since" in message["detail"], message
    assert code == 1008


@pytest.mark.parametrize("since", [10**30, -1, "3", True])
async def test_an_interview_first_message_with_a_bad_cursor_is_refused(server, alice_token, interview, since):
    async with websockets.connect(_interview_url(server, interview)) as ws:
        await ws.send(json.dumps({"token": alice_token, "since": since}))
        message, code = await _error_then_close(ws)
    assert message["type"] == "error" and "since" in message["detail"], message
    assert code == 1008


async def test_an_interview_cursor_in_range_resumes(server, alice_token, interview):
    async with websockets.connect(_interview_url(server, interview, f"?token={alice_token}&since=0")) as ws:
        ready = json.loads(await ws.recv())
        assert ready["type"] == "ready", ready
        first = json.loads(await asyncio_wait(ws.recv()))
        assert first.get("seq") == 1, first  # since=0: everything from the first message


async def asyncio_wait(awaitable, timeout_s: float = 15):
    import asyncio

    return await asyncio.wait_for(awaitable, timeout_s)


@pytest.mark.parametrize("body", [b'{"username":', b"username=alice", b"\xff\xfe", b'{"username": "a", }'])
async def test_a_body_that_is_not_json_is_told_so_in_plain_words(server, body):
    # It said "12: JSON decode error": a parser's position and message, not what to fix.
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    detail = r.json()["detail"]
    assert "not valid JSON" in detail and "decode error" not in detail, detail


@pytest.mark.parametrize("body", [b'"alice"', b"[1, 2]", b"null"])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
async def test_a_body_that_is_not_a_json_object_is_told_what_to_send(server, body, content_type):
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post("/auth/login", content=body, headers={"Content-Type": content_type})
    assert r.status_code == 422, r.text
    assert "JSON object" in r.json()["detail"], r.text
