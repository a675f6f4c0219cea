# ruff: noqa: E501  (the documents below are data, kept one paragraph a line)
"""The document classifier: reproducible training, the leak check, calibrated scores, the
``other`` threshold, real-looking documents of every class, and loading in a spawned worker."""

from __future__ import annotations

import json
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import faker.providers.date_time as faker_dates
import pytest

from doclane.ai.classify import LinearDocClassifier, load_classifier
from doclane.ai.classify.linear import load_artefact
from doclane.infra.settings import Settings
from doclane.schemas.enrichment import DocType
from models.classify.evaluate import HELDOUT, check_leaks
from models.classify.generate import generated_docs
from models.classify.leakage import LeakError
from models.classify.pipeline import HANDWRITTEN, build, dev_docs
from models.classify.sources import read_source_dir

# The full artefact trains in about a minute cold on 2 cores (make models builds it first).
pytestmark = pytest.mark.timeout(300)

DOCUMENTS = {
    DocType.INVOICE: [
        "Invoice no. 5521\nDate: 4 April 2025\nBill to: Orchard Dental Ltd\nDental chair servicing 2 x 180.00 = 360.00\n"
        "Subtotal 360.00\nVAT 20% 72.00\nTotal due £432.00\nPayment terms: 30 days. Bank transfer to sort code 40-11-22.",
    ],
    DocType.CONTRACT: [
        "CONSULTANCY AGREEMENT\nThis Agreement is made between Blue Fern Ltd (the Company) and Ravi Menon (the Consultant).\n"
        "1. Services. The Consultant shall provide marketing advice as described in the Schedule.\n"
        "2. Fees. The Company shall pay £600 per day within 30 days of invoice.\n3. Termination. Either party may "
        "terminate this Agreement on 14 days' written notice.\n4. Governing law. This Agreement is governed by the "
        "laws of England and Wales.\nSigned by both parties.",
    ],
    DocType.RESUME: [
        "Hannah Kowalski\nhannah.k@mail.com | Krakow\nProfile\nQA engineer with 5 years of experience in test "
        "automation.\nExperience\nQA Engineer, Allegro (2020-present)\n- Built Cypress test suites\nEducation\n"
        "BSc Computer Science, AGH University, 2019\nSkills\nSelenium, Cypress, Python, SQL, Jira",
    ],
    DocType.JOB_DESCRIPTION: [
        "We're hiring: Payroll Officer\nLocation: Glasgow (hybrid). Salary: £30,000-£34,000.\nAbout the role\n"
        "You will run the monthly payroll for 900 employees.\nResponsibilities\n- Process starters and leavers\n"
        "- Answer payroll queries\nRequirements\n- 2+ years of payroll experience\n- CIPP qualification desirable\n"
        "Benefits: 28 days holiday, pension. Apply with your CV by 30 May.",
    ],
    DocType.REPORT: [
        "Annual Safety Report 2024\nExecutive summary\nLost-time injuries fell from 9 to 4. Near-miss reporting rose "
        "by 35%.\nFindings\nMost incidents happened during manual handling in the loading bay.\nRecommendations\n"
        "- Introduce lifting aids\n- Refresh manual handling training\nConclusion\nSafety performance improved "
        "but the loading bay remains the main risk.",
    ],
    DocType.PAPER: [
        "Attention-Based Models for Crop Yield Prediction\nAbstract\nWe propose a temporal attention model for "
        "county-level yield prediction from satellite time series. On data from 1,200 counties it reduces RMSE by "
        "8% relative to an LSTM baseline.\n1 Introduction\nYield forecasting supports food security (Lobell et al., "
        "2015).\n2 Related Work\n3 Method\n4 Experiments\n5 Conclusion\nReferences\n[1] Lobell, D. et al. (2015).",
    ],
    DocType.PRESENTATION: [
        "Slide 1\nCustomer Support: Q1 Review\nSlide 2\nAgenda\n- Volumes\n- Satisfaction\n- Next steps\nSlide 3\n"
        "Volumes\n- 12,400 tickets\n- 88% solved first contact\nSlide 4\nNext steps\n- Launch chat support\nSlide 5\n"
        "Questions?",
    ],
    DocType.LETTER: [
        "Dear Mr Evans,\nThank you for your letter of 2 May about the noise from the building site. I am sorry for "
        "the disturbance. We have asked the contractor to start work no earlier than 8 am.\nPlease contact me if "
        "the problem continues.\nYours sincerely,\nLaura Bennett\nCommunity Liaison Officer",
    ],
    DocType.OTHER: [
        "Banana Pancakes\nServes 2\nIngredients\n- 1 ripe banana\n- 2 eggs\n- 40 g oats\nMethod\n1. Mash the banana.\n"
        "2. Whisk in the eggs and oats.\n3. Fry spoonfuls in a hot pan for 2 minutes each side.\nServe with berries.",
    ],
}


@pytest.fixture(scope="module")
def classifier() -> LinearDocClassifier:
    """The real artefact from the default models directory (built now if make models didn't)."""
    return load_classifier(Settings())


