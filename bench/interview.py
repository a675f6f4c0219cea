"""Benchmark: interview quality (plans, JD skill extraction, answer scoring) and speed.

Quality runs offline on the interview set (``models/interviews``, see its README): the
pipeline's own readers, chunker and NER model, then the assessment, the plan and the
rubric exactly as the service runs them. Speed runs real embedded servers and real
WebSocket clients (:mod:`bench.interview_speed`). Results go to
``bench/results/interview.json`` and ``bench/results/interview.md``.

    python -m bench.interview [--quality-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.interview_quality import (
    BUDGETS,
    PlanRow,
    answer_score,
    concordance,
    extraction_rows,
    metamorphic,
    plan_rows,
    second_recruiter,
)
from bench.interview_set import answers, pairs, pipeline_document, split
from bench.interview_speed import SpeedRun, run_speed, summary
from doclane.api.interviews import JobProfiles
from doclane.infra.settings import Settings
from doclane.interviews import assess
from doclane.interviews.judge import load_judge
from doclane.interviews.plan import PLAN_VERSION
from doclane.interviews.report import RUBRIC_VERSION
from doclane.interviews.skills import known_skills
from models.jdskills.sets import JDS, TEST, folder_items, heldout_pairs, jd_folders

RESULTS = Path(__file__).parent / "results"
#: The groups of pairs the extraction is reported on, by the key of ``pairs.json`` naming them:
#: pairs written before the last change and not looked at until it was made; pairs held out
#: from an earlier change and read since (tuned on now); the rest, tuned on.
GROUPS = (
    ("heldout", "extraction_heldout_round5", "held out (new, round 5)"),
    ("heldout_round4", "extraction_heldout_round4", "held out in round 4, tuned on since"),
    ("heldout_round3", "extraction_heldout_round3", "held out in round 3, tuned on since"),
    ("heldout_read", "extraction_heldout_read", "held out in round 2, tuned on since"),
)
#: The group nobody may read pair by pair before the change it measures: its misses are
#: counted, never named (in the Markdown and in the JSON).
BLIND = "heldout"


def _groups() -> dict[str, set[str]]:
    raw = json.loads((Path(__file__).parents[1] / "models" / "interviews" / "pairs.json").read_text())
    return {name: set(raw.get(key, [])) for name, key, _ in GROUPS}


def _second_lists() -> dict[str, dict[str, list[str]]]:
    """A second recruiter's skill lists, written blind to the first (see the data card)."""
    path = Path(__file__).parents[1] / "models" / "interviews" / "second_lists.json"
    return json.loads(path.read_text(encoding="utf-8"))["pairs"] if path.exists() else {}


def _group_of(pair: str, groups: dict[str, set[str]]) -> str:
    return next((name for name, ids in groups.items() if pair in ids), "tuning")


