"""Every document is classified while it is processed; its type filters listings and search."""

from __future__ import annotations

from tests.utils.api import upload, wait_until_terminal
from tests.utils.documents import make_text

INVOICE = """INVOICE

Invoice number: INV-2031
Invoice date: 3 March 2026
Due date: 2 April 2026

Bill to: Harbour Logistics Ltd, 14 Quay Street, Bristol

Description                     Qty   Unit price   Amount
Warehouse shelving installation   1     1,050.00   1,050.00
Safety inspection                 1       200.00     200.00

Subtotal: 1,250.00 GBP
VAT (20%): 250.00 GBP
Total due: 1,500.00 GBP

Payment by bank transfer to account 12345678, sort code 20-00-00, within 30 days.
"""

RESUME = """Priya Raman
priya.raman@example.com | +44 7700 900123 | Leeds

Profile
Backend engineer with six years of experience building payment systems in Python and Go.

Experience
Senior Software Engineer, Northwind Payments, 2021 - present
- Led the migration of the settlement service to Kubernetes.
- Reduced card authorisation latency by 40%.

Software Engineer, Brightside Bank, 2018 - 2021
- Built fraud-scoring APIs with FastAPI and PostgreSQL.

Education
BSc Computer Science, University of Leeds, 2018

Skills
Python, Go, PostgreSQL, Kafka, Kubernetes, AWS
"""


async def test_documents_get_a_type_that_filters_listings_and_search(alice, tmp_path):
    response = await upload(alice, [make_text(tmp_path / "inv-2031.txt", INVOICE),
                                    make_text(tmp_path / "priya.txt", RESUME)])
    invoice, resume = [r["document"]["id"] for r in response.json()["results"]]
    detail = {d: await wait_until_terminal(alice, d) for d in (invoice, resume)}
    assert detail[invoice]["doc_type"] == "invoice"
    assert detail[resume]["doc_type"] == "resume"
    classification = detail[invoice]["classification"]
    assert 0 < classification["confidence"] <= 1 and classification["version"]
    assert abs(sum(classification["scores"].values()) - 1) < 1e-6
    # The type is known while the document is processed, and on its final event.
    history = detail[resume]["history"]
    assert next(e["doc_type"] for e in history if e["status"] == "analyzing") == "resume"
    assert history[-1]["doc_type"] == "resume"

    listed = (await alice.get("/documents", params={"type": "invoice"})).json()["items"]
    assert invoice in {d["id"] for d in listed} and resume not in {d["id"] for d in listed}
    hits = (await alice.get("/search", params={"q": "payment", "type": "resume"})).json()["results"]
    assert hits and {h["document_id"] for h in hits} == {resume}
    bad = await alice.get("/documents", params={"type": "spreadsheet"})
    assert bad.status_code == 422 and "type" in bad.json()["detail"]


async def test_entities_are_found_with_their_place_and_rolled_up(alice, tmp_path):
    response = await upload(alice, [make_text(tmp_path / "inv-2032.txt", INVOICE),
                                    make_text(tmp_path / "priya-2.txt", RESUME)])
    invoice, resume = [r["document"]["id"] for r in response.json()["results"]]
    for doc_id in (invoice, resume):
        assert (await wait_until_terminal(alice, doc_id))["status"] == "completed"

    found = (await alice.get(f"/documents/{resume}/entities")).json()
    labels = {e["label"] for e in found["entities"]}
    assert {"PERSON", "EMAIL", "PHONE", "ORG", "SKILL"} <= labels, labels
    email = next(e for e in found["entities"] if e["label"] == "EMAIL")
    assert email["value"] == "priya.raman@example.com" and email["page"] == 1
    chunks = (await alice.get(f"/documents/{resume}/chunks")).json()
    chunk = next(c for c in chunks if c["index"] == email["chunk_index"])
    assert chunk["text"][email["start"]:email["end"]] == email["text"]  # offsets into the chunk
    skills = (await alice.get(f"/documents/{resume}/entities", params={"label": "SKILL"})).json()
    assert skills["entities"] and {e["label"] for e in skills["entities"]} == {"SKILL"}
    assert any(s["value"].lower() == "kafka" for s in skills["rollup"])

    detail = (await alice.get(f"/documents/{invoice}")).json()
    money = [r for r in detail["entities"] if r["label"] == "MONEY"]
    assert any(r["value"] == "1500.00 GBP" for r in money), money
    assert detail["history"][-1]["entities"] == detail["entities"]  # on the final event too
    bad = await alice.get(f"/documents/{invoice}/entities", params={"label": "COLOUR"})
    assert bad.status_code == 422
