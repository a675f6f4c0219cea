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
    from prometheus_client.parser import text_string_to_metric_families

    async def samples() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        async with httpx.AsyncClient(base_url=server.url) as c:
            text = (await c.get("/metrics")).text
        return {(s.name, frozenset(s.labels.items())): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    watched = [("doclane_uploads_total", {"outcome": "accepted"}),
               ("doclane_stage_events_total", {"outcome": "ok", "stage": "analyze"}),
               ("doclane_status_events_total", {"status": "completed"})]
    before = await samples()
    doc_id = (await upload(alice, [make_text(tmp_path / "m.txt", "Metrics matter.")])).json()[
        "results"][0]["document"]["id"]
    await wait_until_terminal(alice, doc_id)
    after = await samples()
    for name, labels in watched:
        key = (name, frozenset(labels.items()))
        assert after[key] >= before.get(key, 0) + 1, (name, labels)  # each counted this document