def _plans(rows: list[PlanRow], extraction: list[dict[str, Any]],
           second: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    groups = _groups()
    per_budget = {}
    for budget in BUDGETS:
        mine = [r for r in rows if r.budget == budget]
        per_budget[str(budget)] = {
            "covered_extracted": round(statistics.mean(r.covered_extracted for r in mine), 3),
            "full_coverage_pairs": sum(r.covered_extracted == 1.0 for r in mine),
            "covered_hand": round(statistics.mean(r.covered_hand for r in mine), 3),
            "questions_over_budget": sum(r.questions > budget for r in mine),
            "foreign_targets": sum(len(r.foreign_targets) for r in mine),
            "bad_spans": sum(r.bad_spans for r in mine),
            "spans": sum(r.spans for r in mine),
        }

    def prf(group: list[dict[str, Any]]) -> dict[str, float]:
        found, hand = sum(e["found"] for e in group), sum(e["hand_required"] for e in group)
        correct, extracted = sum(e["correct"] for e in group), sum(e["extracted"] for e in group)
        return {
            "recall": round(found / hand, 3) if hand else 0.0,
            "precision": round(correct / extracted, 3) if extracted else 0.0,
            "pairs": len(group),
        }

    by_group: dict[str, dict[str, Any]] = {}
    for group in ("tuning", *(name for name, _, _ in GROUPS)):
        members = [e for e in extraction if _group_of(e["pair"], groups) == group]
        if not members:
            continue
        ids = {e["pair"] for e in members}
        others = [e for e in second or [] if e["pair"] in ids]
        by_group[group] = {
            **prf(members),
            **({"second_recruiter": prf(others)} if others else {}),
            "pair_ids": sorted(ids),
            "covered_hand": {
                str(budget): round(
                    statistics.mean(r.covered_hand for r in rows if r.budget == budget and r.pair in ids), 3
                )
                for budget in BUDGETS
            },
        }
    blind = groups[BLIND]
    return {
        "per_budget": per_budget,
        "rows": [asdict(r) for r in rows],
        "extraction": [e if e["pair"] not in blind
                       else {**e, "missed": len(e["missed"]), "wrong": len(e["wrong"]), "blind": True}
                       for e in extraction],
        "extraction_by_group": by_group,
    }


def _counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    found, hand = sum(r["found"] for r in rows), sum(r["hand_required"] for r in rows)
    correct, extracted = sum(r["correct"] for r in rows), sum(r["extracted"] for r in rows)
    return {"recall": round(found / hand, 3) if hand else 0.0,
            "precision": round(correct / extracted, 3) if extracted else 0.0,
            "found": found, "hand_required": hand, "correct": correct, "extracted": extracted}


def _jd_sets(folder: Path, models_dir: Path) -> dict[str, Any]:
    """JD skill extraction on other writers' job descriptions (``models/interviews/jds``) and on
    the blind pairs: the rules alone against the rules with the trained skill model, next to a
    second reader's lists. A set the model was trained on is reported with the model trained
    without its writer (from the artefact's manifest); ``test`` and the blind pairs only by count."""
    judge = load_judge(models_dir)
    manifest = judge.manifest if judge is not None else {}
    left_out = manifest.get("required_skills_writer_left_out", {})
    sets: dict[str, Any] = {}
    named = [(name, folder_items(name)) for name in jd_folders()]
    for name, items in [*named, ("heldout_pairs", heldout_pairs())]:
        rules = extraction_rows(items, folder, models_dir, None)
        second_path = JDS / name / "second.json"
        lists = (_second_lists() if name == "heldout_pairs" else
                 json.loads(second_path.read_text(encoding="utf-8"))["lists"] if second_path.exists() else {})
        entry: dict[str, Any] = {
            "jds": len(items), "rules": _counts(rules),
            "second_reader": _counts(second_recruiter(items, lists)) if lists else None,
            "trained_on": name in manifest.get("writers", []),
        }
        if entry["trained_on"]:
            entry["model_writer_left_out"] = left_out.get(name)
        elif judge is not None:
            entry["model"] = _counts(extraction_rows(items, folder, models_dir, judge))
        sets[name] = entry
    return {"model": manifest.get("version"), "threshold": manifest.get("threshold"), "sets": sets}


def _reading(folder: Path, models_dir: Path) -> dict[str, Any]:
    """CPU time per assessment, median over the interview set's pairs (read once beforehand so
    caches and the parser are warm), measured in one run: the JD read by the rules alone, by the
    skill model, and an assessment whose JD profile the gateway made already (one JD assessed
    against many resumes, :class:`~doclane.api.interviews.JobProfiles`)."""
    known, judge = known_skills(models_dir), load_judge(models_dir)
    docs = [(pipeline_document(p.jd, folder, models_dir), pipeline_document(p.resume, folder, models_dir))
            for p in pairs()]
    profiles = JobProfiles(size=len(docs))
    for (job, job_chunks), _ in docs:
        profiles.get(job, job_chunks, known, judge)
    timings: dict[str, list[float]] = {"rules": [], "model": [], "cached": []}
    for (job, job_chunks), (cv, cv_chunks) in docs:
        for label in timings:
            started = time.process_time()
            model = None if label == "rules" else judge
            made = profiles.get(job, job_chunks, known, judge) if label == "cached" else None
            assess(job, job_chunks, cv, cv_chunks, known, None, model, made)
            timings[label].append(1000 * (time.process_time() - started))
    return {label: round(statistics.median(values), 1) for label, values in timings.items()}


def _scoring() -> dict[str, Any]:
    halves = split()
    result: dict[str, Any] = {}
    for half, ids in halves.items():
        scored = [(a, answer_score(a.question, a.text)) for a in answers() if a.question_id in ids]
        pairs_all, n_all = concordance(scored)
        pairs_q, n_q = concordance(scored, same_question=True)
        means = {
            label: round(statistics.mean(s for a, s in scored if a.label == label), 2)
            for label in ("weak", "medium", "strong")
        }
        result[half] = {
            "answers": len(scored),
            "concordance": round(pairs_all, 3),
            "pairs": n_all,
            "concordance_same_question": round(pairs_q, 3),
            "pairs_same_question": n_q,
            "mean_score": means,
        }
    result["metamorphic"] = metamorphic(answers())
    return result


def _speed(run: SpeedRun) -> dict[str, Any]:
    on, off = summary(run.tentative_on_ms), summary(run.tentative_off_ms)
    reduction = 1 - on["p50"] / off["p50"] if on.get("n") and off.get("n") and off["p50"] else None
    return {
        "first_committed_token_tentative_on_ms": on,
        "first_committed_token_tentative_off_ms": off,
        "tentative_committed": run.committed_on,
        "p50_reduction": round(reduction, 3) if reduction else None,
        "p95_reduction": round(1 - on["p95"] / off["p95"], 3) if reduction else None,
        "local_reply_ms": summary(run.local_reply_ms),
        "local_first_token_ms": summary(run.local_first_token_ms),
        "concurrent": {
            "sessions": run.concurrent_sessions,
            "completed": run.concurrent_completed,
            "reported": run.concurrent_reported,
            "first_committed_token_ms": summary(run.concurrent_first_token_ms),
            "wall_s": round(run.concurrent_wall_s, 1),
        },
    }


def _ranges(ids: list[str]) -> str:
    """``p01-p20, p32-p37`` for the pair ids (``pNN``), runs of consecutive numbers joined."""
    numbers = sorted(int(i[1:]) for i in ids)
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"p{r[0]:02d}" + (f"-p{r[-1]:02d}" if len(r) > 1 else "") for r in runs)


