"""Search in the distributed mode: indexer workers on Kafka write PostgreSQL, the gateway searches it."""

from __future__ import annotations

import pytest

from doclane.infra.search.postgres import PostgresSearchIndex
from tests.utils.api import upload, wait_until_terminal
from tests.utils.documents import make_docx, make_text

pytestmark = pytest.mark.timeout(300)

GLACIER = ("Glacier survey, season three\n\nThe Tasman glacier retreated another 180 metres this "
           "summer. Meltwater lakes at its terminal face doubled in area since the first survey.\n")
ORCHARD = ("Orchard diary\n\nThe apple trees were pruned in late winter. Codling moth traps went up "
           "in October and caught far fewer moths than last year.\n")


async def test_indexers_on_kafka_fill_postgres_and_the_gateway_searches_it(
    make_cluster, alice_on, tmp_path
):
    cluster = make_cluster().start(analyzers=1, indexers=2)
    alice = alice_on(cluster)
    paths = [
        make_text(tmp_path / "glacier.txt", GLACIER),
        make_text(tmp_path / "orchard.txt", ORCHARD),
        make_docx(tmp_path / "lighthouse.docx", [
            ("h1", "Lighthouse keeping"),
            ("p", "The fog horn is tested every Tuesday at dawn and its log is kept in the tower."),
        ]),
    ]
    response = await upload(alice, paths)
    assert response.status_code == 202, response.text
    glacier, orchard, lighthouse = [r["document"]["id"] for r in response.json()["results"]]
    for doc_id in (glacier, orchard, lighthouse):
        detail = await wait_until_terminal(alice, doc_id, timeout_s=120)
        assert detail["status"] == "completed", detail
        final = detail["history"][-1]["progress"]
        assert final["indexed"] == final["analyzed"] == final["total"]

    answer = (await alice.get("/search", params={"q": "is the ice melting back?"})).json()
    assert answer["results"][0]["document_id"] == glacier
    model = answer["model"]
    answer = (await alice.get("/search", params={"q": "fog horn", "mode": "keyword"})).json()
    top = answer["results"][0]
    assert top["document_id"] == lighthouse and top["section_path"] == ["Lighthouse keeping"]

    # The passages are in the deployment's PostgreSQL database, nowhere else.
    index = PostgresSearchIndex(cluster.env["DOCLANE_SEARCH_URL"], model, 384)
    await index.open()
    try:
        assert await index.count(document_id=glacier) >= 1
        assert await index.count(owner="alice") == sum([
            await index.count(document_id=d) for d in (glacier, orchard, lighthouse)])
        assert (await alice.delete(f"/documents/{orchard}")).status_code == 204
        assert await index.count(document_id=orchard) == 0
    finally:
        await index.close()
