"""Uploads are counted as they stream in and cut at their limits: nothing past a limit is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.utils.api import auth, login
from tests.utils.server import ServerProcess
from tests.utils.uploads import BOUNDARY, ResourceSampler, multipart_stream, peak_rss_bytes

_MB = 1 << 20
_MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture(scope="module")
def small_limits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """A server with 2 MB files, bursts of 3 files, and its own temporary directory.

    100 files a request make the request limit ~203 MB: a 200 MB file is within it and
    is refused by the per-file limit while its siblings proceed.
    """
    root = tmp_path_factory.mktemp("limits")
    tmp = root / "tmp"
    tmp.mkdir()
    proc = ServerProcess(root / "data", env={
        "DOCLANE_MAX_UPLOAD_MB": "2", "DOCLANE_UPLOAD_BURST_FILES": "3", "TMPDIR": str(tmp)})
    proc.start()
    try:
        yield proc, tmp
    finally:
        proc.stop()


@pytest.fixture
async def client(small_limits: tuple[ServerProcess, Path]) -> Iterator[httpx.AsyncClient]:
    server, _ = small_limits
    token = login(server.url, "alice", "alice-pw")
    async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=120) as c:
        yield c


async def test_a_200_mb_file_is_refused_without_being_spooled_or_held(client, small_limits):
    server, tmp = small_limits
    rss_before = peak_rss_bytes(server.pid)
    with ResourceSampler([tmp, server.data_dir], pid=server.pid) as disk:
        r = await client.post("/documents/upload", headers=_MULTIPART,
                              content=multipart_stream([("huge.txt", 200 * _MB), ("ok.txt", 1000)]))
    assert r.status_code == 202, r.text
    huge, ok = r.json()["results"]
    assert huge["status_code"] == 413 and "2 MB" in huge["detail"]
    assert ok["accepted"]
    # At most one file's limit (2 MB) is ever written, in the spool or the data directory.
    assert disk.growth_bytes < 4 * _MB, disk.growth_bytes
    assert peak_rss_bytes(server.pid) - rss_before < 32 * _MB


async def test_a_request_past_its_total_limit_is_cut_with_a_413(client):
    # A chunked body (no Content-Length) is counted as it arrives: 1 MB for JSON routes.
    async def body():
        yield b'{"username": "alice", "password": "'
        for _ in range(3):
            yield b"x" * _MB
        yield b'"}'

    r = await client.post("/auth/login", headers={"Content-Type": "application/json"}, content=body())
    assert r.status_code == 413, r.text
    assert "1 MB" in r.json()["detail"]


async def test_a_declared_length_past_the_limit_is_refused_before_reading(client):
    r = await client.post("/documents/upload", headers={**_MULTIPART, "Content-Length": str(205 * _MB)},
                          content=b"x" * (205 * _MB))
    assert r.status_code == 413, r.text


async def test_too_many_files_or_fields_are_a_413_that_says_the_limit(client):
    r = await client.post("/documents/upload", headers=_MULTIPART,
                          content=multipart_stream([(f"f{i}.txt", 100) for i in range(4)]))
    assert r.status_code == 413 and "at most 3" in r.json()["detail"], r.text
    r = await client.post("/documents/upload", headers=_MULTIPART, content=multipart_stream(
        [("a.txt", 100)], fields={f"f{i}": "v" for i in range(20)}))
    assert r.status_code == 413 and "form fields" in r.json()["detail"], r.text
    r = await client.post("/documents/upload", headers=_MULTIPART, content=multipart_stream(
        [("a.txt", 100)], fields={"priority": "h" * 5000}))
    assert r.status_code == 413 and "priority" in r.json()["detail"], r.text


async def test_a_large_json_body_anywhere_else_is_a_413(client):
    r = await client.post("/auth/login", json={"username": "alice", "password": "x" * (2 * _MB)})
    assert r.status_code == 413 and "1 MB" in r.json()["detail"], r.text


async def test_security_headers_on_every_answer_and_no_cors_by_default(client):
    # The dashboard's page and scripts, the API, an error: the same headers everywhere.
    for path in ("/", "/static/app.js", "/health", "/documents", "/nowhere"):
        r = await client.get(path, headers={"Origin": "https://evil.example"})
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
        assert "access-control-allow-origin" not in r.headers
    r = await client.options("/documents", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
