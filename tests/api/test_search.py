"""Search through a real server: documents become searchable, only by their owner, until deleted."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.documents import make_report_pdf, make_text
from tests.utils.server import ServerProcess

#: Each test waits on real documents going through a real pipeline, on a machine others share.
pytestmark = pytest.mark.timeout(300)

VOLCANO = """Field notes: Mount Ruapehu monitoring

The crater lake temperature rose to 41 degrees over the past month, which usually
precedes small eruptions. Seismographs near the summit recorded volcanic tremor on
four nights. Hikers should keep to the marked tracks and avoid the summit plateau
until the alert level is lowered again.
"""

QUAKE = """Alpine Fault research station

Geologists drilled into the fault to measure how much strain has built up since the
last great earthquake three centuries ago. Rock samples and borehole sensors suggest
the plates are locked and that a magnitude 8 rupture is likely within fifty years.
"""

PASTRY = """Bakery handbook: laminated dough

Croissant dough is folded three times with cold butter so that the layers stay
separate. Rest the dough in the fridge for thirty minutes between folds; warm
butter leaks and the pastry turns out bready instead of flaky.
"""

PAYROLL = """Payroll policy

Salaries are paid on the last working day of each month. Overtime must be approved
by a line manager before it is worked, and it is paid with the following month's salary.
"""


async def _upload_and_wait(client: httpx.AsyncClient, paths: list[Path]) -> list[str]:
    response = await upload(client, paths)
    assert response.status_code == 202, response.text
    ids = [r["document"]["id"] for r in response.json()["results"]]
    for doc_id in ids:
        body = await wait_until_terminal(client, doc_id)
        assert body["status"] == "completed", body
    return ids


async def test_documents_are_found_by_meaning_and_by_words_with_their_place(alice, tmp_path):
    volcano, pastry, payroll, quake = await _upload_and_wait(alice, [
        make_text(tmp_path / "ruapehu.txt", VOLCANO),
        make_text(tmp_path / "pastry.md", PASTRY),
        make_text(tmp_path / "payroll.txt", PAYROLL),
        make_text(tmp_path / "alpine-fault.txt", QUAKE),
    ])
    pdf = tmp_path / "annual.pdf"
    make_report_pdf(pdf, n_pages=3, title="Annual report")
    (pdf_id,) = await _upload_and_wait(alice, [pdf])

    # Semantic: none of these words are in the passage.
    answer = (await alice.get("/search", params={"q": "is the mountain about to erupt?",
                                                 "mode": "semantic"})).json()
    assert answer["mode"] == "semantic" and answer["model"] and answer["took_ms"] >= 0
    assert answer["results"][0]["document_id"] == volcano
    # Keyword, with the word marked.
    answer = (await alice.get("/search", params={"q": "croissant", "mode": "keyword"})).json()
    top = answer["results"][0]
    assert top["document_id"] == pastry and top["filename"] == "pastry.md"
    assert "<mark>" in top["highlight"].lower() and "croissant" in top["highlight"].lower()
    # Hybrid (the default) ranks the right document first for a paraphrase.
    answer = (await alice.get("/search", params={"q": "when do employees get their wages"})).json()
    assert answer["mode"] == "hybrid"
    assert answer["results"][0]["document_id"] == payroll
    # Every hit says where it comes from.
    hits = (await alice.get("/search", params={"q": "report", "document_id": pdf_id})).json()["results"]
    assert hits and {h["document_id"] for h in hits} == {pdf_id}
    assert all(1 <= h["page_start"] <= h["page_end"] <= 3 for h in hits)
    assert any(h["section_path"] for h in hits)
    # k bounds the answer; filters narrow it.
    assert len((await alice.get("/search", params={"q": "the", "k": 2})).json()["results"]) <= 2
    only_text = (await alice.get("/search", params={"q": "dough", "content_type": "application/pdf"})).json()
    assert all(h["content_type"] == "application/pdf" for h in only_text["results"])

    similar = (await alice.get(f"/documents/{volcano}/similar")).json()
    assert similar["document_id"] == volcano
    ranked = [r["document_id"] for r in similar["results"]]
    assert ranked[0] == quake  # the other geology, not the bakery, payroll or annual report
    assert volcano not in ranked and set(ranked) <= {pastry, payroll, quake, pdf_id}
    scores = [r["score"] for r in similar["results"]]
    assert scores == sorted(scores, reverse=True)
    assert len((await alice.get(f"/documents/{volcano}/similar", params={"k": 1})).json()["results"]) == 1


async def test_another_users_passages_never_appear(alice, bob, tmp_path):
    secret = "The zeppelin hangar access code is kept in the blue binder on shelf nine."
    (mine,) = await _upload_and_wait(bob, [make_text(tmp_path / "bob.txt", secret + "\n" + PAYROLL)])
    for mode in ("hybrid", "semantic", "keyword"):
        answer = (await alice.get("/search", params={"q": "zeppelin hangar access code",
                                                     "mode": mode})).json()
        assert mine not in {h["document_id"] for h in answer["results"]}, mode
    assert (await bob.get("/search", params={"q": "zeppelin hangar", "mode": "keyword"})).json()[
        "results"][0]["document_id"] == mine
    # Nor can anyone ask for similar documents of a document that isn't theirs.
    assert (await alice.get(f"/documents/{mine}/similar")).status_code == 404


async def test_deleting_a_document_removes_its_passages(alice, tmp_path):
    (doc_id,) = await _upload_and_wait(alice, [make_text(
        tmp_path / "quokka.txt", "Quokkas live on Rottnest Island and are famously photogenic.\n")])
    found = (await alice.get("/search", params={"q": "quokka", "mode": "keyword"})).json()["results"]
    assert [h["document_id"] for h in found] == [doc_id]
    assert (await alice.delete(f"/documents/{doc_id}")).status_code == 204
    for mode in ("keyword", "semantic"):
        answer = (await alice.get("/search", params={"q": "quokka Rottnest", "mode": mode})).json()
        assert doc_id not in {h["document_id"] for h in answer["results"]}


@pytest.mark.parametrize(("params", "what"), [
    ({"q": ""}, "q"),
    ({"q": "   "}, "blank"),
    ({"q": "x" * 1001}, "1000"),
    ({}, "q"),
    ({"q": "ok", "k": 0}, "k"),
    ({"q": "ok", "k": 101}, "k"),
    ({"q": "ok", "mode": "fuzzy"}, "mode"),
])
async def test_bad_queries_get_a_422_that_says_what_to_fix(alice, params, what):
    response = await alice.get("/search", params=params)
    assert response.status_code == 422, response.text
    assert what in response.json()["detail"]


async def test_search_needs_a_login(server):
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get("/search", params={"q": "x"})).status_code == 401


async def test_an_identical_upload_is_searchable_as_its_own_document(alice, tmp_path):
    text = "Our lighthouse keeper logs the fog horn tests every Tuesday at dawn.\n" + PASTRY
    first, second = [
        (await _upload_and_wait(alice, [make_text(tmp_path / f"log-{i}.txt", text)]))[0]
        for i in range(2)
    ]
    detail = (await alice.get(f"/documents/{second}")).json()
    assert detail["analysis"]["cached"] is True  # no AI call for the repeat...
    hits = (await alice.get("/search", params={"q": "fog horn lighthouse", "mode": "keyword"})).json()
    assert {first, second} <= {h["document_id"] for h in hits["results"]}  # ...but searchable


async def test_the_index_survives_a_restart(tmp_path):
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        token = login(server.url, "alice", "alice-pw")
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as c:
            (doc_id,) = await _upload_and_wait(c, [make_text(tmp_path / "v.txt", VOLCANO)])
        server.stop()
        server.start()
        token = login(server.url, "alice", "alice-pw")
        async with httpx.AsyncClient(base_url=server.url, headers=auth(token), timeout=60) as c:
            answer = (await c.get("/search", params={"q": "crater lake temperature"})).json()
            assert answer["results"][0]["document_id"] == doc_id
    finally:
        server.stop()


async def test_progress_counts_analysis_and_indexing(alice, tmp_path):
    (doc_id,) = await _upload_and_wait(alice, [make_text(tmp_path / "p.txt", VOLCANO * 30)])
    history = (await alice.get(f"/documents/{doc_id}")).json()["history"]
    final = history[-1]
    total = final["progress"]["total"]
    assert total > 1
    assert final["progress"] == {"done": total, "total": total, "analyzed": total, "indexed": total}
    chunks = (await alice.get(f"/documents/{doc_id}/chunks")).json()
    assert len(chunks) == total and all(c["indexed_at"] for c in chunks)
