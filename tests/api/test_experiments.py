"""A/B experiments through a real server: documents split between versions, compared by an admin.

The server runs one experiment per component at once: the classifier at its own threshold
against a strict 0.99 threshold (split, half the documents each); NER with rules only
shadowing the trained model on every document (the trained model's entities are kept);
the local analyzer against the mock provider (split); WordLlama embeddings shadowing MiniLM.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from doclane.ai.experiments import assign
from doclane.schemas.experiments import ExperimentConfig
from tests.utils.api import auth, login, upload, wait_until_terminal
from tests.utils.documents import make_text
from tests.utils.server import ServerProcess

EXPERIMENTS = [
    {"name": "clf-strict", "component": "classifier", "control": "trained",
     "candidate": "trained@threshold=0.99", "share": 0.5, "mode": "split"},
    {"name": "ner-rules", "component": "ner", "control": "spacy+rules", "candidate": "rules",
     "share": 1.0, "mode": "shadow"},
    {"name": "analysis-mock", "component": "analysis", "control": "local", "candidate": "mock/v1",
     "share": 0.5},
    {"name": "embed-wordllama", "component": "embeddings", "control": "minilm-l6-v2",
     "candidate": "wordllama-l2", "share": 1.0, "mode": "shadow"},
]
CLASSIFIER = ExperimentConfig.model_validate(EXPERIMENTS[0])

CITIES = ["Leeds", "Bristol", "Porto", "Lyon", "Turin", "Gdansk", "Utrecht", "Aarhus", "Graz", "Cork"]


def _invoice(n: int) -> str:
    return (f"INVOICE\n\nInvoice number: INV-{4000 + n}\nInvoice date: {n + 1} March 2026\n\n"
            f"Bill to: Harbour Logistics Ltd, {CITIES[n % 10]}\nContact: accounts{n}@harbour.example\n\n"
            f"Warehouse shelving installation    1   {1000 + n * 10}.00\n"
            f"Total due: {1200 + n * 12}.00 GBP\nPayment by bank transfer within 30 days.\n")


def _resume(n: int) -> str:
    return (f"Priya Raman {n}\npriya{n}@example.com | +44 7700 900{100 + n} | {CITIES[n % 10]}\n\n"
            "Profile\nBackend engineer with six years of experience building payment systems.\n\n"
            f"Experience\nSenior Software Engineer, Northwind Payments, 20{10 + n} - present\n"
            "- Led the migration of the settlement service to Kubernetes.\n\n"
            "Skills\nPython, Go, PostgreSQL, Kafka, Kubernetes, AWS\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("experiments") / "data",
                         env={"DOCLANE_EXPERIMENTS": json.dumps(EXPERIMENTS)})
    with proc:
        yield proc


@pytest.fixture(scope="module")
def root_token(server: ServerProcess) -> str:
    return login(server.url, "root", "root-pw")


def _heldout_invoice(directory: Path) -> Path:
    """A document of the classifier's held-out set, rendered as the evaluation renders it."""
    from dataclasses import replace

    from models.classify.sources import parse_sources, render

    source = Path(__file__).resolve().parents[2] / "models" / "classify" / "heldout" / "invoice.txt"
    doc = next(iter(parse_sources(source.read_text(encoding="utf-8"))))
    return render(replace(doc, format="txt"), directory)


def _gold_sentence(directory: Path) -> Path:
    """A sentence of the NER gold set as a text file of exactly its text."""
    source = Path(__file__).resolve().parents[2] / "models" / "ner" / "gold" / "gold.jsonl"
    item = json.loads(source.read_text(encoding="utf-8").splitlines()[0])
    path = directory / "gold-sentence.txt"
    path.write_bytes(item["text"].encode())
    return path


