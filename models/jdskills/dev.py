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

from bench.interview_quality import extraction_rows
from bench.interview_set import Pair
from doclane.infra.settings import Settings
from doclane.interviews.judge import load_judge
from doclane.interviews.profiles import Judge
from models.jdskills.pipeline import examples, fit, rows, select
from models.jdskills.sets import TEST, folder_items, jd_folders, training_items


def score(items: Sequence[Pair], models_dir: Path, judge: Judge | None, verbose: bool,
          named: bool) -> tuple[int, int, int, int]:
    """(hand-listed required found, hand-listed required, extracted accepted, extracted)."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = extraction_rows(items, Path(tmp), models_dir, judge)
    if verbose and named:
        for r in rows:
            print(f"  {r['pair']} {r['role']}: {r['found']}/{r['hand_required']}; missed {r['missed']}; "
                  f"wrong {r['wrong']}")
    return (sum(r["found"] for r in rows), sum(r["hand_required"] for r in rows),
            sum(r["correct"] for r in rows), sum(r["extracted"] for r in rows))


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
    folders = args.folders or [name for name in jd_folders() if name != TEST]
    models_dir = Settings().models_dir
    judge: Judge | None = load_judge(models_dir) if args.judge else None
    data = examples(training_items(), models_dir) if args.left_out else []
    for name in folders:
        if args.left_out:
            others = [e for e in data if e.writer != name]
            c, threshold, _ = select(others)
            judge = fit(rows(others), c, threshold)
        counts = score(folder_items(name), models_dir, judge, args.verbose, name != TEST)
        print(_line(name, counts), flush=True)


if __name__ == "__main__":
    main()
