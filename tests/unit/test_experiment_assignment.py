"""A/B experiments: stable assignment at the configured share, config checks, the arms' comparison."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from doclane.ai.experiments import assign, bucket, compare, parse_experiments
from doclane.ai.experiments.variants import ThresholdClassifier, classify_trials, rules_entities
from doclane.consumers.lanes import lane_for
from doclane.infra.settings import Settings
from doclane.schemas.enrichment import Classification, DocType, EntityLabel
from doclane.schemas.events import Priority
from doclane.schemas.experiments import ExperimentConfig, ExperimentObservation


def _config(**fields: object) -> ExperimentConfig:
    return ExperimentConfig.model_validate({
        "name": "clf-threshold", "component": "classifier", "control": "trained",
        "candidate": "trained@threshold=0.7", "share": 0.3, **fields,
    })


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5, 0.9])
def test_a_split_sends_the_configured_share_to_the_candidate(share: float) -> None:
    config = _config(share=share)
    ids = [uuid.uuid4().hex for _ in range(2000)]
    candidates = sum(assign(config, i).arm == "candidate" for i in ids)
    # Binomial(2000, share): 4.5 standard deviations either side fails once in ~150,000 runs.
    tolerance = 4.5 * math.sqrt(2000 * share * (1 - share))
    assert abs(candidates - 2000 * share) <= tolerance


def test_assignment_is_stable_per_document_and_independent_across_experiments() -> None:
    config = _config(share=0.5)
    ids = [f"doc-{n}" for n in range(2000)]
    first = [assign(config, i).arm for i in ids]
    assert first == [assign(config, i).arm for i in ids]  # any process, any time
    other = [bucket("another-experiment", i) < 0.5 for i in ids]
    both = sum(a == "candidate" and b for a, b in zip(first, other, strict=True))
    assert abs(both - 500) <= 4.5 * math.sqrt(2000 * 0.25 * 0.75)
    assert all(0 <= bucket("x", i) < 1 for i in ids)
    assert assign(_config(share=0.0), "d").arm == "control"
    assert assign(_config(share=1.0), "d").arm == "candidate"


def test_shadow_keeps_the_control_and_runs_the_candidate_on_the_share() -> None:
    config = _config(mode="shadow", share=0.4)
    found = [assign(config, uuid.uuid4().hex) for _ in range(2000)]
    assert {a.arm for a in found} == {"control"} and {a.version for a in found} == {"trained"}
    shadowed = sum(a.shadow_version == "trained@threshold=0.7" for a in found)
    assert abs(shadowed - 800) <= 4.5 * math.sqrt(2000 * 0.4 * 0.6)
    assert all(a.shadow_version in (None, "trained@threshold=0.7") for a in found)


_GOOD = {"name": "e", "component": "ner", "control": "spacy+rules", "candidate": "rules", "share": 0.5}


@pytest.mark.parametrize(("experiments", "hint"), [
    ("[{", "not valid JSON"),
    ('{"name": "e"}', "no file"),
    ("[1]", "must be a list of objects"),
    (json.dumps([{**_GOOD, "share": 1.5}]), "experiment 'e' field 'share'"),
    (json.dumps([{**_GOOD, "component": "ocr"}]), "field 'component'"),
    (json.dumps([{**_GOOD, "mode": "canary"}]), "field 'mode'"),
    (json.dumps([{**_GOOD, "colour": "red"}]), "field 'colour'"),
    (json.dumps([{**_GOOD, "candidate": "spacy+rules"}]), "the candidate must be another version"),
    (json.dumps([{**_GOOD, "candidate": "bert"}]), "unknown NER version 'bert'"),
    (json.dumps([_GOOD, _GOOD]), "two experiments are named 'e'"),
    (json.dumps([_GOOD, {**_GOOD, "name": "f"}]), "both test the ner"),
    (json.dumps([{**_GOOD, "component": "classifier", "control": "trained",
                  "candidate": "trained@threshold=2"}]),
     "unknown classifier version"),
    (json.dumps([{**_GOOD, "component": "embeddings", "control": "minilm-l6-v2",
                  "candidate": "wordllama-l2"}]), "shadow mode"),
    (json.dumps([{**_GOOD, "component": "embeddings", "control": "wordllama-l2", "candidate": "minilm-l6-v2",
                  "mode": "shadow"}]), "the control must be the embeddings the index is built with"),
    (json.dumps([{**_GOOD, "component": "analysis", "control": "local", "candidate": "gpt"}]),
     "unknown analysis version 'gpt'"),
    (json.dumps([{**_GOOD, "component": "analysis", "control": "local", "candidate": "mock/v9"}]),
     "no prompts of version 'v9'"),
    (json.dumps([{**_GOOD, "component": "analysis", "control": "local", "candidate": "openai"}]),
     "needs OPENAI_API_KEY"),
])
def test_a_bad_configuration_is_refused_with_what_to_fix(
    experiments: str, hint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValidationError, match="DOCLANE_EXPERIMENTS") as caught:
        Settings(experiments=experiments)
    assert hint in str(caught.value)


@pytest.mark.parametrize("version", ["trained", "trained-lr", "trained@threshold=0.7",
                                     "trained-lr@threshold=1"])
def test_classifier_versions_are_the_trained_model_or_its_lr_variant_at_a_threshold(version: str) -> None:
    config = {**_GOOD, "component": "classifier", "control": "trained@threshold=0.5", "candidate": version}
    assert parse_experiments(json.dumps([config]), Settings())[0].candidate == version


def test_the_configuration_may_be_a_json_or_yaml_file(tmp_path: Path) -> None:
    as_json = tmp_path / "experiments.json"
    as_json.write_text(json.dumps([_GOOD]))
    as_yaml = tmp_path / "experiments.yaml"
    as_yaml.write_text("- name: e\n  component: ner\n  control: spacy+rules\n  candidate: rules\n"
                       "  share: 0.5\n  mode: shadow\n")
    settings = Settings()
    assert [c.name for c in parse_experiments(str(as_json), settings)] == ["e"]
    assert parse_experiments(str(as_yaml), settings)[0].mode == "shadow"
    assert parse_experiments(None, settings) == [] and parse_experiments("[]", settings) == []


class _Fixed:
    version = "fixed@1"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def classify(self, text: str, *, filename: str | None = None,
                 content_type: str | None = None) -> Classification:
        best = max(self.scores, key=self.scores.__getitem__)
        return Classification(label=DocType(best), confidence=self.scores[best], version=self.version,
                              scores=self.scores)


def test_a_threshold_variant_says_other_below_its_threshold_and_names_itself() -> None:
    base = _Fixed({"invoice": 0.62, "letter": 0.38})
    strict = ThresholdClassifier(base, 0.7)
    found = strict.classify("text")
    assert found.label is DocType.OTHER and found.version == "fixed@1+threshold=0.7"
    assert ThresholdClassifier(base, 0.5).classify("text").label is DocType.INVOICE
    trials = classify_trials([("trained", base), ("trained@threshold=0.7", strict)], "text",
                             filename=None, content_type=None)
    assert [t.classification.label for t in trials if t.classification] == [DocType.INVOICE, DocType.OTHER]
    assert all(t.latency_ms >= 0 and t.error is None for t in trials)


def test_rules_only_ner_finds_contacts_and_amounts_with_its_version() -> None:
    found = rules_entities("Write to Ana.Ribeiro@Example.com before 3 March 2026 about EUR 715.20.")
    assert {e.label for e in found} >= {EntityLabel.EMAIL, EntityLabel.MONEY}
    email = next(e for e in found if e.label is EntityLabel.EMAIL)
    assert email.value == "ana.ribeiro@example.com" and email.version == "ner-rules@1"


def _obs(document_id: str, arm: str, version: str, latency_ms: float,
         **fields: object) -> ExperimentObservation:
    return ExperimentObservation.model_validate({"experiment": "clf-threshold", "document_id": document_id,
                                                 "arm": arm, "version": version, "latency_ms": latency_ms,
                                                 **fields})


def test_the_comparison_reports_each_arm_from_its_own_measurements() -> None:
    config = _config(mode="shadow", share=1.0)
    observations = [
        _obs("a", "control", "trained", 10, confidence=0.9, agreement=1.0, accuracy=1.0),
        _obs("a", "candidate", "trained@threshold=0.7", 12, served=False, confidence=0.9, agreement=1.0,
             accuracy=1.0),
        _obs("b", "control", "trained", 30, confidence=0.5, agreement=0.0),
        _obs("b", "candidate", "trained@threshold=0.7", 31, served=False, confidence=0.5, agreement=0.0),
        _obs("c", "control", "trained", 0, failed=True),
    ]
    report = compare(config, observations)
    control, candidate = report.control, report.candidate
    assert (control.documents, control.failures, control.shadowed_units) == (3, 1, 2)
    assert control.latency_ms_p50 == 20 and control.mean_confidence == 0.7
    assert control.agreement == 0.5 and (control.gold_documents, control.accuracy) == (1, 1.0)
    assert (candidate.documents, candidate.failures, candidate.latency_ms_p50) == (2, 0, 21.5)
    assert candidate.version == "trained@threshold=0.7"


@pytest.mark.parametrize(("doc_type", "pages", "by_size", "lane"), [
    ("invoice", 1, Priority.NORMAL, Priority.HIGH),
    ("resume", 3, Priority.LOW, Priority.HIGH),
    ("job_description", 2, Priority.NORMAL, Priority.HIGH),
    ("invoice", 120, Priority.LOW, Priority.LOW),  # a bundle keeps its lane by size
    ("paper", 30, Priority.HIGH, Priority.LOW),
    ("report", 5, Priority.HIGH, Priority.HIGH),  # short reports keep their lane by size
    ("presentation", 40, Priority.NORMAL, Priority.LOW),
    ("letter", 1, Priority.NORMAL, Priority.NORMAL),
    (None, 1, Priority.NORMAL, Priority.NORMAL),
])
def test_the_default_lane_follows_type_and_pages(doc_type: str | None, pages: int, by_size: Priority,
                                                 lane: Priority) -> None:
    assert lane_for(doc_type, pages, by_size) is lane


def test_embeddings_agree_when_both_pick_the_same_nearest_passages() -> None:
    from doclane.ai.experiments.variants import neighbour_agreement

    a = np.eye(4, dtype=np.float32)
    a[1] = [0.9, 0.1, 0, 0]  # 0 and 1 are alike; 2 and 3 are each nearest to ...
    a[3] = [0, 0, 0.8, 0.2]  # ... one another
    assert neighbour_agreement(a, a) == 1.0
    b = a.copy()
    b[1] = [0, 0.1, 0.9, 0]  # the other model thinks 1 is like 2
    assert 0 < (neighbour_agreement(a, b) or 0) < 1
    assert neighbour_agreement(a[:2], b[:2]) is None