async def test_documents_split_between_versions_and_an_admin_compares_them(alice, server, root_token,
                                                                            tmp_path):
    paths = [make_text(tmp_path / f"doc-{n}.txt", _invoice(n) if n % 2 else _resume(n)) for n in range(20)]
    paths += [_heldout_invoice(tmp_path), _gold_sentence(tmp_path)]
    response = await upload(alice, paths)
    ids = [r["document"]["id"] for r in response.json()["results"]]
    details = await asyncio.gather(*(wait_until_terminal(alice, d, timeout_s=180) for d in ids))
    assert {d["status"] for d in details} == {"completed"}

    arms = {"control": 0, "candidate": 0}
    for detail in details:
        # The arm is recorded on the document and on the event that says it is analysed.
        assignment = next(a for a in detail["experiments"] if a["experiment"] == "clf-strict")
        assert assignment == assign(CLASSIFIER, detail["id"]).model_dump(mode="json")
        analysing = next(e for e in detail["history"] if e["status"] == "analyzing")
        assert analysing["experiments"] == detail["experiments"]
        arms[assignment["arm"]] += 1
        version = detail["classification"]["version"]
        assert version.endswith("+threshold=0.99") == (assignment["arm"] == "candidate")
        ner = next(a for a in detail["experiments"] if a["experiment"] == "ner-rules")
        assert ner["version"] == "spacy+rules" and ner["shadow_version"] == "rules"
    assert arms["control"] > 0 and arms["candidate"] > 0

    # Shadow keeps the control's result: the trained model's entities, skills included.
    resume = next(d for d in details if d["doc_type"] == "resume")
    entities = (await alice.get(f"/documents/{resume['id']}/entities")).json()["entities"]
    assert {e["version"] for e in entities} == {"ner-spacy-sm@1"}
    assert "SKILL" in {e["label"] for e in entities}  # rules alone find no skills

    async with httpx.AsyncClient(base_url=server.url, headers=auth(root_token), timeout=60) as root:
        report = (await root.get("/admin/experiments")).json()["experiments"]
    by_name = {e["name"]: e for e in report}
    clf = by_name["clf-strict"]
    assert clf["control"]["version"] == "trained" and clf["candidate"]["version"] == "trained@threshold=0.99"
    assert clf["control"]["documents"] == arms["control"]
    assert clf["candidate"]["documents"] == arms["candidate"]
    for arm in ("control", "candidate"):
        figures = clf[arm]
        assert figures["failures"] == 0 and 0 < figures["latency_ms_p50"] <= figures["latency_ms_p95"]
        assert 0 < figures["mean_confidence"] <= 1
    assert clf["control"]["gold_documents"] + clf["candidate"]["gold_documents"] == 1  # the held-out invoice
    assert sum(clf[arm]["accuracy"] is not None for arm in ("control", "candidate")) == 1

    ner = by_name["ner-rules"]
    assert ner["mode"] == "shadow"
    assert ner["control"]["documents"] == ner["candidate"]["documents"] == len(ids)
    assert ner["control"]["shadowed_units"] >= len(ids)
    # Rules find the emails and amounts but no names or skills: the versions disagree in part.
    assert 0 < ner["control"]["agreement"] < 1
    assert ner["control"]["agreement"] == ner["candidate"]["agreement"]
    assert ner["control"]["gold_documents"] == ner["candidate"]["gold_documents"] == 1  # the gold sentence
    assert ner["control"]["accuracy"] > ner["candidate"]["accuracy"]  # F1 of each on it

    analysis = by_name["analysis-mock"]
    assert analysis["control"]["documents"] + analysis["candidate"]["documents"] == len(ids)
    assert analysis["control"]["documents"] > 0 and analysis["candidate"]["documents"] > 0
    assert analysis["control"]["tokens"] is None and analysis["candidate"]["tokens"] > 0  # local is free
    for detail in details:
        arm = next(a for a in detail["experiments"] if a["experiment"] == "analysis-mock")["arm"]
        served = "mock" if arm == "candidate" else "local"
        chunks = (await alice.get(f"/documents/{detail['id']}/chunks")).json()
        assert {c["analysis"]["provider"] for c in chunks} == {served}
        assert detail["analysis"]["provider"] == served  # the document's summary comes from its arm too
    # Identical content analysed before is analysed again by each copy's own arm.
    copies = [make_text(tmp_path / f"copy-{n}.txt", _invoice(1)) for n in range(6)]
    copy_ids = [r["document"]["id"] for r in (await upload(alice, copies)).json()["results"]]
    for detail in await asyncio.gather(*(wait_until_terminal(alice, d, timeout_s=120) for d in copy_ids)):
        arm = next(a for a in detail["experiments"] if a["experiment"] == "analysis-mock")["arm"]
        chunks = (await alice.get(f"/documents/{detail['id']}/chunks")).json()
        assert {c["analysis"]["provider"] for c in chunks} == {"mock" if arm == "candidate" else "local"}

    embeddings = by_name["embed-wordllama"]
    assert embeddings["control"]["documents"] == embeddings["candidate"]["documents"] > 0
    assert embeddings["candidate"]["failures"] == 0 and embeddings["candidate"]["latency_ms_p50"] > 0
    hits = (await alice.get("/search", params={"q": "warehouse shelving invoice"})).json()
    assert hits["model"].startswith("minilm")  # the index still holds the control's vectors only

    # Prometheus: every model run, shadow runs included, labelled with the model's own version.
    metrics = (await alice.get("/metrics")).text
    for component, version in (("classifier", "+threshold=0.99"), ("ner", "ner-rules@1"),
                               ("ner", "ner-spacy-sm@1"), ("embeddings", "wordllama-l2"),
                               ("analysis", "mock/")):
        assert any(line.startswith("doclane_model_seconds_count{") and f'component="{component}"' in line
                   and version in line for line in metrics.splitlines()), (component, version)


