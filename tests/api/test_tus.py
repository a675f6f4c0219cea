"""Resumable uploads (tus 1.0) against a real server, driven by the real tus client (tuspy)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError

from tests.utils.api import auth, login, wait_until_terminal
from tests.utils.server import USERS, ServerProcess
from tests.utils.waiting import eventually

#: Each test waits on real documents going through a real pipeline, on a machine others share.
pytestmark = pytest.mark.timeout(300)
_TUS = {"Tus-Resumable": "1.0.0"}
_KB = 1 << 10
#: Limits small enough to reach in a test: 1 MB per upload, 3 open uploads or 2.5 MB per user.
_LIMITS = {"DOCLANE_MAX_RESUMABLE_MB": "1", "DOCLANE_RESUMABLE_MAX_OPEN": "3",
           "DOCLANE_RESUMABLE_MAX_OPEN_MB": "2.5"}


def _server(root: Path, env: dict[str, str]) -> ServerProcess:
    # carol has her own quota to fill; INFO logs say when a cut PATCH was handled.
    return ServerProcess(root / "data", env={
        "DOCLANE_USERS": USERS + ",carol:carol-pw:user", "DOCLANE_SEARCH_ENABLED": "false",
        "DOCLANE_LOG_LEVEL": "INFO", **env})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = _server(tmp_path_factory.mktemp("tus"), _LIMITS)
    with proc:
        yield proc


@pytest.fixture(scope="module")
def tokens(server: ServerProcess) -> dict[str, str]:
    return {name: login(server.url, name, f"{name}-pw") for name in ("alice", "bob", "carol")}


@pytest.fixture
def report(tmp_path: Path) -> Path:
    """A ~130 KB text document of its own whose every line differs, so a misplaced byte would show."""
    path = tmp_path / "quarterly report.txt"
    tag = uuid.uuid4().hex[:8]
    path.write_text("".join(f"Line {i} of {tag}: revenue in region {i % 7} grew by {i % 13} percent.\n"
                            for i in range(2000)))
    return path


def _tus(server: ServerProcess, token: str) -> TusClient:
    return TusClient(f"{server.url}/uploads/", headers=auth(token))


def _head(server: ServerProcess, token: str, url: str) -> httpx.Response:
    return httpx.head(url, headers={**auth(token), **_TUS})


def _create(server: ServerProcess, token: str, length: int, name: str = "notes.txt") -> httpx.Response:
    meta = f"filename {base64.b64encode(name.encode()).decode()}"
    return httpx.post(f"{server.url}/uploads/", headers={
        **auth(token), **_TUS, "Upload-Length": str(length), "Upload-Metadata": meta})


def _patch(url: str, token: str, offset: int, body: bytes, **headers: str) -> httpx.Response:
    return httpx.patch(url, content=body, headers={
        **auth(token), **_TUS, "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream", **headers})


def _stored_bytes(server: ServerProcess, document_id: str) -> bytes:
    files = list((server.data_dir / "uploads" / document_id).iterdir())
    assert len(files) == 1, files
    return files[0].read_bytes()


def _partial_files(server: ServerProcess) -> list[Path]:
    return list((server.data_dir / "uploads" / ".tus").glob("*/*.part"))


async def test_the_server_says_what_it_supports(server):
    r = httpx.options(f"{server.url}/uploads/")
    assert r.status_code == 204
    assert r.headers["Tus-Resumable"] == "1.0.0" and r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) == {"creation", "termination", "expiration"}
    assert int(r.headers["Tus-Max-Size"]) == 1 << 20


async def test_a_complete_upload_becomes_a_completed_document(server, tokens, report):
    uploader = _tus(server, tokens["alice"]).uploader(
        str(report), chunk_size=40 * _KB, metadata={"filename": report.name, "priority": "low"})
    await asyncio.to_thread(uploader.upload)
    document_id = uploader.request.response_headers["doclane-document-id"]
    # HEAD names the document too, for a client that lost the last answer.
    head = _head(server, tokens["alice"], uploader.url)
    assert head.status_code == 200 and head.headers["Doclane-Document-Id"] == document_id
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(report.stat().st_size)
    assert head.headers["Cache-Control"] == "no-store"
    async with httpx.AsyncClient(base_url=server.url, headers=auth(tokens["alice"])) as alice:
        doc = await wait_until_terminal(alice, document_id)
    assert doc["status"] == "completed", doc
    assert doc["filename"] == report.name and doc["priority"] == "low"
    assert doc["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert doc["analysis"]["summary"]
    assert doc["history"][0]["status"] == "pending"
    assert _stored_bytes(server, document_id) == report.read_bytes()
    assert not _partial_files(server)  # moved into the document's folder, not copied


async def test_first_chunks_then_a_new_client_resumes_from_the_servers_offset(server, tokens, report):
    first = _tus(server, tokens["alice"]).uploader(
        str(report), chunk_size=32 * _KB, metadata={"filename": report.name})
    await asyncio.to_thread(first.upload_chunk)
    await asyncio.to_thread(first.upload_chunk)
    assert first.offset == 64 * _KB
    # A new process knows only the URL: it asks the server where to go on.
    second = _tus(server, tokens["alice"]).uploader(str(report), url=first.url, chunk_size=48 * _KB)
    assert second.offset == 64 * _KB
    await asyncio.to_thread(second.upload)
    document_id = second.request.response_headers["doclane-document-id"]
    async with httpx.AsyncClient(base_url=server.url, headers=auth(tokens["alice"])) as alice:
        assert (await wait_until_terminal(alice, document_id))["status"] == "completed"
    assert _stored_bytes(server, document_id) == report.read_bytes()


async def _cut_patch(server: ServerProcess, url: str, token: str, body: bytes, send: int) -> None:
    """A PATCH whose connection drops after ``send`` of its ``len(body)`` bytes reached the disk."""
    parts = urlsplit(url)
    upload_id = parts.path.rsplit("/", 1)[1]

    def on_disk() -> int:
        return sum(p.stat().st_size for p in _partial_files(server) if p.stem == upload_id)

    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall((f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                      f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                      "Content-Type: application/offset+octet-stream\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:send])
        # Bytes still in the server's socket buffer when a connection drops are lost,
        # as on any network: cut once those sent are stored, like a cable pulled mid-file.
        await eventually(lambda: on_disk() == send, what="the first half on the server's disk")


async def test_a_patch_cut_halfway_keeps_what_arrived_and_the_upload_resumes(server, tokens, report):
    data = report.read_bytes()
    created = _create(server, tokens["alice"], len(data), report.name)
    assert created.status_code == 201, created.text
    url = f"{server.url}{created.headers['Location']}"
    upload_id = created.headers["Location"].rsplit("/", 1)[1]
    await _cut_patch(server, url, tokens["alice"], data, len(data) // 2)
    await eventually(lambda: f"upload {upload_id}: client went away" in server.log_text(),
                     what="the server to notice the cut connection")
    offset = int(_head(server, tokens["alice"], url).headers["Upload-Offset"])
    assert offset == len(data) // 2
    resumed = _tus(server, tokens["alice"]).uploader(str(report), url=url)
    assert resumed.offset == offset
    await asyncio.to_thread(resumed.upload)
    document_id = resumed.request.response_headers["doclane-document-id"]
    async with httpx.AsyncClient(base_url=server.url, headers=auth(tokens["alice"])) as alice:
        assert (await wait_until_terminal(alice, document_id))["status"] == "completed"
    assert _stored_bytes(server, document_id) == data


async def test_a_wrong_offset_or_content_type_or_version_is_refused(server, tokens):
    alice = tokens["alice"]
    url = f"{server.url}{_create(server, alice, 10 * _KB).headers['Location']}"
    assert _patch(url, alice, 0, b"a" * _KB).status_code == 204
    stale = _patch(url, alice, 0, b"a" * _KB)
    assert stale.status_code == 409 and "1024" in stale.json()["detail"]
    assert stale.headers["Tus-Resumable"] == "1.0.0"
    wrong_type = _patch(url, alice, _KB, b"a", **{"Content-Type": "application/octet-stream"})
    assert wrong_type.status_code == 415 and "offset+octet-stream" in wrong_type.json()["detail"]
    old = httpx.head(url, headers={**auth(alice), "Tus-Resumable": "0.2.2"})
    assert old.status_code == 412 and old.headers["Tus-Version"] == "1.0.0"
    past_end = _patch(url, alice, _KB, b"a" * 10 * _KB)
    assert past_end.status_code == 413 and "Upload-Length" in past_end.json()["detail"]
    # None of the refused PATCHes moved the offset.
    assert _head(server, alice, url).headers["Upload-Offset"] == str(_KB)
    httpx.delete(url, headers={**auth(alice), **_TUS})


async def test_another_users_upload_is_not_found(server, tokens):
    url = f"{server.url}{_create(server, tokens['alice'], 10 * _KB).headers['Location']}"
    assert _patch(url, tokens["alice"], 0, b"a" * _KB).status_code == 204
    assert _head(server, tokens["bob"], url).status_code == 404
    assert _patch(url, tokens["bob"], _KB, b"b" * _KB).status_code == 404
    assert httpx.delete(url, headers={**auth(tokens["bob"]), **_TUS}).status_code == 404
    assert _head(server, tokens["alice"], url).headers["Upload-Offset"] == str(_KB)
    assert httpx.head(url, headers=_TUS).status_code == 401
    httpx.delete(url, headers={**auth(tokens["alice"]), **_TUS})


async def test_quota_of_open_uploads_and_bytes_and_delete_frees_it(server, tokens):
    carol = tokens["carol"]
    too_big = _create(server, carol, (1 << 20) + 1)
    assert too_big.status_code == 413 and "1 MB" in too_big.json()["detail"]
    first, second = _create(server, carol, 1 << 20), _create(server, carol, 1 << 20)
    assert first.status_code == second.status_code == 201
    over_bytes = _create(server, carol, 1 << 20)
    assert over_bytes.status_code == 413 and "2.5 MB allowance" in over_bytes.json()["detail"]
    assert _create(server, carol, 100 * _KB).status_code == 201
    over_count = _create(server, carol, 1)
    assert over_count.status_code == 429 and "3 unfinished" in over_count.json()["detail"]
    assert _create(server, tokens["bob"], 1).status_code == 201  # the quota is carol's alone
    url = f"{server.url}{first.headers['Location']}"
    deleted = httpx.delete(url, headers={**auth(carol), **_TUS})
    assert deleted.status_code == 204 and deleted.headers["Tus-Resumable"] == "1.0.0"
    assert _head(server, carol, url).status_code == 404
    assert _create(server, carol, 1 << 20).status_code == 201


async def test_a_finished_upload_of_an_unsupported_type_is_refused_with_the_reason(server, tokens):
    alice = tokens["alice"]
    junk = bytes(range(256)) * 40  # binary, not any supported format
    url = f"{server.url}{_create(server, alice, len(junk), 'image.bin').headers['Location']}"
    refused = _patch(url, alice, 0, junk)
    assert refused.status_code == 415, refused.text
    assert "Upload a Word" in refused.json()["detail"]
    assert _head(server, alice, url).status_code == 404


@pytest.fixture(scope="module")
def expiring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = _server(tmp_path_factory.mktemp("tus-expiry"),
                   {"DOCLANE_RESUMABLE_EXPIRY_S": "3", "DOCLANE_RESUMABLE_SWEEP_S": "0.2"})
    with proc:
        yield proc


async def test_an_abandoned_upload_is_swept_away(expiring):
    token = login(expiring.url, "alice", "alice-pw")
    created = _create(expiring, token, 10 * _KB)
    expires = created.headers["Upload-Expires"]
    assert expires.endswith("GMT")
    url = f"{expiring.url}{created.headers['Location']}"
    assert _patch(url, token, 0, b"a" * _KB).status_code == 204
    assert _partial_files(expiring)
    # Nobody asks for it: the gateway's sweep removes it on its own.
    await eventually(lambda: not _partial_files(expiring), timeout_s=30,
                     what="the sweep to remove the abandoned upload")
    assert _head(expiring, token, url).status_code == 404
    with pytest.raises(TusCommunicationError):
        TusClient(f"{expiring.url}/uploads/", headers=auth(token)).uploader(
            file_stream=io.BytesIO(b"a" * 10 * _KB), url=url)


async def test_a_tus_client_on_an_allowed_origin_passes_the_browsers_checks(tmp_path_factory):
    """Uppy and tus-js-client in a page of another origin: the preflight allows tus's methods and
    headers, and the answers expose the headers the client must read."""
    from tests.utils.server import ServerProcess

    origin = "https://app.example.com"
    proc = ServerProcess(tmp_path_factory.mktemp("cors") / "data", env={"DOCLANE_CORS_ORIGINS": origin})
    proc.start()
    try:
        async with httpx.AsyncClient(base_url=proc.url) as client:
            preflight = await client.options("/uploads/", headers={
                "Origin": origin, "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, tus-resumable, upload-offset"})
            assert preflight.status_code == 200, preflight.text
            assert "PATCH" in preflight.headers["access-control-allow-methods"]
            allowed = preflight.headers["access-control-allow-headers"].lower()
            assert "upload-offset" in allowed and "tus-resumable" in allowed
            answer = await client.options("/uploads/", headers={"Origin": origin, "Tus-Resumable": "1.0.0"})
            exposed = answer.headers["access-control-expose-headers"].lower()
            assert {"location", "upload-offset", "tus-resumable"} <= {h.strip() for h in exposed.split(",")}
    finally:
        proc.stop()
