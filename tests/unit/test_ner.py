"""The NER model: gold set, leak guard, normalisation, rules, the trained extractor, reproducibility.

Tests of the shipped model need ``make models`` to have built it into the
settings' models directory (``make test`` does); the reproducibility test trains
a reduced configuration of its own (300 sentences, 1 epoch) twice, since the full
build takes a minute or two.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from doclane.ai.ner import NerModelMissing, extract_entities, load_extractor, model_path
from doclane.ai.ner._normalise import normalise_date, normalise_money, normalise_phone
from doclane.ai.ner._rules import find_rule_spans
from doclane.ai.ner._skills import SkillMatcher
from doclane.infra.settings import Settings
from doclane.schemas.enrichment import Entity, EntityLabel
from models.ner.evaluate import evaluate, evaluate_dev
from models.ner.generate import HERE, generate
from models.ner.scoring import (
    GoldLeakError,
    check_no_leak,
    label_counts,
    load_dev,
    load_gold,
    parse_inline,
    score,
    validate_gold,
)
from models.ner.train import TrainConfig, build


@pytest.fixture(scope="module")
def models_dir() -> Path:
    path = Settings().models_dir
    if not model_path(path).exists():
        pytest.fail(f"the NER model is not built in {path}: run `make models` first")
    return path


def _check_offsets(text: str, entities: list[Entity]) -> None:
    previous_end = 0
    for e in entities:
        assert text[e.start:e.end] == e.text
        assert e.start >= previous_end, "entities overlap or are not sorted"
        previous_end = e.end


# --- the gold set ---

def test_gold_set_is_valid_and_large_enough() -> None:
    gold = load_gold()
    assert len(gold) >= 400
    assert validate_gold(gold) == []
    counts = label_counts(gold)
    assert all(counts[label.value] >= 10 for label in EntityLabel)


def test_dev_set_is_valid_and_apart_from_the_gold_set() -> None:
    dev = load_dev()
    assert len(dev) >= 150
    assert validate_gold(dev) == []
    assert all(label_counts(dev)[label.value] >= 4 for label in EntityLabel)
    gold_texts = {s.text.strip().lower() for s in load_gold()}
    assert not [s.id for s in dev if s.text.strip().lower() in gold_texts]


def test_inline_annotations_become_offsets() -> None:
    text, spans = parse_inline("Met [[Ana Silva|PERSON]] in [[Porto|LOCATION]].")
    assert text == "Met Ana Silva in Porto."
    assert [(text[s:e], label) for s, e, label in spans] == [("Ana Silva", "PERSON"), ("Porto", "LOCATION")]


def test_validation_finds_bad_offsets() -> None:
    from models.ner.scoring import GoldSentence

    bad = [GoldSentence("x-1", "other", "Anna Berg met Tom.", [(0, 9, "PERSON"), (5, 9, "PERSON"),
                                                              (14, 40, "PERSON"), (13, 17, "NAME")])]
    problems = validate_gold(bad)
    assert any("overlaps" in p for p in problems)
    assert any("outside" in p for p in problems)
    assert any("unknown label" in p for p in problems)
    assert any("whitespace" in p for p in problems)


def test_leak_check_catches_a_planted_gold_sentence(tmp_path: Path) -> None:
    gold = load_gold()
    planted = gold[17].text
    training = ["Maria Lopez joined Acme Corp.", f"Some other line. {planted.upper()}  "]
    with pytest.raises(GoldLeakError, match=gold[17].id):
        check_no_leak(training, gold)
    check_no_leak(training[:1], gold)
    # evaluate() refuses before it loads any model.
    (tmp_path / "training_texts.jsonl").write_text(
        "\n".join(json.dumps(t) for t in training), encoding="utf-8")
    with pytest.raises(GoldLeakError):
        evaluate(tmp_path, gold)


def test_leak_check_catches_a_planted_dev_sentence(tmp_path: Path) -> None:
    dev = load_dev()
    training = ["Maria Lopez joined Acme Corp.", f"Intro. {dev[40].text.lower()}"]
    (tmp_path / "training_texts.jsonl").write_text(
        "\n".join(json.dumps(t) for t in training), encoding="utf-8")
    with pytest.raises(GoldLeakError, match=f"dev sentence.*{dev[40].id}"):
        evaluate_dev(tmp_path)
    with pytest.raises(GoldLeakError, match="dev"):
        evaluate(tmp_path)


def test_leak_check_catches_a_sentence_of_the_second_dev_part(tmp_path: Path) -> None:
    dev = load_dev()
    planted = next(s for s in reversed(dev) if s.id.startswith("dev2-") and len(s.text) > 40)
    (tmp_path / "training_texts.jsonl").write_text(
        json.dumps(f"Intro. {planted.text}"), encoding="utf-8")
    with pytest.raises(GoldLeakError, match=planted.id):
        evaluate_dev(tmp_path)


def test_handwritten_training_sentences_are_annotated_and_mixed_in() -> None:
    from models.ner.generate import handwritten_examples

    examples = handwritten_examples()
    assert len(examples) >= 500
    for text, ents in examples:
        assert all(0 <= s < e <= len(text) and text[s:e] == text[s:e].strip() for s, e, _ in ents)
        assert not [label for _, _, label in ents if label in ("EMAIL", "PHONE")]  # rules find those
    assert {label for _, ents in examples for _, _, label in ents} == {
        "PERSON", "ORG", "LOCATION", "DATE", "MONEY", "SKILL", "JOB_TITLE"}


def test_generated_training_data_contains_no_dev_or_gold_sentence() -> None:
    texts = [text for text, _ in generate(4000)]
    check_no_leak(texts, load_gold())
    check_no_leak(texts, load_dev(), what="dev")


# --- normalisation and rules ---

@pytest.mark.parametrize(("text", "value"), [
    ("March 3, 2025", "2025-03-03"), ("3 March 2025", "2025-03-03"), ("2025-03-03", "2025-03-03"),
    ("Monday, March 3rd, 2025", "2025-03-03"), ("28.02.2025", "2025-02-28"), ("04/15/2025", "2025-04-15"),
    ("25/03/2025", "2025-03-25"), ("March 2025", "March 2025"), ("next Friday", "next Friday"),
    ("31/02/2025", "31/02/2025"),
])
def test_dates_are_iso_when_they_name_a_day(text: str, value: str) -> None:
    assert normalise_date(text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("$1,250.00", "1250.00 USD"), ("€1.250,00", "1250.00 EUR"), ("1,200 euros", "1200.00 EUR"),
    ("USD 4,000", "4000.00 USD"), ("£2.5 million", "2500000.00 GBP"), ("$120k", "120000.00 USD"),
    ("CHF 8'400.00", "8400.00 CHF"), ("€625,80", "625.80 EUR"), ("¥385,000", "385000.00 JPY"),
    ("₹1,18,000", "118000.00 INR"), ("Rs. 48,000", "48000.00 INR"), ("R 4 250", "4250.00 ZAR"),
    ("NZ$312.50", "312.50 NZD"), ("KES 86,500", "86500.00 KES"), ("₦450,000", "450000.00 NGN"),
    ("₹842 crore", "8420000000.00 INR"),
])
def test_amounts_carry_their_currency(text: str, value: str) -> None:
    assert normalise_money(text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("+44 (0)20 7946 0958", "+442079460958"), ("(646) 555-0132", "6465550132"),
    ("0049 30 1234567", "+49301234567"), ("+1-555-123-4567", "+15551234567"),
])
def test_phones_are_digits_with_plus_when_international(text: str, value: str) -> None:
    assert normalise_phone(text) == value


def test_rules_find_emails_phones_amounts_and_dates_but_not_ids() -> None:
    text = ("Invoice INV-2024-0012 of 2025-03-03: €1.250,00 due 04/15/2025. "
            "Ask Jane.Doe@Acme.com or +1 (555) 123-4567. IBAN DE89 3704 0044 0532 0130 00.")
    found = [(text[s:e], label.value) for s, e, label in find_rule_spans(text)]
    assert found == [("2025-03-03", "DATE"), ("€1.250,00", "MONEY"), ("04/15/2025", "DATE"),
                     ("Jane.Doe@Acme.com", "EMAIL"), ("+1 (555) 123-4567", "PHONE")]


def test_rules_find_amounts_in_many_currencies_and_groupings_but_not_codes() -> None:
    text = ("Total ₹1,18,000 (GST 18%). Pls transfer R 4 250 to FNB acc 62812345678; deposit R250 000. "
            "Balance NZ$312.50, pay KES 86,500 or ₦450,000. Rs 1,95,000 for catering. Call (02) 9876 5432. "
            "Revenue grew from R3 million. R&D team, Form R 12, release R2-D2, Python 3.12 and 24/7 support.")
    found = [(text[s:e], label.value) for s, e, label in find_rule_spans(text)]
    assert found == [("₹1,18,000", "MONEY"), ("R 4 250", "MONEY"), ("R250 000", "MONEY"),
                     ("NZ$312.50", "MONEY"), ("KES 86,500", "MONEY"), ("₦450,000", "MONEY"),
                     ("Rs 1,95,000", "MONEY"), ("(02) 9876 5432", "PHONE"), ("R3 million", "MONEY")]


# --- the skill lexicon ---

@pytest.fixture(scope="module")
def skill_matcher() -> SkillMatcher:
    lines = [line for name in ("skills.txt", "skill_matcher.txt")
             for line in (HERE / "lexicon" / name).read_text(encoding="utf-8").splitlines()]
    return SkillMatcher(lines)


@pytest.mark.parametrize(("text", "skills"), [
    ("Skills: Python, R, Excel and Power BI", ["Python", "R", "Excel", "Power BI"]),
    ("Rewrote the billing service in Go last year.", ["Go"]),
    ("Go to the second floor and ask for Ruby.", []),
    ("We excel at teamwork and move fast.", []),
    ("Languages: English (native), German (fluent)", ["English", "German"]),
    ("The German subsidiary signed the contract.", []),
    ("Built with Node.js, C++, C# and .NET; CI/CD on GitHub Actions.",
     ["Node.js", "C++", "C#", ".NET", "CI/CD", "GitHub Actions"]),
    ("Strong Project Management and SAP FICO experience", ["Project Management", "SAP FICO"]),
    ("VAT (20%): 408.00", []),
])
def test_skill_lexicon_needs_context_for_ambiguous_words(
        skill_matcher: SkillMatcher, text: str, skills: list[str]) -> None:
    assert [text[m.start:m.end] for m in skill_matcher.find(text)] == skills


# --- the trained extractor ---

def test_missing_model_names_make_models(tmp_path: Path) -> None:
    with pytest.raises(NerModelMissing, match="make models"):
        load_extractor(Settings(models_dir=tmp_path))


def test_realistic_sentences_yield_the_expected_entities(models_dir: Path) -> None:
    extractor = load_extractor(Settings(models_dir=models_dir))
    assert extractor.version == "ner-spacy-sm@1"
    text = ("Laura Bianchi worked as a Senior Data Engineer at Spotify in Stockholm, "
            "where she built pipelines in Python and Airflow. Contact: Laura.Bianchi@Example.com, "
            "+46 70 123 45 67. The contract starts on 1 April 2025 and pays €6.500,00 a month.")
    entities = extractor.extract(text)
    _check_offsets(text, entities)
    got = {(e.label.value, e.text, e.value) for e in entities}
    assert {
        ("PERSON", "Laura Bianchi", "Laura Bianchi"),
        ("JOB_TITLE", "Senior Data Engineer", "Senior Data Engineer"),
        ("ORG", "Spotify", "Spotify"), ("LOCATION", "Stockholm", "Stockholm"),
        ("SKILL", "Python", "Python"), ("SKILL", "Airflow", "Airflow"),
        ("EMAIL", "Laura.Bianchi@Example.com", "laura.bianchi@example.com"),
        ("PHONE", "+46 70 123 45 67", "+46701234567"), ("DATE", "1 April 2025", "2025-04-01"),
        ("MONEY", "€6.500,00", "6500.00 EUR"),
    } <= got


def test_offsets_are_valid_on_a_long_messy_text(models_dir: Path) -> None:
    extractor = load_extractor(Settings(models_dir=models_dir))
    text = "\n\n".join(s.text for s in load_gold()[:120]) + "\n  \t Dr. Ana Silva's team  "
    _check_offsets(text, extractor.extract(text))


def test_safe_from_threads_and_loadable_in_a_spawned_worker(models_dir: Path) -> None:
    texts = [s.text for s in load_gold()[:40]]
    expected = [extract_entities(t, models_dir) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda t: extract_entities(t, models_dir), texts)) == expected
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(extract_entities, texts[0], models_dir).result(timeout=90) == expected[0]


# --- training ---

def test_training_is_reproducible(tmp_path: Path) -> None:
    """REDUCED configuration (300 sentences, 1 epoch): the same inputs give the same model."""
    from doclane.ai.ner._artefact import _INPUT_GLOBS
    from doclane.ai.ner.spacy_ner import SKILL_LEXICON, SpacyEntityExtractor

    assert "lexicon/*.txt" in _INPUT_GLOBS
    gold = load_gold()[:150]
    scores = []
    for run in ("a", "b"):
        build(tmp_path / run, TrainConfig(examples=300, epochs=1), log=False)
        extractor = SpacyEntityExtractor(tmp_path / run)
        predicted = [[(e.start, e.end, e.label.value) for e in extractor.extract(s.text)] for s in gold]
        scores.append((score(gold, predicted).prf(), predicted))
    assert scores[0] == scores[1]
    # The run-time skill lexicon ships inside the artefact, and the hash covers its source.
    lexicon = (tmp_path / "a" / SKILL_LEXICON).read_text(encoding="utf-8")
    assert "?Excel" in lexicon and "Python" in lexicon
