"""Benchmark: the analysis as a reader judges it, on the hand-labelled set in ``models/analysis``.

Each document goes through the pipeline's own steps: ``sniff_content_type``,
``extract``, ``chunk_document`` (the default chunk size and overlap),
``analyze_chunk`` for every chunk, then ``reduce``. DOCX, PPTX and PDF files
are generated from text sources first (see ``bench/analysis_set.py``). Scores
are reported for each half (``models/analysis/split.json``: the tuning half; the held-out
half; ``heldout_new``, written before the sentence sentiment model; ``heldout_3`` and
``heldout_4``, written blind before extractive-v6's changes) and for all held-out halves
together; thresholds may only ever be tuned on the first. The run refuses to score when a
sentence the sentiment model was trained on appears in any document of the set
(``models/sentiment/leakage.py``).

The ``local`` provider always runs; ``openai`` runs too when ``OPENAI_API_KEY``
is set (otherwise it is skipped, and the report says so). Results go to
``bench/results/analysis.json`` (with every document's output and a history of
runs) and ``bench/results/analysis.md``.

    python -m bench.analysis [--provider local|openai|all]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.analysis_metrics import (
    LABELS,
    confusion,
    has_markup,
    macro_f1,
    match_items,
    rouge,
    sentence_count,
    title_found,
    token_f1,
)
from bench.analysis_set import Label, load_labels, materialise
from doclane.ai.base import Analyzer
from doclane.ai.local import LocalAnalyzer, guess_title
from doclane.extraction import SNIFF_BYTES, chunk_document, extract, sniff_content_type
from doclane.infra.settings import Settings
from doclane.schemas.extraction import Chunk, ExtractedDocument

RESULTS = Path(__file__).parent / "results"
_HALVES = ("tuning", "heldout", "heldout_new", "heldout_3", "heldout_4")
_HALF_NAMES = {"tuning": "tuning", "heldout": "held-out", "heldout_new": "new held-out",
               "heldout_3": "third held-out", "heldout_4": "fourth held-out",
               "all_heldout": "all held-out"}
#: Every held-out half together: the halves are small (26 to 42 documents), so one half's
#: accuracy moves by 0.03 or more with a single document.
_POOLED = "all_heldout"
#: A second reader's sentiment labels, written blind to the references (see the data card).
_SECOND_READER = Path(__file__).resolve().parent.parent / "models" / "analysis" / "second_labels.jsonl"
#: The kinds of document that instruct: neutral ones must not read as positive (issue 14).
_INSTRUCTIONS = frozenset({"assignment", "brief", "specification"})


def _lead3(chunks: list[Chunk]) -> str:
    """The first three sentences of the extracted text, whatever they are (the usual baseline)."""
    from bench.analysis_metrics import _segmenter

    sentences: list[str] = []
    for chunk in chunks:
        for line in chunk.text.splitlines():
            sentences += [s.strip() for s in _segmenter().segment(line) if s.strip()]
            if len(sentences) >= 3:
                return " ".join(sentences[:3])
    return " ".join(sentences)


def _read(label: Label, folder: Path, settings: Settings) -> tuple[ExtractedDocument, list[Chunk]]:
    path, _ = materialise(label, folder)
    content_type = sniff_content_type(path.read_bytes()[:SNIFF_BYTES], path.name, path=path)
    doc = extract(path, content_type)
    chunks = chunk_document(doc, settings.chunk_max_chars, settings.chunk_overlap_chars)
    return doc, chunks


async def _analyse(analyzer: Analyzer, label: Label, folder: Path, settings: Settings) -> dict[str, Any]:
    doc, chunks = _read(label, folder, settings)
    started, cpu = time.perf_counter(), time.process_time()
    pairs = [(c, await analyzer.analyze_chunk(c)) for c in chunks]
    result = await analyzer.reduce(pairs)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "id": label.id, "split": label.split, "chunks": len(chunks),
        "title": doc.title or guess_title(chunks), "stored_title": doc.title,
        "summary": result.summary, "lead3": _lead3(chunks),
        "sentiment": result.sentiment.value, "justification": result.sentiment_justification,
        "action_items": [i.model_dump() for i in result.action_items],
        "seconds": round(seconds, 5), "cpu_seconds": round(cpu, 5),
        "chars": sum(len(c.text) for c in chunks),
    }


#: extractive-v4's sentiment: VADER alone, with the settings tune_sentiment.py chose for it.
_V4_SENTIMENT = {"_MODEL_WEIGHT": 0.0, "_CLEAR": 0.3, "_MIXED_SHARE": 0.12, "_MIXED_BALANCE": 0.35,
                 "_LABEL_THRESHOLD": 0.2, "_NEGATIVE_SHARE": 0.13, "_INSTRUCTIVE_WEIGHT": 1.0,
                 "_DOCUMENT_MODEL": False}


async def _lexicon_baseline(labels: list[Label], settings: Settings) -> dict[str, dict[str, float]]:
    """Sentiment accuracy and macro-F1 per half of the lexicon alone (extractive-v4's way), and
    its speed (``speed``): the same analysis without the sentence model, measured in the same run."""
    from doclane.ai import _sentiment

    saved = {name: getattr(_sentiment, name) for name in _V4_SENTIMENT}
    analyzer = LocalAnalyzer()
    try:
        for name, value in _V4_SENTIMENT.items():
            setattr(_sentiment, name, value)
        _forget()
        with tempfile.TemporaryDirectory() as tmp:
            outputs = [await _analyse(analyzer, lab, Path(tmp), settings) for lab in labels]
    finally:
        for name, value in saved.items():
            setattr(_sentiment, name, value)
    pred = [o["sentiment"] for o in outputs]
    out: dict[str, dict[str, float]] = {"speed": _speed(outputs)}
    for half, idx in _groups(labels).items():
        gold, got = [labels[i].sentiment for i in idx], [pred[i] for i in idx]
        out[half] = {"sentiment_accuracy": sum(g == p for g, p in zip(gold, got, strict=True)) / len(idx),
                     "sentiment_macro_f1": macro_f1(gold, got)}
    return out


def _forget() -> None:
    """Empty the analyzer's per-process memories (parsed sentences, sentence polarities), so
    that two timed runs in one process each start cold."""
    from doclane.ai import _grammar
    from doclane.ai._sentiment_model import load_sentence_model

    _grammar._SEEN.clear()
    load_sentence_model()._seen.clear()


def _speed(outputs: list[dict[str, Any]]) -> dict[str, float]:
    seconds, cpu = sum(o["seconds"] for o in outputs), sum(o["cpu_seconds"] for o in outputs)
    chars = sum(o["chars"] for o in outputs)
    return {"docs_per_s": len(outputs) / seconds, "kchars_per_s": chars / seconds / 1000,
            "docs_per_cpu_s": len(outputs) / cpu, "kchars_per_cpu_s": chars / cpu / 1000}


def _groups(labels: list[Label]) -> dict[str, list[int]]:
    """Indexes of the documents of each half present in the set, then of all held-out halves."""
    groups = {half: [i for i, lab in enumerate(labels) if lab.split == half] for half in _HALVES}
    groups = {half: idx for half, idx in groups.items() if idx}
    groups[_POOLED] = [i for i, lab in enumerate(labels) if lab.split != "tuning"]
    return groups


def second_reader(labels: list[Label]) -> dict[str, float]:
    """Per half, the share of documents whose second reader's label is the reference's: how
    often two careful readers agree, the ceiling a sentiment score can be read against."""
    if not _SECOND_READER.exists():
        return {}
    second = {row["id"]: row["sentiment"] for row in map(json.loads, _SECOND_READER.read_text(
        encoding="utf-8").splitlines()) if row}
    out = {}
    for half, idx in _groups(labels).items():
        read = [i for i in idx if labels[i].id in second]
        if read:
            out[half] = sum(second[labels[i].id] == labels[i].sentiment for i in read) / len(read)
    return out


def check_leaks(labels: list[Label]) -> None:
    """Refuse to score when a training sentence of the sentiment model is in a document of the set."""
    from models.sentiment.leakage import check
    from models.sentiment.pipeline import load_sentences

    check([text for text, _ in load_sentences()],
          {lab.id: lab.path.read_text(encoding="utf-8") for lab in labels})


def score(labels: list[Label], outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every metric of one half, from the labels and the analyzer's outputs (same order)."""
    gold = [lab.sentiment for lab in labels]
    pred = [out["sentiment"] for out in outputs]
    n_pred = n_ref = matched = owners = owners_ok = deadlines = deadlines_ok = 0
    rl = r2 = base_rl = base_r2 = 0.0
    form = titled = found = 0
    for lab, out in zip(labels, outputs, strict=True):
        items = out["action_items"]
        matches = match_items([i["text"] for i in items], [r.text for r in lab.action_items])
        n_pred, n_ref, matched = n_pred + len(items), n_ref + len(lab.action_items), matched + len(matches)
        for m in matches:
            ref, got = lab.action_items[m.reference], items[m.predicted]
            if ref.owner:
                owners += 1
                owners_ok += bool(got["owner"]) and token_f1(got["owner"], ref.owner) > 0
            if ref.deadline:
                deadlines += 1
                deadlines_ok += bool(got["deadline"]) and token_f1(got["deadline"], ref.deadline) > 0
        a, b = rouge(out["summary"], lab.summary)
        c, d = rouge(out["lead3"], lab.summary)
        rl, r2, base_rl, base_r2 = rl + a, r2 + b, base_rl + c, base_r2 + d
        form += 3 <= sentence_count(out["summary"]) <= 5 and not has_markup(out["summary"])
        if lab.title:
            titled += 1
            found += title_found(out["title"], lab.title)
    n = len(labels)
    return {
        "documents": n,
        "sentiment_accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / n,
        "sentiment_macro_f1": macro_f1(gold, pred),
        "confusion": confusion(gold, pred),
        "neutral_read_positive": sum(
            g == "neutral" and p == "positive" for g, p in zip(gold, pred, strict=True)
        ),
        "instructions_read_positive": "{} of {}".format(
            sum(lab.kind in _INSTRUCTIONS and g == "neutral" and p == "positive"
                for lab, g, p in zip(labels, gold, pred, strict=True)),
            sum(lab.kind in _INSTRUCTIONS and g == "neutral" for lab, g in zip(labels, gold, strict=True))),
        "action_precision": matched / n_pred if n_pred else 0.0,
        "action_recall": matched / n_ref if n_ref else 0.0,
        "action_counts": {"predicted": n_pred, "reference": n_ref, "matched": matched},
        "owner_agreement": owners_ok / owners if owners else None,
        "deadline_agreement": deadlines_ok / deadlines if deadlines else None,
        "rougeL": rl / n, "rouge2": r2 / n, "lead3_rougeL": base_rl / n, "lead3_rouge2": base_r2 / n,
        "summary_form_ok": form / n,
        "titles_found": found / titled if titled else 0.0,
    }


async def run(provider: str) -> dict[str, Any] | None:
    """Outputs and scores per half for ``provider``; None when it cannot run here."""
    settings = Settings()
    analyzer: Analyzer
    if provider == "local":
        analyzer = LocalAnalyzer()
    else:
        if not os.environ.get("OPENAI_API_KEY"):
            return None
        from doclane.ai.factory import build_analyzer

        analyzer = build_analyzer(Settings(ai_provider="openai"))
    labels = load_labels()
    if provider == "local":
        check_leaks(labels)
        # Loads the parser and the sentence model once, outside the timed analysis, which
        # then starts with empty per-process memories.
        await analyzer.analyze_chunk(Chunk(index=0, text="Please send the report. It is late."))
        _forget()
    with tempfile.TemporaryDirectory() as tmp:
        outputs = [await _analyse(analyzer, lab, Path(tmp), settings) for lab in labels]
    await analyzer.close()
    halves = {half: score([labels[i] for i in idx], [outputs[i] for i in idx])
              for half, idx in _groups(labels).items()}
    speed = _speed(outputs)
    extra: dict[str, Any] = {}
    if provider == "local":
        from doclane.ai._sentiment_model import load_sentence_model

        extra["sentence_model"] = load_sentence_model().path.name
        extra["lexicon_baseline"] = await _lexicon_baseline(labels, settings)
        extra["second_reader"] = second_reader(labels)
    return {"provider": provider, "model": analyzer.model, "halves": halves, "outputs": outputs,
            "speed": speed, **extra}


_ROWS = (
    ("Sentiment accuracy (target ≥ 0.80 held-out)", "sentiment_accuracy"),
    ("Sentiment macro-F1", "sentiment_macro_f1"),
    ("Neutral documents read as positive", "neutral_read_positive"),
    ("Neutral instructions (briefs, assignments, specifications) read as positive",
     "instructions_read_positive"),
    ("Action items: precision (target ≥ 0.7)", "action_precision"),
    ("Action items: recall (target ≥ 0.7)", "action_recall"),
    ("Action items: owner named as the reference's", "owner_agreement"),
    ("Action items: deadline as the reference's", "deadline_agreement"),
    ("Summary ROUGE-L F", "rougeL"),
    ("Lead-3 baseline ROUGE-L F", "lead3_rougeL"),
    ("Summary ROUGE-2 F", "rouge2"),
    ("Lead-3 baseline ROUGE-2 F", "lead3_rouge2"),
    ("Summaries of 3-5 sentences, no markup (target 100%)", "summary_form_ok"),
    ("Titles found", "titles_found"),
)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return str(value) if isinstance(value, int | str) else f"{value:.3f}"


def report(runs: list[dict[str, Any]], skipped: list[str], history: list[dict[str, Any]]) -> str:
    """The Markdown report: one table per provider, confusion matrices, the run history."""
    lines = ["# Analysis quality (bench/analysis.py)", "",
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_version()}. "
             "Set: models/analysis (see its README). Tuning half: thresholds may be tuned on "
             "it; held-out half: only scored, never read document by document.", ""]
    for r in runs:
        halves = list(r["halves"].items())
        lines += [f"## {r['provider']} ({r['model']})", ""]
        if r.get("sentence_model"):
            lines += [f"Sentence sentiment model: `{r['sentence_model']}` (`models/sentiment`).", ""]
        lines += ["| Metric | " + " | ".join(f"{_HALF_NAMES[half]} ({m['documents']} docs)"
                                             for half, m in halves) + " |",
                  "|---" + "|---:" * len(halves) + "|"]
        lines += [f"| {name} | " + " | ".join(_fmt(m[key]) for _, m in halves) + " |"
                  for name, key in _ROWS]
        if r.get("lexicon_baseline"):
            base = r["lexicon_baseline"]
            lines += [f"| Baseline, lexicon alone (extractive-v4's sentiment): {label} | "
                      + " | ".join(_fmt(base[half][key]) for half, _ in halves) + " |"
                      for label, key in (("accuracy", "sentiment_accuracy"),
                                         ("macro-F1", "sentiment_macro_f1"))]
        if r.get("second_reader"):
            agree = r["second_reader"]
            lines.append("| A second reader's sentiment, written blind to the references: agreement | "
                         + " | ".join(_fmt(agree.get(half)) for half, _ in halves) + " |")
        if "speed" in r:
            sp = r["speed"]
            lines += ["", f"Speed: {sp['docs_per_s']:.1f} documents/s, {sp['kchars_per_s']:.0f} thousand "
                      f"characters/s (analysis only, model loaded, every document of the set one after "
                      f"another in one process; the machine's load changes it, so compare runs made "
                      f"together); in CPU time {sp.get('docs_per_cpu_s', 0):.0f} documents and "
                      f"{sp.get('kchars_per_cpu_s', 0):.0f} thousand characters per CPU-second."]
            if r.get("lexicon_baseline"):
                b = r["lexicon_baseline"]["speed"]
                lines += ["", "The lexicon-alone baseline in the same run (extractive-v4's sentiment): "
                          f"{b['docs_per_s']:.1f} documents/s; {b['docs_per_cpu_s']:.0f} documents and "
                          f"{b['kchars_per_cpu_s']:.0f} thousand characters per CPU-second."]
        for half, figures in halves:
            m = figures["confusion"]
            lines += ["", f"Confusion matrix, {half} (rows: reference, columns: predicted)", "",
                      "| | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 1) + "|"]
            lines += [f"| {g} | " + " | ".join(str(m[g][p]) for p in LABELS) + " |" for g in LABELS]
        lines.append("")
    for name in skipped:
        lines += [f"## {name}", "", "Skipped: `OPENAI_API_KEY` is not set.", ""]
    lines += ["## History (held-out / tuning; each later held-out half from the first run after it was "
              "written)", "",
              "The tuning half grew from 43 to 84 documents on 2026-11-28 (see the data card): "
              "tuning figures from 07:06 on are on 84 documents, earlier ones on 43. The 07:06 "
              "row is extractive-v3 re-scored on the larger half, before any v4 change. The 16:40 "
              "row is extractive-v5 as shipped (its sentence data restored in a separate checkout), "
              "scored on the fourth half before extractive-v6 was.", "",
              "| when | provider | model | sentiment acc | action P | action R | ROUGE-L | ROUGE-2 "
              "| form | titles | new held-out: sentiment acc, action P, R "
              "| third held-out: sentiment acc, action P, R "
              "| fourth held-out: sentiment acc, action P, R "
              "| all held-out: sentiment acc, action P, R |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in history:
        h, t = e["heldout"], e["tuning"]

        def pair(key: str, h: dict[str, Any] = h, t: dict[str, Any] = t) -> str:
            return f"{h[key]:.2f} / {t[key]:.2f}"

        lines.append(f"| {e['when']} | {e['provider']} | {e['model']} | {pair('sentiment_accuracy')} | "
                     f"{pair('action_precision')} | {pair('action_recall')} | {pair('rougeL')} | "
                     f"{pair('rouge2')} | {pair('summary_form_ok')} | {pair('titles_found')} | "
                     f"{_later_half(e, 'heldout_new')} | {_later_half(e, 'heldout_3')} | "
                     f"{_later_half(e, 'heldout_4')} | {_later_half(e, _POOLED)} |")
    return "\n".join(lines) + "\n"


def _later_half(entry: dict[str, Any], half: str) -> str:
    """A later held-out half's figures in a history entry; empty for runs made before it existed."""
    figures = entry.get(half)
    if not figures:
        return ""
    return (f"{figures['sentiment_accuracy']:.2f}, {figures['action_precision']:.2f}, "
            f"{figures['action_recall']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=["local", "openai", "all"], default="all")
    args = parser.parse_args()
    wanted = ["local", "openai"] if args.provider == "all" else [args.provider]
    runs, skipped = [], []
    for provider in wanted:
        result = asyncio.run(run(provider))
        if result is None:
            skipped.append(provider)
            print(f"{provider}: skipped (OPENAI_API_KEY is not set)")
        else:
            runs.append(result)
    previous = RESULTS / "analysis.json"
    history = json.loads(previous.read_text())["history"] if previous.exists() else []
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
    history += [{"when": when, "provider": r["provider"], "model": r["model"],
                 **{half: {k: v for k, v in figures.items() if isinstance(v, float)}
                    for half, figures in r["halves"].items()}} for r in runs]
    RESULTS.mkdir(exist_ok=True)
    previous.write_text(json.dumps({"runs": runs, "skipped": skipped, "history": history},
                                   indent=1, ensure_ascii=False) + "\n")
    text = report(runs, skipped, history)
    (RESULTS / "analysis.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
