"""Experiments in the distributed mode: arms measured by worker processes, compared by the gateway."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.documents import make_text

pytestmark = pytest.mark.timeout(300)

EXPERIMENTS = json.dumps([
    {"name": "clf-lr", "component": "classifier", "control": "trained", "candidate": "trained-lr",
     "share": 0.5},
    {"name": "ner-rules", "component": "ner", "control": "spacy+rules", "candidate": "rules",
     "share": 1.0, "mode": "shadow"},
])
PLACES = ["Leeds", "Bristol", "Porto", "Lyon", "Turin", "Gdansk"]


def _letter(n: int) -> str:
    org = "Acme Corp" if n % 3 == 0 else "Globex Ltd"
    return (f"Dear Ms Okafor,\n\nThank you for the visit of {org} to our {PLACES[n % 6]} office on "
            f"{n + 1} May 2026. Please send the signed order form to orders{n}@example.com.\n\n"
            "Kind regards,\nDana Whitfield\n")


async def test_workers_measure_both_arms_and_the_gateway_compares_them(make_cluster, alice_on, tmp_path):
    cluster = make_cluster(DOCLANE_EXPERIMENTS=EXPERIMENTS).start(analyzers=1, indexers=2)
    alice = alice_on(cluster)
    paths = [make_text(tmp_path / f"letter-{n}.txt", _letter(n)) for n in range(12)]
    response = await upload(alice, paths)
    assert response.status_code == 202, response.text
    ids = [r["document"]["id"] for r in response.json()["results"]]
    details = await asyncio.gather(*(wait_until_terminal(alice, d, timeout_s=180) for d in ids))
    assert {d["status"] for d in details} == {"completed"}
    arms = [next(a["arm"] for a in d["experiments"] if a["experiment"] == "clf-lr") for d in details]
    # The candidate is another model: a logistic regression the extractor built from the
    # trained model's own training set when it started.
    for arm, detail in zip(arms, details, strict=True):
        assert (detail["classification"]["version"] == "doctype-tfidf-lr@1") == (arm == "candidate")

    token = login(cluster.gateway.url, "root", "root-pw")
    async with httpx.AsyncClient(base_url=cluster.gateway.url, headers=auth(token), timeout=60) as root:
        report = {e["name"]: e for e in (await root.get("/admin/experiments")).json()["experiments"]}
    clf = report["clf-lr"]
    assert clf["control"]["documents"] == arms.count("control")
    assert clf["candidate"]["documents"] == arms.count("candidate")
    # Two indexer processes measured the chunks; the comparison reads all of them from MongoDB.
    ner = report["ner-rules"]
    assert ner["control"]["documents"] == ner["candidate"]["documents"] == len(ids)
    assert 0 < ner["control"]["agreement"] < 1

    # entity= on PostgreSQL: only the letters that mention Acme Corp.
    acme = {d["id"] for d in details if any(r["value"] == "Acme Corp" for r in d["entities"] or [])}
    assert acme
    hits = (await alice.get("/search", params={"q": "order form", "entity": "ORG:acme corp", "k": 50})).json()
    assert hits["results"] and {h["document_id"] for h in hits["results"]} <= acme
