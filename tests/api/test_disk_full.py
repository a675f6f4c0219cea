"""The data directory's disk fills up: uploads get a 507 with a reason, nothing half-written
stays, and the service recovers when space returns.

The data directory is a tmpfs of a few MB mounted for the test (root only; skipped where
``mount`` is not allowed).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.utils.api import auth, login, wait_until_terminal
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.timeout(180)

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


async def test_a_full_disk_refuses_uploads_with_507_keeps_nothing_and_recovers(small_disk, tmp_path):
    server = ServerProcess(small_disk / "data", env={"DOCLANE_MAX_UPLOAD_MB": "1"})
    server.start()
    try:
        token = login(server.url, "alice", "alice-pw")
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as c:
            ok = await c.post("/documents/upload", files=[("files", ("first.txt", b"Fine. " * 100))])
            assert ok.status_code == 202, ok.text
            first = ok.json()["results"][0]["document"]["id"]
            assert (await wait_until_terminal(c, first))["status"] == "completed"

            # Fill the disk the way anything else on the machine would.
            filler = small_disk / "filler"
            with filler.open("wb") as out:
                try:
                    while True:
                        out.write(b"\0" * _MB)
                        out.flush()
                except OSError:
                    pass
            uploads = small_disk / "data" / "uploads"
            before = sorted(p.name for p in uploads.iterdir())
            refused = await c.post("/documents/upload",
                                   files=[("files", ("second.txt", b"Some words. " * 50_000))])
            assert refused.status_code == 507, refused.text
            assert "no room" in refused.json()["detail"]
            assert sorted(p.name for p in uploads.iterdir()) == before  # nothing half-written
            assert (await c.get(f"/documents/{first}")).status_code == 200  # reads still work

            filler.unlink()  # space returns
            again = await c.post("/documents/upload",
                                 files=[("files", ("second.txt", b"Some words. " * 50_000))])
            assert again.status_code == 202, again.text
            second = again.json()["results"][0]["document"]["id"]
            assert (await wait_until_terminal(c, second))["status"] == "completed"
    finally:
        server.stop()
        shutil.rmtree(small_disk / "data", ignore_errors=True)
