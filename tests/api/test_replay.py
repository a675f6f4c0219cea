"""`doclane replay` rebuilds lost status history from the document.status topic."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import httpx

from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.documents import make_text
from tests.utils.server import JWT_SECRET, USERS, ServerProcess


async def test_replay_restores_history_and_status_the_store_lost(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        token = login(server.url, "alice", "alice-pw")
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token)) as client:
            paths = [make_text(tmp_path / f"n{i}.txt", f"Note {i}: ship it by Friday.") for i in range(3)]
            ids = [r["document"]["id"] for r in (await upload(client, paths)).json()["results"]]
            before = {doc_id: await wait_until_terminal(client, doc_id) for doc_id in ids}
    finally:
        server.stop()

    # The store loses every status event and the documents fall back to "pending".
    db = sqlite3.connect(tmp_path / "data" / "store.db")
    with db:
        db.execute("DELETE FROM status_events")
        db.execute("DELETE FROM owner_cursors")
        db.execute("UPDATE documents SET status = 'pending', "
                   "data = json_set(data, '$.status', 'pending', '$.seq', 0, '$.analysis', NULL)")
    db.close()

    result = subprocess.run(
        [sys.executable, "-m", "doclane", "replay", "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120,
        env={"DOCLANE_USERS": USERS, "DOCLANE_JWT_SECRET": JWT_SECRET, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    restored = sum(len(d["history"]) for d in before.values())
    assert f"restored {restored} missing" in result.stderr

    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token)) as client:
            after = {doc_id: (await client.get(f"/documents/{doc_id}")).json() for doc_id in ids}
            new = (await upload(client, [make_text(tmp_path / "later.txt", "After the replay.")])).json()
            later = await wait_until_terminal(client, new["results"][0]["document"]["id"])
    finally:
        server.stop()
    assert after == before
    # Counters were restored too: new events continue the owner's cursors.
    assert later["history"][0]["cursor"] > max(h["cursor"] for d in before.values() for h in d["history"])