def _row(label: str, values: dict[str, float]) -> str:
    cells = [values.get(k) for k in ("n", "p50", "p95", "max")]
    return f"| {label} | " + " | ".join(str(c) for c in cells) + " |"


def _pr(values: dict[str, Any] | None) -> str:
    return f"{values['recall']:.1%} / {values['precision']:.1%}" if values else "—"


def _jd_sets_markdown(jd_sets: dict[str, Any] | None) -> list[str]:
    if not jd_sets:
        return []
    lines = [
        "",
        "## JD skills on other writers' job descriptions",
        "",
        "Required skills, recall / precision, scored as above, by the rules alone and with the skill "
        f"model (`{jd_sets['model']}`, threshold {jd_sets['threshold']}, `models/jdskills`), next to a "
        "second reader's lists written blind to the first. JD-only sets (`models/interviews/jds`), each by "
        "its own writer; the model learnt from the sets marked *trained on*, whose model figure is the one "
        "of a model trained without that writer (leaving one writer out). "
        f"`{TEST}` and the held-out pairs were never trained or tuned on, and are reported by count only.",
        "",
        "| set | JDs | required skills | rules | skill model | second reader |",
        "|---|---|---|---|---|---|",
    ]
    for name, entry in jd_sets["sets"].items():
        label = ("held-out pairs (p44-p51, blind)" if name == "heldout_pairs"
                 else f"{name} (blind)" if name == TEST else f"{name} (trained on)")
        model = (f"{_pr(entry.get('model_writer_left_out'))} (writer left out)" if entry["trained_on"]
                 else _pr(entry.get("model")))
        lines.append(f"| {label} | {entry['jds']} | {entry['rules']['hand_required']} | "
                     f"{_pr(entry['rules'])} | {model} | {_pr(entry['second_reader'])} |")
    return lines


def _reading_markdown(reading: dict[str, float] | None) -> list[str]:
    if not reading:
        return []
    return [
        "",
        "CPU time of one assessment (JD and resume already processed), median over the pairs, one run: "
        f"JD read by the rules alone {reading['rules']} ms, by the skill model {reading['model']} ms; "
        f"with the JD's profile already made by the gateway (the next resume for the same job) "
        f"{reading['cached']} ms, {reading['model'] / max(reading['cached'], 0.1):.0f}x less than reading "
        "it.",
    ]


