"""The name priors of the job description skill model: how often recruiters of the training job
descriptions listed a candidate name, counted so that a writer's own rows never vouch for it."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest

from doclane.interviews.judge import NamePriors, _load
from models.jdskills.pipeline import Row, fit

LISTED = [("aws", 1), ("aws", 1), ("aws", 0), ("driving licence", 1), ("heavy workload", 0),
          ("heavy workload", 0), ("first aid", 1), ("team", 0)]


def test_a_name_recruiters_listed_scores_above_one_they_passed_over_and_unseen_ones_sit_between() -> None:
    priors = NamePriors.tally(LISTED)
    assert priors.base == 4 / 8
    listed, passed, unseen = (priors.features(name)["prior_name"]
                              for name in ("aws", "heavy workload", "kubernetes"))
    assert passed < unseen < listed
    assert priors.features("kubernetes")["prior_name_seen"] == 0.0


def test_names_ending_in_the_same_word_share_what_their_last_word_says() -> None:
    priors = NamePriors.tally(LISTED)
    # never seen, but "... licence" was listed every time it came up, "... workload" never
    assert priors.features("forklift licence")["prior_last"] > priors.features("busy workload")["prior_last"]
    assert priors.features("forklift licence")["prior_name"] == priors.features("busy workload")["prior_name"]


def test_taking_a_writers_rows_out_leaves_what_the_others_counted() -> None:
    mine = [("aws", 1), ("team", 0)]
    others = [("aws", 0), ("aws", 0), ("first aid", 1)]
    assert NamePriors.tally(mine + others).without(NamePriors.tally(mine)) == NamePriors.tally(others)


def test_each_training_row_learns_from_counts_without_its_own_writer() -> None:
    # writer "a" always lists "zorbing", writer "b" never does. Counted with their own writer,
    # every zorbing row would see the same half-listed count, and a prior above the fillers'
    # would read as "more likely listed"; counted without, each writer's rows see the other's
    # habit, and the model learns not to follow it
    rows = [Row(w, "zorbing", {"bias": 1.0}, label) for w, label in [("a", 1)] * 6 + [("b", 0)] * 6]
    rows += [Row(w, "filler", {"bias": 1.0, "filler": 1.0}, 0) for w in "ab" for _ in range(6)]
    judge = fit(rows, c=1.0)
    assert judge.priors == NamePriors.tally((r.skill, r.label) for r in rows)
    coefficients = dict(zip(judge.model[0].get_feature_names_out(), judge.model[1].coef_[0], strict=True))
    assert coefficients["prior_name"] < 0


def test_a_model_saved_before_the_priors_still_loads_and_reads_as_it_did(tmp_path: Path) -> None:
    # jdskills-lr@1 saved the bare model: an installed gateway given such a folder keeps working
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    features = [{"rule": 1.0, "asks": 1.0}, {"asks": 1.0}, {"generic": 1.0}, {"rule": 1.0}]
    old = make_pipeline(DictVectorizer(), LogisticRegression()).fit(features, [1, 1, 0, 1])
    folder = tmp_path / "jdskills-0123456789ab"
    folder.mkdir()
    joblib.dump(old, folder / "model.joblib")
    (folder / "manifest.json").write_text(json.dumps({"version": "jdskills-lr@1", "threshold": 0.6}))
    judge = _load(folder)
    assert (judge.version, judge.threshold, judge.priors) == ("jdskills-lr@1", 0.6, NamePriors())
    found = {name: (f, []) for name, f in zip(("sql", "excel", "teamwork", "aws"), features, strict=True)}
    assert list(judge.probabilities(found).values()) == pytest.approx(old.predict_proba(features)[:, 1])
