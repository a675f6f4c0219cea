"""The admin API on a distributed doclane: the gateway steers workers in other processes via Kafka."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.documents import make_image_only_pdf, make_report_pdf
from tests.utils.waiting import eventually

pytestmark = pytest.mark.timeout(420)


def _group(queues: dict[str, Any], stage: str) -> dict[str, Any]:
    return next(g for g in queues["groups"] if g["stage"] == stage)


def _lane(queues: dict[str, Any], stage: str, lane: str) -> dict[str, Any]:
    return next(t for t in _group(queues, stage)["topics"] if t["lane"] == lane)


async def test_an_admin_pauses_moves_and_redrives_across_processes(make_cluster, alice_on, tmp_path):
    cluster = make_cluster().start(analyzers=2)
    alice = alice_on(cluster)
    root = httpx.AsyncClient(base_url=cluster.gateway.url, timeout=60,
                             headers=auth(login(cluster.gateway.url, "root", "root-pw")))
    analyzers = [w for name, w in cluster.workers.items() if name.startswith("analyzer")]
    try:
        queues = (await root.get("/admin/queues")).json()
        assert queues["mode"] == "kafka"
        assert [g["stage"] for g in queues["groups"]] == ["extract", "analyze", "index", "aggregate",
                                                          "assess"]

        # Paused at the gateway: both analyzer processes hear it on the control topic.
        assert (await root.post("/admin/stages/analyze/pause")).json() == {"stage": "analyze",
                                                                          "paused": True}
        async def both_paused() -> bool:
            group = _group((await root.get("/admin/queues")).json(), "analyze")
            return group["paused"] and (group["members"], group["members_paused"]) == (2, 2)
        await eventually(both_paused, timeout_s=30, interval_s=0.5, what="both analyzers paused")
        assert all("group analyzer paused" in w.log_text() for w in analyzers)
        make_report_pdf(tmp_path / "r.pdf", n_pages=3, paragraphs_per_section=8)
        response = await upload(alice, [tmp_path / "r.pdf"], priority="low")
        doc_id = response.json()["results"][0]["document"]["id"]

        async def indexed() -> bool:
            chunks = (await alice.get(f"/documents/{doc_id}/chunks")).json()
            return bool(chunks) and all(c["indexed_at"] for c in chunks)
        await eventually(indexed, timeout_s=90, what="the indexer (not paused) done")
        chunks = (await alice.get(f"/documents/{doc_id}/chunks")).json()
        n = len(chunks)
        assert n > 1 and all(c["analysis"] is None for c in chunks)

        async def all_waiting_on_low() -> bool:
            low = _lane((await root.get("/admin/queues")).json(), "analyze", "low")
            return low["depth"] >= n and low["in_flight"] == 0 and low["oldest_waiting_s"] is not None
        await eventually(all_waiting_on_low, timeout_s=30, interval_s=0.5, what="chunks waiting on low")

        moved = await root.post(f"/admin/documents/{doc_id}/priority", json={"priority": "high"})
        assert moved.status_code == 200 and moved.json()["requeued"] == n, moved.text
        assert (await root.post("/admin/stages/analyze/resume")).json()["paused"] is False
        done = await wait_until_terminal(alice, doc_id, timeout_s=120)
        assert done["status"] == "completed", done["history"][-1]

        trail = (await alice.get(f"/documents/{doc_id}/audit")).json()["events"]
        topics = [e["topic"] for e in trail]
        assert topics.count("chunk.ready.low") == topics.count("chunk.ready.high") == n
        # The workers skipped the low-lane copies: every chunk analysed once.
        assert topics.count("chunk.analyzed") == n
        assert len({e["partition"] for e in trail if e["topic"] == "chunk.ready.high"}) > 1

        async def throughput_reported() -> bool:
            high = _lane((await root.get("/admin/queues")).json(), "analyze", "high")
            return high["per_min"] >= n and high["lag"] == 0
        await eventually(throughput_reported, timeout_s=30, interval_s=0.5, what="reported throughput")

        # A dead letter, listed and redriven from the gateway.
        response = await upload(alice, [make_image_only_pdf(tmp_path / "scan.pdf")])
        scan_id = response.json()["results"][0]["document"]["id"]
        assert (await wait_until_terminal(alice, scan_id, timeout_s=120))["status"] == "failed"
        items = (await root.get("/admin/dlq", params={"stage": "extract"})).json()["items"]
        [letter] = [i for i in items if i["document_id"] == scan_id]
        assert (await root.post(f"/admin/dlq/{letter['id']}/redrive")).status_code == 202
        assert (await root.post(f"/admin/dlq/{letter['id']}/redrive")).status_code == 409

        async def failed_again() -> bool:
            items = (await root.get("/admin/dlq")).json()["items"]
            return sum(i["document_id"] == scan_id for i in items) == 2
        await eventually(failed_again, timeout_s=90, interval_s=0.5, what="the redriven letter failing again")
    finally:
        await root.aclose()
