"""Per-user upload limits answer 429 with Retry-After, and touch no one else."""

from __future__ import annotations

import httpx
import pytest

from tests.utils.api import auth, login, upload
from tests.utils.documents import make_text
from tests.utils.server import ServerProcess


@pytest.fixture
def limited_server(tmp_path):
    proc = ServerProcess(tmp_path / "data", env={
        "DOCLANE_UPLOAD_RATE_PER_MIN": "6", "DOCLANE_UPLOAD_BURST_FILES": "3"}).start()
    yield proc
    proc.stop()


async def test_uploads_beyond_the_limit_get_429_with_retry_after(limited_server, tmp_path):
    url = limited_server.url
    paths = [make_text(tmp_path / f"f{i}.txt", f"File {i}.") for i in range(4)]
    async with httpx.AsyncClient(base_url=url, headers=auth(login(url, "alice", "alice-pw"))) as alice, \
            httpx.AsyncClient(base_url=url, headers=auth(login(url, "bob", "bob-pw"))) as bob:
        assert (await upload(alice, paths[:3])).status_code == 202
        refused = await upload(alice, paths[3:])
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 10  # one file every 10 s
        assert "6 files a minute" in refused.json()["detail"]
        assert (await upload(bob, paths[:1])).status_code == 202  # bob has his own budget
        too_many = await upload(bob, paths)
        assert too_many.status_code == 413 and "at most 3" in too_many.json()["detail"]
        assert len((await alice.get("/documents")).json()["items"]) == 3  # nothing half-stored
