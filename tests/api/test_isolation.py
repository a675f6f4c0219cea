"""A user sees, streams and deletes only their own documents."""

from __future__ import annotations

import asyncio

from tests.utils.api import collect_sse, upload, wait_until_terminal
from tests.utils.documents import make_text


async def test_another_users_document_is_invisible(alice, bob, tmp_path):
    path = make_text(tmp_path / "private.txt", "Alice's private notes about the merger.")
    doc_id = (await upload(alice, [path])).json()["results"][0]["document"]["id"]
    await wait_until_terminal(alice, doc_id)

    for url in (f"/documents/{doc_id}", f"/documents/{doc_id}/status", f"/documents/{doc_id}/chunks"):
        r = await bob.get(url)
        assert r.status_code == 404, url
        assert r.json()["detail"] == f"No document with id '{doc_id}'."
    assert doc_id not in {d["id"] for d in (await bob.get("/documents")).json()["items"]}
    assert (await bob.delete(f"/documents/{doc_id}")).status_code == 404
    assert (await alice.get(f"/documents/{doc_id}")).status_code == 200


async def test_streams_carry_only_the_callers_events(alice, bob, tmp_path):
    ready = asyncio.Event()
    bob_doc: set[str] = set()
    # Until the first "completed" Bob sees: Alice's documents complete before Bob uploads, so a
    # leak stops the stream at hers. (Waiting for Bob's id instead raced: a one-line memo can
    # complete before the upload's answer gives the test its id, and no event comes after.)
    bob_watch = asyncio.create_task(collect_sse(
        bob, lambda evs: any(e["status"] == "completed" for e in evs), ready=ready,
    ))
    await asyncio.wait_for(ready.wait(), 10)
    alice_ids = [
        (await upload(alice, [make_text(tmp_path / f"a{i}.txt", f"Alice memo {i}.")])).json()
        ["results"][0]["document"]["id"] for i in range(3)
    ]
    for doc_id in alice_ids:
        await wait_until_terminal(alice, doc_id)
    r = await upload(bob, [make_text(tmp_path / "b.txt", "Bob's memo.")])
    bob_doc.add(r.json()["results"][0]["document"]["id"])
    events = await bob_watch
    assert {e["document_id"] for e in events} == bob_doc
    assert {e["owner"] for e in events} == {"bob"}


async def test_delete_removes_record_history_chunks_and_file(alice, server, tmp_path):
    path = make_text(tmp_path / "gone.txt", "This document will be deleted.")
    doc_id = (await upload(alice, [path])).json()["results"][0]["document"]["id"]
    await wait_until_terminal(alice, doc_id)
    folder = server.data_dir / "uploads" / doc_id
    assert folder.exists()
    assert (await alice.delete(f"/documents/{doc_id}")).status_code == 204
    assert (await alice.get(f"/documents/{doc_id}")).status_code == 404
    assert (await alice.get(f"/documents/{doc_id}/chunks")).status_code == 404
    assert not folder.exists()
    assert doc_id not in {d["id"] for d in (await alice.get("/documents")).json()["items"]}
