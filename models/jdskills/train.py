"""``python -m models.jdskills.train``: build the job description skill model if its inputs changed.

Run by ``make models`` (after the NER model, whose entities it reads). Prints where the artefact
is and what leaving one writer out measured.
"""

from __future__ import annotations

import argparse
import json
import time

from doclane.infra.settings import get_settings
from models.jdskills.pipeline import build

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even if the artefact exists")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = build(get_settings().models_dir, force=args.force)
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    print(f"job description skills {manifest['version']} in {path} ({time.perf_counter() - started:.1f} s)")
    print(f"  {manifest['job_descriptions']} job descriptions by {manifest['writers']}; "
          f"{manifest['candidates']} candidates, {manifest['positives']} asked; "
          f"C={manifest['C']}, threshold {manifest['threshold']}; "
          f"required skills with a writer left out: {manifest['required_skills_writer_left_out']}")


if __name__ == "__main__":
    main()