async def test_the_comparison_is_for_admins_only(alice):
    response = await alice.get("/admin/experiments")
    assert response.status_code == 403 and "admin" in response.json()["detail"]
    async with httpx.AsyncClient(base_url=str(alice.base_url)) as anonymous:
        assert (await anonymous.get("/admin/experiments")).status_code == 401


async def test_search_keeps_passages_mentioning_an_entity(alice, server, tmp_path):
    acme = make_text(tmp_path / "acme.txt", "Letter to Acme Corp about the payment of the March "
                                            "invoice.\nPlease pay by 3 March 2026. Regards, Dana Whitfield")
    globex = make_text(tmp_path / "globex.txt", "Letter to Globex Ltd about the payment of the March "
                                                "invoice.\nPlease pay soon. Regards, Omar Haddad")
    ids = [r["document"]["id"] for r in (await upload(alice, [acme, globex])).json()["results"]]
    for doc_id in ids:
        assert (await wait_until_terminal(alice, doc_id))["status"] == "completed"
    found = (await alice.get(f"/documents/{ids[0]}/entities")).json()["rollup"]
    org = next(r for r in found if r["label"] == "ORG")

    for entity in (f"ORG:{org['text'].upper()}", org["text"], "date:2026-03-03"):
        answer = await alice.get("/search", params={"q": "payment invoice", "entity": entity})
        hits = answer.json()["results"]
        assert hits and {h["document_id"] for h in hits} == {ids[0]}, entity
    none = (await alice.get("/search", params={"q": "payment", "entity": "PERSON:Nobody Atall"})).json()
    assert none["results"] == []
    blank = await alice.get("/search", params={"q": "payment", "entity": "ORG:  "})
    assert blank.status_code == 422 and "LABEL:text" in blank.json()["detail"]

    # The CLI passes it through.
    cli = subprocess.run(
        [sys.executable, "-m", "doclane", "search", "payment invoice", "--entity", org["text"],
         "--url", server.url, "--user", "alice", "--password", "alice-pw", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert "acme.txt" in cli.stdout and "globex.txt" not in cli.stdout


@pytest.mark.parametrize(("command", "fix"), [
    (["serve", "--port", "0"], "unknown NER version 'bert'; use one of spacy+rules, rules"),
    (["worker", "index"], "unknown NER version 'bert'; use one of spacy+rules, rules"),
])
def test_a_bad_experiment_stops_the_service_with_one_line_saying_what_to_fix(command, fix, tmp_path):
    bad = json.dumps([{**EXPERIMENTS[1], "candidate": "bert"}])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCLANE_", "OPENAI_"))}
    done = subprocess.run([sys.executable, "-m", "doclane", *command, "--data-dir", str(tmp_path)],
                          env={**env, "DOCLANE_EXPERIMENTS": bad}, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert lines == [f"Configuration error: DOCLANE_EXPERIMENTS: experiment 'ner-rules': {fix}"]
