"""The data directory's disk fills up: uploads get a 507 with a reason, nothing half-written
stays, and the service recovers when space returns.

The data directory is a tmpfs of a few MB mounted for the test (root only; skipped where
``mount`` is not allowed).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.utils.api import auth, login, wait_until_terminal
from tests.utils.server import ServerProcess
from tests.utils.waiting import eventually

pytestmark = pytest.mark.timeout(300)

_MB = 1 << 20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    command = [shutil.which("mount") or "/bin/mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)]
    done = subprocess.run(command,
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run([shutil.which("umount") or "/bin/umount", "-l", str(mount)], check=False)


@pytest.fixture
async def alice(small_disk: Path) -> AsyncIterator[httpx.AsyncClient]:
    """alice's client of a server whose data directory is on the small disk."""
    server = ServerProcess(small_disk / "data", env={"DOCLANE_MAX_UPLOAD_MB": "1"})
    try:
        with server:
            token = login(server.url, "alice", "alice-pw")
            async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as c:
                yield c
    finally:
        shutil.rmtree(small_disk / "data", ignore_errors=True)


def _fill(disk: Path) -> Path:
    """Fill the disk the way anything else on the machine would; remove the file to free it."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * _MB)
                out.flush()
        except OSError:
            pass
    return filler


async def test_a_full_disk_refuses_uploads_with_507_keeps_nothing_and_recovers(small_disk, alice):
    c = alice
    ok = await c.post("/documents/upload", files=[("files", ("first.txt", b"Fine. " * 100))])
    assert ok.status_code == 202, ok.text
    first = ok.json()["results"][0]["document"]["id"]
    assert (await wait_until_terminal(c, first))["status"] == "completed"

    filler = _fill(small_disk)
    uploads = small_disk / "data" / "uploads"
    before = sorted(p.name for p in uploads.iterdir())
    listed = (await c.get("/documents")).json()["count"]
    refused = await c.post("/documents/upload", files=[("files", ("second.txt", b"Some words. " * 5_000))])
    assert refused.status_code == 507, refused.text
    assert "no room" in refused.json()["detail"]
    assert sorted(p.name for p in uploads.iterdir()) == before  # nothing half-written
    assert (await c.get("/documents")).json()["count"] == listed  # and no record of it
    assert (await c.get(f"/documents/{first}")).status_code == 200  # reads still work

    filler.unlink()  # space returns
    again = await c.post("/documents/upload", files=[("files", ("second.txt", b"Some words. " * 5_000))])
    assert again.status_code == 202, again.text
    second = again.json()["results"][0]["document"]["id"]
    assert (await wait_until_terminal(c, second))["status"] == "completed"


async def test_a_disk_that_fills_mid_processing_does_not_stop_the_pipeline(small_disk, alice):
    c = alice
    r = await c.post("/documents/upload", files=[("files", ("long.txt", b"Some words. " * 50_000))])
    assert r.status_code == 202, r.text
    doc = r.json()["results"][0]["document"]["id"]

    async def under_way() -> bool:  # the first chunk is done: the stages are writing
        return bool(((await c.get(f"/documents/{doc}/status")).json()["progress"] or {}).get("done"))

    await eventually(under_way, timeout_s=120, what="the first chunk")
    filler = _fill(small_disk)

    async def met_the_full_disk() -> bool:  # a stage waits for space (or the document finished)
        metrics = (await c.get("/metrics")).text
        return 'outcome="waited_for_space"' in metrics or (
            await c.get(f"/documents/{doc}/status")).json()["status"] in ("completed", "failed")

    await eventually(met_the_full_disk, timeout_s=120, what="a stage to meet the full disk")
    filler.unlink()  # space returns
    detail = await wait_until_terminal(c, doc, timeout_s=150)
    assert detail["status"] == "completed", detail  # nothing was lost to the full disk
    assert (await c.get("/ready")).status_code == 200, (await c.get("/ready")).text
    again = await c.post("/documents/upload", files=[("files", ("after.txt", b"Fine. " * 100))])
    after = again.json()["results"][0]["document"]["id"]
    assert (await wait_until_terminal(c, after))["status"] == "completed"
