"""Without an explicit priority a document goes to the lane of its type; an explicit one always wins."""

from __future__ import annotations

from tests.utils.api import upload, wait_until_terminal
from tests.utils.documents import make_text

_ROLES = ["Software Engineer", "Data Engineer", "Platform Engineer", "Backend Developer", "SRE"]
_FIRMS = ["Brightside Bank", "Northwind Payments", "Contoso Retail", "Fabrikam Health", "Tailspin Travel"]


def _long_resume() -> str:
    """A resume of a long career: over 32 KB, so its lane by size alone is ``normal``."""
    jobs = "".join(
        f"{_ROLES[n % 5]}, {_FIRMS[n % 5]}, {1990 + n % 30} - {1991 + n % 30}\n"
        f"- Built and ran services in Python and Go; mentored {n % 7 + 1} engineers.\n"
        "- Improved reliability of the team's deployment pipeline.\n\n"
        for n in range(200)
    )
    return ("Priya Raman\npriya.raman@example.com | +44 7700 900123 | Leeds\n\n"
            "Profile\nBackend engineer building payment systems.\n\n"
            f"Experience\n{jobs}Education\nBSc Computer Science, University of Leeds\n\n"
            "Skills\nPython, Go, PostgreSQL, Kafka, Kubernetes, AWS\n")


INVOICE = ("INVOICE\n\nInvoice number: INV-7001\nInvoice date: 3 March 2026\nBill to: Harbour Logistics Ltd\n"
           "Warehouse shelving installation   1   1,050.00\nTotal due: 1,260.00 GBP\n"
           "Payment by bank transfer within 30 days.\n")


async def test_a_resume_goes_to_the_high_lane_unless_the_uploader_chose(alice, tmp_path):
    text = _long_resume()
    assert len(text.encode()) > 32 * 1024
    answer = await upload(alice, [make_text(tmp_path / "cv-long.txt", text)])
    by_type = answer.json()["results"][0]["document"]
    assert by_type["priority"] == "normal"  # by size, before anyone read it
    other = make_text(tmp_path / "cv-long-2.txt", text + "\nReferences on request.\n")
    chosen = (await upload(alice, [other], priority="low")).json()["results"][0]["document"]
    invoice = (await upload(alice, [make_text(tmp_path / "inv.txt", INVOICE)],
                            priority="normal")).json()["results"][0]["document"]

    detail = await wait_until_terminal(alice, by_type["id"])
    assert (detail["doc_type"], detail["priority"]) == ("resume", "high")
    detail = await wait_until_terminal(alice, chosen["id"])
    assert (detail["doc_type"], detail["priority"]) == ("resume", "low")
    detail = await wait_until_terminal(alice, invoice["id"])
    assert (detail["doc_type"], detail["priority"]) == ("invoice", "normal")
