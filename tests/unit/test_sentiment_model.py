"""The sentence sentiment model (models/sentiment): reproducible, leak-free, reads bad news told as facts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.analysis_set import load_labels
from doclane.ai._sentiment import chunk_sentiment, lexicon_scores
from doclane.ai._sentiment_model import load_sentence_model
from doclane.ai._text import segment
from doclane.schemas.analysis import Sentiment
from models.sentiment import pipeline
from models.sentiment.leakage import LeakError, check, find_leaks


def test_no_training_sentence_is_in_any_evaluation_document() -> None:
    sentences = [text for text, _ in pipeline.load_sentences()]
    documents = {lab.id: lab.path.read_text(encoding="utf-8") for lab in load_labels()}
    assert len(sentences) >= 600 and len(documents) >= 150
    assert find_leaks(sentences, documents) == []


def test_the_leak_check_catches_a_copied_or_edited_sentence() -> None:
    documents = {"complaint": "<p>Dear team,</p>"
                              "<p>The refund I was promised in <b>writing</b> never came.</p>"}
    with pytest.raises(LeakError, match="complaint: exact"):
        check(["The refund I was promised in writing never came."], documents)
    # A changed last word still shares a run of eight words.
    assert [leak.kind for leak in find_leaks(
        ["The refund I was promised in writing never arrived."], documents)] == ["shared run of words"]
    assert find_leaks(["The refund never came."], documents) == []


def test_training_is_reproducible() -> None:
    pairs = pipeline.load_sentences()
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    lexicon = lexicon_scores(texts)
    first = pipeline._fit(texts, labels, lexicon, 4.0)["classifier"].coef_
    second = pipeline._fit(texts, labels, lexicon, 4.0)["classifier"].coef_
    assert np.array_equal(first, second)


def test_the_artefact_hash_follows_the_training_data(tmp_path: Path) -> None:
    before = pipeline.fingerprint()
    data = tmp_path / "data"
    shutil.copytree(pipeline.DATA, data)
    assert pipeline.fingerprint(data) == before  # same sentences, same model
    with (data / "neutral.txt").open("a", encoding="utf-8") as out:
        out.write("The depot opens at seven.\n")
    assert pipeline.fingerprint(data) != before  # a new sentence trains a new model


def test_bad_news_told_as_facts_reads_negative_and_plain_facts_neutral() -> None:
    # Written for this test: none of these is a training sentence or in the evaluation set.
    model = load_sentence_model()
    bad = ["The spare keys we ordered in May have still not been delivered.",
           "The lift broke down again on Monday and residents were stuck inside for an hour."]
    good = ["Every chair survived the move without a scratch."]
    plain = ["The depot opens at seven and closes at four on weekdays."]
    texts = bad + good + plain
    polarity = model.polarity(texts, lexicon_scores(texts))
    assert all(p < -0.3 for p in polarity[:2]), polarity
    assert polarity[2] > 0.3, polarity
    assert abs(polarity[3]) < 0.3, polarity


def test_a_complaint_of_facts_is_negative() -> None:
    text = ("On 2 March I ordered a sofa for 900 euros. The delivery date passed without a word. "
            "Your call centre told me three times that it was on its way. It has still not "
            "arrived, and my emails have gone unanswered for five weeks.")
    label, score = chunk_sentiment(segment(text))
    assert label is Sentiment.NEGATIVE
    assert score < 0


def test_no_training_document_shares_words_with_an_evaluation_document() -> None:
    training = pipeline.load_documents()
    evaluation = {lab.id: lab.path.read_text(encoding="utf-8") for lab in load_labels()}
    assert len(training) >= 200
    assert {doc.writer for doc in training} >= {"a", "b", "c", "d"}
    assert not {doc.id for doc in training} & set(evaluation)
    assert find_leaks([doc.path.read_text(encoding="utf-8") for doc in training], evaluation) == []


def test_the_artefact_hash_follows_the_training_documents(tmp_path: Path) -> None:
    before = pipeline.fingerprint()
    documents = tmp_path / "documents"
    shutil.copytree(pipeline.DOCUMENTS, documents)
    assert pipeline.fingerprint(documents=documents) == before
    labels = documents / "labels-a.jsonl"
    lines = labels.read_text(encoding="utf-8").splitlines()
    labels.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")  # one document fewer
    assert pipeline.fingerprint(documents=documents) != before


# Written for these tests, in no training or evaluation file: what extractive-v5's rule got
# wrong on documents by other writers (a verdict in a closing line, in figures, in a story).
THANKS_AFTER_A_MISTAKE = """Dear Mr Okafor,

Last Tuesday the garage fitted the wrong tyres to my van, a size too small, and I only noticed
at the depot. I rang you at eight in the morning. By nine your mechanic had driven out to the
depot with the right set, fitted them in the car park and refused to take anything for his time.

I have used Brookfield Motors for six years and this is exactly why I keep coming back.

Kind regards,
Jasmine Hale"""

CLOSURE_IN_PLAIN_FACTS = """Update on the Hexham depot

The board met on 4 March and approved the transfer of all Hexham routes to the Carlisle depot.
Hexham will stop taking deliveries on 30 April and will close on 31 May.
Forty-two roles at Hexham will end; nine roles will be offered at Carlisle, 60 miles away.
Formal consultation with staff starts on 11 March."""

FRIENDLY_BRIEF = """Design exercise: a booking page for a climbing wall

We're thrilled you're taking part, and we think you'll enjoy this one!
Design the screen where a member books a two-hour slot at the wall.
Show the available slots for the next seven days and the number of free places in each.
Include the confirmation step and what happens when a slot fills up while booking.
Send us your Figma file by Friday at noon. Have fun with it!"""


@pytest.mark.parametrize(("text", "expected"), [
    (THANKS_AFTER_A_MISTAKE, Sentiment.POSITIVE),
    (CLOSURE_IN_PLAIN_FACTS, Sentiment.NEGATIVE),
    (FRIENDLY_BRIEF, Sentiment.NEUTRAL),
], ids=["thanks-after-a-mistake", "closure-in-plain-facts", "friendly-brief"])
def test_the_document_model_reads_the_writers_verdict(text: str, expected: Sentiment) -> None:
    label, score = chunk_sentiment(segment(text))
    assert label is expected
    if expected is Sentiment.POSITIVE:
        assert score > 0
    elif expected is Sentiment.NEGATIVE:
        assert score < 0