def test_training_is_reproducible(tmp_path: Path) -> None:
    """A second build, in this process, makes the classifier that ``make models`` made
    (another process, maybe another day): same hash, same selection, same scores."""
    first = build(Settings().models_dir)  # there already: `make test` runs `make models` first
    second = build(tmp_path)
    assert first.name == second.name  # same data and code, same hash
    one, two = (json.loads((p / "manifest.json").read_text()) for p in (first, second))
    assert one["selection"] == {k: {**v, "fit_s": one["selection"][k]["fit_s"]}
                                for k, v in two["selection"].items()}
    assert (one["model"], one["threshold"], one["sharpen"], one["dev"]) == (
        two["model"], two["threshold"], two["sharpen"], two["dev"])
    text = DOCUMENTS[DocType.INVOICE][0]
    assert load_artefact(str(first)).classify(text).scores == load_artefact(str(second)).classify(text).scores


def test_the_evaluation_fails_when_a_heldout_document_is_in_the_training_data() -> None:
    heldout = [("ho-1", DOCUMENTS[DocType.LETTER][0]), ("ho-2", DOCUMENTS[DocType.PAPER][0])]
    training = [("gen-1", DOCUMENTS[DocType.RESUME][0]), ("gen-2", DOCUMENTS[DocType.REPORT][0])]
    assert check_leaks(heldout, training) < 0.5
    with pytest.raises(LeakError, match="ho-1"):  # planted as is, with other formatting
        check_leaks(heldout, [*training, ("gen-3", DOCUMENTS[DocType.LETTER][0].upper().replace("\n", "  "))])
    edited = DOCUMENTS[DocType.PAPER][0].replace("8%", "9%").replace("1,200", "1,300") + " Extra closing words."
    with pytest.raises(LeakError, match="ho-2"):  # a near duplicate
        check_leaks(heldout, [*training, ("gen-4", edited)])


def test_development_documents_are_apart_from_training_and_heldout_documents() -> None:
    """The development set tunes the model, so none of it may be trained on, and the held-out
    set scores it, so none of it may be in the development set (checked on the sources here,
    on the texts the readers extract in the evaluation)."""
    dev = [(d.id, d.body) for d in dev_docs()]
    assert len(dev) >= 60 and len({d.label for d in dev_docs()}) == len(DocType)
    written = [(d.id, d.body) for d in read_source_dir(HANDWRITTEN)]
    heldout = [(d.id, d.body) for d in read_source_dir(HELDOUT)]
    assert check_leaks(dev, written, what="development") < 0.5
    assert check_leaks(heldout, dev, where="development set") < 0.5
    with pytest.raises(LeakError, match=f"development document.*{dev[3][0]}"):
        check_leaks(dev, [*written, ("hw-x", dev[3][1].upper())], what="development")
    with pytest.raises(LeakError, match="in the development set"):
        check_leaks(heldout, [*dev, ("dv-x", heldout[5][1])], where="development set")


def test_scores_are_calibrated_probabilities_of_every_class(classifier: LinearDocClassifier) -> None:
    result = classifier.classify(DOCUMENTS[DocType.INVOICE][0], filename="a.txt", content_type="text/plain")
    assert set(result.scores) == {t.value for t in DocType}
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert result.confidence == result.scores[result.label.value]
    assert result.version.startswith("doctype-tfidf-") and "@" in result.version


def test_a_label_below_the_threshold_becomes_other(classifier: LinearDocClassifier) -> None:
    strict = LinearDocClassifier(classifier.path, classifier._pipeline, {**classifier.manifest, "threshold": 1.0})
    result = strict.classify(DOCUMENTS[DocType.RESUME][0])
    assert result.label is DocType.OTHER
    assert max(result.scores, key=lambda c: result.scores[c]) != "other"


@pytest.mark.parametrize(("expected", "text"), [(t, x) for t, texts in DOCUMENTS.items() for x in texts])
def test_real_looking_documents_are_classified_right(classifier: LinearDocClassifier, expected: DocType,
                                                     text: str) -> None:
    assert classifier.classify(text, filename="upload.txt", content_type="text/plain").label is expected


def test_the_classifier_loads_in_a_spawned_worker(classifier: LinearDocClassifier) -> None:
    assert len(pickle.dumps(classifier)) < 1000  # the path travels, not the model
    text = DOCUMENTS[DocType.PAPER][0]
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = pool.submit(classifier.classify, text).result(timeout=120)
    assert remote == classifier.classify(text)


def test_generated_documents_are_the_same_whatever_day_they_are_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """The artefact's hash covers the generator, not the date: dates relative to today made
    two builds a day apart differ under one name (seen when a build ran across midnight)."""
    made_today = generated_docs(3, 7)

    class AnyDate(type):
        def __instancecheck__(cls, value: object) -> bool:
            return isinstance(value, date)

    class NextYear(date, metaclass=AnyDate):  # today is a year on; every date is still a date
        @classmethod
        def today(cls) -> NextYear:
            real = date.today()
            return cls(real.year + 1, real.month, min(real.day, 28))

    monkeypatch.setattr(faker_dates, "dtdate", NextYear)
    assert generated_docs(3, 7) == made_today
