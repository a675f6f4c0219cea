"""Liveness, readiness and metrics."""

from __future__ import annotations

import httpx

from tests.utils.api import upload, wait_until_terminal
from tests.utils.documents import make_text


async def test_health_and_ready_need_no_token(server):
    async with httpx.AsyncClient(base_url=server.url) as c:
        assert (await c.get("/health")).json() == {"status": "ok"}
        ready = (await c.get("/ready")).json()
    assert ready["status"] == "ready" and ready["problems"] == []


async def test_metrics_count_uploads_and_stage_work(alice, server, tmp_path):
    doc_id = (await upload(alice, [make_text(tmp_path / "m.txt", "Metrics matter.")])).json()[
        "results"][0]["document"]["id"]
    await wait_until_terminal(alice, doc_id)
    async with httpx.AsyncClient(base_url=server.url) as c:
        text = (await c.get("/metrics")).text
    assert 'doclane_uploads_total{outcome="accepted"}' in text
    assert 'doclane_stage_events_total{outcome="ok",stage="analyze"}' in text
    assert 'doclane_status_events_total{status="completed"}' in text
