"""JD skill extraction on labelled job descriptions, as the interview bench scores it.

    python -m models.jdskills.dev [FOLDER ...] [--judge | --left-out] [-v]

FOLDER is a JD-only set under ``models/interviews/jds`` (default: all but ``test``). Prints, per
folder, the required skills' recall and precision against the hand lists
(:func:`bench.interview_quality._hand_prf`): by the rules alone, with ``--judge`` with the trained
skill model, and with ``--left-out`` with a skill model trained without that folder's writer
(what the model does for a writer it never saw). ``-v`` names what was missed and what was wrong,
JD by JD. The ``test`` folder is only ever counted: its misses are never named.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.interview_quality import _hand_prf
from bench.interview_set import Pair, pipeline_document
from doclane.infra.settings import Settings
from doclane.interviews.judge import SkillJudge, load_judge
from doclane.interviews.profiles import Judge, job_profile
from doclane.interviews.skills import known_skills
from models.jdskills.pipeline import VERSION, examples, fit, rows, select
from models.jdskills.sets import JDS, TEST, folder_items, training_items


def score(items: Sequence[Pair], models_dir: Path, judge: Judge | None, verbose: bool,
          named: bool) -> tuple[int, int, int, int]:
    """(hand-listed required found, hand-listed required, extracted accepted, extracted)."""
    known = known_skills(models_dir)
    found = listed = correct = hand = 0
    with tempfile.TemporaryDirectory() as tmp:
        for item in items:
            doc, chunks = pipeline_document(item.jd, Path(tmp), models_dir)
            job = job_profile(doc, chunks, known, judge)
            required = {r.skill for r in job.required_skills}
            f, n, c = _hand_prf(item, [frozenset({s}) for s in required])
            found, listed, correct, hand = found + f, listed + n, correct + c, hand + len(item.required)
            if verbose and named:
                acceptable = set().union(*item.required, *item.also_ok, *item.preferred)
                missed = [sorted(n)[0] for n in item.required if not n & required]
                wrong = sorted(s for s in required if s not in acceptable)
                print(f"  {item.id} {item.role}: {f}/{len(item.required)}; missed {missed}; wrong {wrong}")
    return found, hand, correct, listed


def _line(name: str, counts: tuple[int, int, int, int]) -> str:
    found, hand, correct, listed = counts
    return (f"{name}: recall {found / max(hand, 1):.3f} ({found}/{hand}), "
            f"precision {correct / max(listed, 1):.3f} ({correct}/{listed})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--judge", action="store_true")
    parser.add_argument("--left-out", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    folders = args.folders or sorted(p.name for p in JDS.iterdir() if p.is_dir() and p.name != TEST)
    models_dir = Settings().models_dir
    judge: Judge | None = load_judge(models_dir) if args.judge else None
    data = examples(training_items(), models_dir) if args.left_out else []
    for name in folders:
        if args.left_out:
            others = [e for e in data if e.writer != name]
            c, threshold, _ = select(others)
            judge = SkillJudge(fit(rows(others), c), threshold, VERSION)
        counts = score(folder_items(name), models_dir, judge, args.verbose, name != TEST)
        print(_line(name, counts), flush=True)


if __name__ == "__main__":
    main()