def _markdown(result: dict[str, Any]) -> str:
    plans, scoring, speed = result["plans"], result["scoring"], result.get("speed")
    lines = [
        f"# Interview bench — {result['at']}",
        "",
        f"Machine: {result['machine']}. Rubric `{result['rubric_version']}`, "
        f"plan `{result['plan_version']}`.",
        f"Interview set: {result['pairs']} JD/resume pairs, {result['answers']} labelled answers "
        "(`models/interviews`).",
        "",
        "## Plans",
        "",
        "| budget | required covered (as extracted) | pairs fully covered | hand-listed required "
        "covered | questions over budget | targets in neither document | spans not exact / checked |",
        "|---|---|---|---|---|---|---|",
    ]
    for budget, row in plans["per_budget"].items():
        lines.append(
            f"| {budget} | {row['covered_extracted']:.1%} | {row['full_coverage_pairs']}/{result['pairs']}"
            f" | {row['covered_hand']:.1%} | {row['questions_over_budget']} | {row['foreign_targets']} "
            f"| {row['bad_spans']} / {row['spans']} |"
        )
    labels = {"tuning": "tuning", **{name: label for name, _, label in GROUPS}}
    lines += [
        "",
        "JD required skills against the hand lists (precision: extracted required skills the "
        "recruiter listed as required, preferred or acceptable; recall: hand-listed required skills found), "
        "and the share of hand-listed required skills the plan targets, per group of pairs; last, a second "
        "recruiter's own lists (`models/interviews/second_lists.json`, written blind to the first) "
        "scored the same way, which says how far two careful readers agree:",
        "",
        "| pairs | precision | recall | hand-listed required covered, budget "
        + " / ".join(str(b) for b in BUDGETS) + " | second recruiter: precision / recall |",
        "|---|---|---|---|---|",
    ]
    for group, g in plans["extraction_by_group"].items():
        other = g.get("second_recruiter")
        lines.append(
            f"| {labels[group]}: {g['pairs']} ({_ranges(g['pair_ids'])}) | {g['precision']:.1%} | "
            f"{g['recall']:.1%} | " + " / ".join(f"{g['covered_hand'][str(b)]:.1%}" for b in BUDGETS)
            + (f" | {other['precision']:.1%} / {other['recall']:.1%} |" if other else " | — |")
        )
    lines += ["", "Missed and wrong per pair:", ""]
    for e in plans["extraction"]:
        if e.get("blind"):  # counts only
            lines.append(f"- {e['pair']} {e['role']}: {e['found']}/{e['hand_required']} found; "
                         f"{e['missed']} missed, {e['wrong']} wrong (held out: not named)")
            continue
        lines.append(
            f"- {e['pair']} {e['role']}: {e['found']}/{e['hand_required']} found; missed "
            f"{', '.join(e['missed']) or '—'}; wrong {', '.join(e['wrong']) or '—'}"
        )
    lines += _jd_sets_markdown(result.get("jd_sets"))
    lines += _reading_markdown(result.get("reading_ms"))
    lines += [
        "",
        "## Scoring",
        "",
        "Concordance: share of pairs of answers with different labels that the score orders like the "
        "labels (ties count half); over all pairs of the half, and over pairs answering the same question.",
        "",
        "| half | answers | concordance (pairs) | same question (pairs) | mean weak / medium / strong |",
        "|---|---|---|---|---|",
    ]
    for half in ("tuning", "heldout"):
        h = scoring[half]
        m = h["mean_score"]
        lines.append(
            f"| {half} | {h['answers']} | {h['concordance']:.3f} ({h['pairs']}) | "
            f"{h['concordance_same_question']:.3f} ({h['pairs_same_question']}) | "
            f"{m['weak']} / {m['medium']} / {m['strong']} |"
        )
    lines += ["", "Metamorphic checks over all answers:", "", "| check | cases | failures |", "|---|---|---|"]
    for name, check in scoring["metamorphic"].items():
        lines.append(
            f"| {name} | {check['cases']} | {len(check['failures'])} {check['failures'][:5] or ''} |"
        )
    if speed:
        on, off = (
            speed["first_committed_token_tentative_on_ms"],
            speed["first_committed_token_tentative_off_ms"],
        )
        c = speed["concurrent"]
        lines += [
            "",
            "## Speed",
            "",
            f"Measured {result.get('speed_at', result['at'])}"
            + (" (an earlier run than the quality figures above: `--keep-speed`)."
               if result.get("speed_at", result["at"]) != result["at"] else "."),
            "",
            f"Mock provider at {result['ttft_ms']} ms to first token, through real embedded servers and "
            "WebSocket clients; the candidate sends `input.update` with the final text, pauses "
            "700 ms, sends `input.end`. First committed token: the first `reply.delta` of a reply made at "
            "`input.end`; for a tentative reply, whose tokens were already streamed, its `reply.commit`.",
            "",
            "| measure | n | p50 ms | p95 ms | max ms |",
            "|---|---|---|---|---|",
            _row("first committed token, tentative on", on),
            _row("first committed token, tentative off", off),
            f"| local reply (input.end → reply.end) | {speed['local_reply_ms']['n']} | "
            f"{speed['local_reply_ms']['p50']} | {speed['local_reply_ms']['p95']} | "
            f"{speed['local_reply_ms']['max']} |",
            f"| local first token | {speed['local_first_token_ms']['n']} | "
            f"{speed['local_first_token_ms']['p50']} | {speed['local_first_token_ms']['p95']} | "
            f"{speed['local_first_token_ms']['max']} |",
            f"| {c['sessions']} concurrent sessions, first committed token | "
            f"{c['first_committed_token_ms']['n']} | {c['first_committed_token_ms'].get('p50')} | "
            f"{c['first_committed_token_ms'].get('p95')} | {c['first_committed_token_ms'].get('max')} |",
            "",
            f"Tentative replies committed: {speed['tentative_committed']} of {on['n']} turns; first "
            f"committed token lower by {speed['p50_reduction']:.1%} at p50 and {speed['p95_reduction']:.1%} "
            "at p95 with "
            f"them on (target ≥ 60%), measured in the same run. Concurrent: {c['completed']}/{c['sessions']}"
            " "
            f"sessions held all their turns in {c['wall_s']} s on one gateway; ended afterwards, "
            f"{c['reported']}/{c['sessions']} got their report from the assessor group. The concurrent "
            "sessions speak the same way (tentative replies on), three answers each. A `local` reply is "
            "paced at `DOCLANE_INTERVIEW_WORD_DELAY_MS` (15 ms a word), which is most of its time.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quality-only", action="store_true", help="plans and scoring only; prints, writes nothing"
    )
    parser.add_argument(
        "--keep-speed",
        action="store_true",
        help="measure quality, keep the speed figures of the last full run (stamped with their time)",
    )
    parser.add_argument("--ttft-ms", type=int, default=600)
    args = parser.parse_args()
    settings = Settings()
    result: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "rubric_version": RUBRIC_VERSION,
        "plan_version": PLAN_VERSION,
        "ttft_ms": args.ttft_ms,
        "pairs": len(pairs()),
        "answers": len(answers()),
    }
    with tempfile.TemporaryDirectory() as folder:
        rows, extraction = plan_rows(pairs(), Path(folder), settings.models_dir)
        result["plans"] = _plans(rows, extraction, second_recruiter(pairs(), _second_lists()))
        result["jd_sets"] = _jd_sets(Path(folder), settings.models_dir)
        result["reading_ms"] = _reading(Path(folder), settings.models_dir)
        result["scoring"] = _scoring()
        if args.keep_speed:
            last = json.loads((RESULTS / "interview.json").read_text())
            result["speed"], result["speed_at"] = last["speed"], last.get("speed_at", last["at"])
            result["ttft_ms"] = last["ttft_ms"]
        elif not args.quality_only:
            result["speed"] = _speed(asyncio.run(run_speed(Path(folder), args.ttft_ms)))
            result["speed_at"] = result["at"]
    print(_markdown(result))
    if args.quality_only:  # a partial run does not replace the published figures
        return
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "interview.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "interview.md").write_text(_markdown(result))


if __name__ == "__main__":
    main()
