"""Nothing is lost across a restart, and a crash mid-document resumes where it stopped."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.utils.api import auth, collect_sse, login, upload, wait_until_terminal
from tests.utils.documents import make_report_pdf, make_text
from tests.utils.server import ServerProcess


@pytest.fixture
def server_proc(tmp_path):
    proc = ServerProcess(tmp_path / "data")
    yield proc
    proc.kill()


async def test_documents_history_and_tokens_survive_a_restart(server_proc, tmp_path):
    server_proc.start()
    token = login(server_proc.url, "alice", "alice-pw")
    async with httpx.AsyncClient(base_url=server_proc.url, headers=auth(token)) as client:
        path = make_text(tmp_path / "keep.txt", "Quarterly results were strong and the board is pleased.")
        doc_id = (await upload(client, [path])).json()["results"][0]["document"]["id"]
        before = await wait_until_terminal(client, doc_id)
    server_proc.stop()
    server_proc.start()
    async with httpx.AsyncClient(base_url=server_proc.url, headers=auth(token)) as client:
        after = (await client.get(f"/documents/{doc_id}")).json()
        events = await collect_sse(client, lambda evs: evs[-1]["status"] == "completed",
                                   params={"since": "0"})
    assert after == before
    assert [e["seq"] for e in events] == [h["seq"] for h in before["history"]]


async def test_a_crash_mid_document_resumes_without_redoing_finished_chunks(server_proc, tmp_path):
    # Slow analysis (500 ms a chunk, 2 at a time) so the crash lands mid-document. Indexing is
    # off: with it, progress moves with the slower part (NER), and the analysis could be over
    # by the time three chunks are done.
    slow = {"DOCLANE_AI_PROVIDER": "mock", "DOCLANE_MOCK_LATENCY_MS": "500",
            "DOCLANE_ANALYZE_CONCURRENCY": "2", "DOCLANE_CHUNK_MAX_CHARS": "1500",
            "DOCLANE_SEARCH_ENABLED": "false"}
    server_proc.start(env=slow)
    token = login(server_proc.url, "alice", "alice-pw")
    path = tmp_path / "long.pdf"
    make_report_pdf(path, n_pages=12)
    async with httpx.AsyncClient(base_url=server_proc.url, headers=auth(token)) as client:
        ready = asyncio.Event()
        ids: set[str] = set()

        def some_progress(events):
            return any(e["document_id"] in ids and e["status"] == "analyzing"
                       and e["progress"]["done"] >= 3 for e in events)

        watcher = asyncio.create_task(collect_sse(client, some_progress, ready=ready))
        await asyncio.wait_for(ready.wait(), 10)
        doc_id = (await upload(client, [path])).json()["results"][0]["document"]["id"]
        ids.add(doc_id)
        await watcher
        before_crash = (await client.get(f"/documents/{doc_id}/chunks")).json()
        server_proc.kill()  # kill -9 while chunks are in flight

    done_before = {c["index"]: c for c in before_crash if c["analysis"] is not None}
    total = len(before_crash)
    assert 3 <= len(done_before) < total, (len(done_before), total)

    server_proc.start(env={"DOCLANE_AI_PROVIDER": "local", "DOCLANE_SEARCH_ENABLED": "false"})
    async with httpx.AsyncClient(base_url=server_proc.url, headers=auth(token)) as client:
        detail = await wait_until_terminal(client, doc_id)
        chunks = (await client.get(f"/documents/{doc_id}/chunks")).json()

    assert detail["status"] == "completed", detail
    assert all(c["analysis"] is not None for c in chunks)
    for index, before in done_before.items():  # analysed before the crash: kept, not redone
        after = chunks[index]
        assert after["analysis"] == before["analysis"] and after["analysis"]["provider"] == "mock"
        assert after["analyzed_at"] == before["analyzed_at"]
    # The rest was analysed after the restart, by the provider the new process runs.
    assert any(c["analysis"]["provider"] == "local" for c in chunks)
    seqs = [h["seq"] for h in detail["history"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert detail["history"][-1]["progress"] == {
        "done": total, "total": total, "analyzed": total, "indexed": total}  # nothing to index
