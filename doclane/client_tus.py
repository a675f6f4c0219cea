"""A small tus 1.0 client for the CLI: big files go to ``/uploads/`` in chunks that survive a cut."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from doclane.client import ClientError, GatewayClient

__all__ = ["upload_resumable"]

_TUS = {"Tus-Resumable": "1.0.0"}
#: Attempts at one chunk when the connection drops, waiting 1, 2, 4, 8 s in between.
_ATTEMPTS = 5


def _metadata(filename: str, priority: str | None) -> str:
    pairs = {"filename": filename, **({"priority": priority} if priority else {})}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def upload_resumable(client: GatewayClient, path: Path, *, priority: str | None, chunk_bytes: int,
                     progress: Callable[[int], None] = lambda _: None) -> str:
    """Upload ``path`` through tus; the id of the document it became.

    After a dropped connection the client asks the server (``HEAD``) how much it holds
    and goes on from there. A refusal (too large, over quota, an unsupported type) is a
    :class:`~doclane.client.ClientError` with the gateway's reason.
    """
    length = path.stat().st_size
    created = client.request("POST", "/uploads/", headers={
        **_TUS, "Upload-Length": str(length), "Upload-Metadata": _metadata(path.name, priority)})
    if created.status_code != 201:
        client.answer(created)
        raise ClientError(f"the gateway answered {created.status_code} without an upload URL")
    url = created.headers["Location"]
    offset, failures = 0, 0
    with path.open("rb") as source:
        while True:
            source.seek(offset)
            chunk = source.read(chunk_bytes)
            try:
                answer = client.request("PATCH", url, content=chunk, headers={
                    **_TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
                if answer.status_code != 204:
                    client.answer(answer)
                offset = int(answer.headers["Upload-Offset"])
            except httpx.TransportError:
                failures += 1
                if failures >= _ATTEMPTS:
                    raise
                time.sleep(2 ** (failures - 1))
                offset = _server_offset(client, url)
                continue
            failures = 0
            progress(offset)
            if offset >= length:
                return str(answer.headers["Doclane-Document-Id"])


def _server_offset(client: GatewayClient, url: str) -> int:
    head = client.request("HEAD", url, headers=_TUS)
    if head.status_code != 200:
        raise ClientError(f"The gateway answered {head.status_code} when asked how much of the upload it "
                          "holds: it expired or was removed; upload the file again.")
    return int(head.headers["Upload-Offset"])
