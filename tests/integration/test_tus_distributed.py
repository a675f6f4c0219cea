"""Resumable uploads in the distributed mode: gateways on Kafka and FerretDB sharing the data directory."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient.client import TusClient

from tests.utils.api import auth, login, wait_until_terminal
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.timeout(300)
_KB = 1 << 10


async def test_an_upload_begun_on_one_gateway_finishes_on_another(make_cluster, tmp_path: Path):
    cluster = make_cluster(DOCLANE_SEARCH_ENABLED="false").start(analyzers=1, indexers=0)
    second = ServerProcess(cluster.data_dir, cluster.env, command="gateway")
    second.start()
    try:
        token = login(cluster.gateway.url, "alice", "alice-pw")
        path = tmp_path / "handover notes.txt"
        path.write_text("".join(f"Item {i}: the handover of region {i % 5} is on track.\n"
                                for i in range(1500)))
        first = TusClient(f"{cluster.gateway.url}/uploads/", headers=auth(token)).uploader(
            str(path), chunk_size=32 * _KB, metadata={"filename": path.name, "priority": "high"})
        await asyncio.to_thread(first.upload_chunk)
        # The first gateway is gone for this client; the second knows the upload from the
        # shared data directory and the token from the shared store.
        url = f"{second.url}{urlsplit(first.url).path}"
        resumed = TusClient(f"{second.url}/uploads/", headers=auth(token)).uploader(
            str(path), url=url, chunk_size=32 * _KB)
        assert resumed.offset == 32 * _KB
        await asyncio.to_thread(resumed.upload)
        document_id = resumed.request.response_headers["doclane-document-id"]
        async with httpx.AsyncClient(base_url=second.url, headers=auth(token), timeout=60) as alice:
            doc = await wait_until_terminal(alice, document_id, timeout_s=180)
        assert doc["status"] == "completed", doc
        assert doc["priority"] == "high" and doc["filename"] == path.name
        stored = next((cluster.data_dir / "uploads" / document_id).iterdir())
        assert stored.read_bytes() == path.read_bytes()
    finally:
        second.stop()
