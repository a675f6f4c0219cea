"""Train doclane's NER model: spaCy's small English NER, fine-tuned on generated sentences.

Step 2 of the NER workflow (generate → train → evaluate). ``python -m
models.ner.train`` (run by ``make models``) saves the pipeline to
``settings.models_dir / f"ner-{hash}"`` and does nothing when that directory
already exists: the hash covers the training code, data and library versions
(:mod:`doclane.ai.ner._artefact`), so a model is rebuilt exactly when one of them
changed.

Why fine-tune rather than train from blank: the small model's NER has read real
text (OntoNotes) and recognises names, organisations, places, dates and amounts
in sentences no template produces; the generated data adds SKILL and JOB_TITLE
and teaches the label boundaries doclane wants. Only its ``ner`` component is
kept (it has its own tok2vec in this package), so the artefact is one small
network: tokenizer + tok2vec (width 96) + transition-based NER. The skill
lexicon (``lexicon/skills.txt`` + ``lexicon/skill_matcher.txt``) is copied beside
it as ``skill_lexicon.txt`` for the run-time matcher (:mod:`doclane.ai.ner._skills`).

Deterministic: fixed seeds (``spacy.util.fix_random_seed``, the generator's
``random.Random``), a fixed number of epochs, one thread.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import spacy
from spacy.training import Example as SpacyExample
from spacy.util import compounding, fix_random_seed, minibatch

from doclane.ai.ner._artefact import BASE_MODEL_PACKAGE, artefact_dir, training_hash
from doclane.ai.ner.spacy_ner import SKILL_LEXICON
from models.ner.generate import HERE, Example, generate

__all__ = ["TRAIN_LABELS", "TrainConfig", "build", "main"]

#: doclane's label → the label the spaCy model learns. Places keep the base model's GPE,
#: which it already knows; the runtime maps GPE/LOC/FAC back to LOCATION.
TRAIN_LABELS = {"PERSON": "PERSON", "ORG": "ORG", "LOCATION": "GPE", "DATE": "DATE",
                "MONEY": "MONEY", "SKILL": "SKILL", "JOB_TITLE": "JOB_TITLE"}
#: Saved beside the model: the training sentences, for the evaluation's leak check.
TRAINING_TEXTS = "training_texts.jsonl"


class TrainConfig:
    """How much to train. The defaults are the shipped model's; tests use a reduced one."""

    def __init__(self, examples: int = 4000, epochs: int = 6, seed: int = 0, dropout: float = 0.2) -> None:
        self.examples = examples
        self.epochs = epochs
        self.seed = seed
        self.dropout = dropout

    def as_dict(self) -> dict[str, Any]:
        return {"examples": self.examples, "epochs": self.epochs, "seed": self.seed, "dropout": self.dropout}


def _base_pipeline() -> spacy.language.Language:
    base = __import__(BASE_MODEL_PACKAGE)
    nlp: spacy.language.Language = base.load(
        exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
    )
    # Resumes write year ranges with dashes ("2016–2022"); spaCy splits a hyphen between  # noqa: RUF003
    # digits but not an en or em dash, which would make the range one token, one date.
    infixes = [*nlp.Defaults.infixes, r"(?<=[0-9])[–—](?=[0-9])"]  # noqa: RUF001
    nlp.tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    return nlp


def _to_spacy(nlp: spacy.language.Language, data: list[Example]) -> tuple[list[SpacyExample], int]:
    """spaCy examples; entities whose offsets do not fall on token boundaries are counted and dropped."""
    out, dropped = [], 0
    for text, ents in data:
        doc = nlp.make_doc(text)
        spans = []
        for start, end, label in ents:
            span = doc.char_span(start, end, label=TRAIN_LABELS[label])
            if span is None:
                dropped += 1
            else:
                spans.append(span)
        ref = nlp.make_doc(text)
        ref.ents = spans
        out.append(SpacyExample(doc, ref))
    return out, dropped


def build(out_dir: Path, config: TrainConfig | None = None, *,
          data: list[Example] | None = None, log: bool = True) -> dict[str, Any]:
    """Train and save the pipeline to ``out_dir`` (written beside it, then renamed into place).

    ``data`` replaces the generated sentences (tests plant sentences this way).
    Returns the training summary also saved as ``training.json``.
    """
    config = config or TrainConfig()
    started = time.perf_counter()
    fix_random_seed(config.seed)
    data = data if data is not None else generate(config.examples, seed=config.seed)
    nlp = _base_pipeline()
    ner = nlp.get_pipe("ner")
    for label in TRAIN_LABELS.values():
        ner.add_label(label)  # type: ignore[attr-defined]
    examples, dropped = _to_spacy(nlp, data)
    optimizer = nlp.resume_training()
    rng = random.Random(config.seed)  # noqa: S311 - shuffling, not secrets
    losses_per_epoch = []
    for epoch in range(config.epochs):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=compounding(8.0, 32.0, 1.001)):
            nlp.update(batch, drop=config.dropout, sgd=optimizer, losses=losses)
        losses_per_epoch.append(round(float(losses.get("ner", 0.0)), 3))
        if log:
            print(f"epoch {epoch + 1}/{config.epochs}: ner loss {losses_per_epoch[-1]}", file=sys.stderr)
    nlp.meta["name"] = "doclane_ner"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "doclane NER: en_core_web_sm's NER fine-tuned on models/ner data"
    summary = {
        "config": config.as_dict(), "examples": len(examples), "dropped_spans": dropped,
        "losses": losses_per_epoch, "train_s": round(time.perf_counter() - started, 1),
    }
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # The parameters averaged over the updates, as spaCy's own training loop saves them:
    # the last step's weights swing with the last batches (runs on slightly different data
    # differed by several points of SKILL F1 on the development set).
    with nlp.use_params(optimizer.averages):
        nlp.to_disk(tmp)
    with (tmp / TRAINING_TEXTS).open("w", encoding="utf-8") as fh:
        for text, _ in data:
            fh.write(json.dumps(text, ensure_ascii=False) + "\n")
    (tmp / "training.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    # The run-time skill matcher's lexicon travels with the model it was tuned with.
    (tmp / SKILL_LEXICON).write_text("".join(
        (HERE / "lexicon" / name).read_text(encoding="utf-8").rstrip("\n") + "\n"
        for name in ("skills.txt", "skill_matcher.txt")), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return summary


def main(argv: list[str] | None = None) -> int:
    """Build the model into the settings' models directory unless it is already there."""
    from doclane.infra.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, default=None, help="default: DOCLANE_MODELS_DIR")
    parser.add_argument("--force", action="store_true", help="train even if the artefact exists")
    args = parser.parse_args(argv)
    models_dir = args.models_dir or Settings().models_dir
    out = artefact_dir(models_dir)
    if out.exists() and not args.force:
        print(f"NER model up to date: {out}")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"training NER model {training_hash()} into {out}", file=sys.stderr)
    summary = build(out)
    print(f"NER model trained in {summary['train_s']} s: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
