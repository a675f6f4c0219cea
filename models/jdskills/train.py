"""``python -m models.jdskills.train``: build the job description skill model if its inputs changed.

Run by ``make models`` (after the NER model, whose entities it reads). Prints where the artefact
is and what leaving one writer out measured.
"""

from __future__ import annotations

from models._artefacts import build_command
from models.jdskills.pipeline import build

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    path, manifest, seconds = build_command(__doc__ or "", build, argv)
    print(f"job description skills {manifest['version']} in {path} ({seconds:.1f} s)")
    print(f"  {manifest['job_descriptions']} job descriptions by {manifest['writers']}; "
          f"{manifest['candidates']} candidates, {manifest['positives']} asked; "
          f"C={manifest['C']}, threshold {manifest['threshold']}; "
          f"required skills with a writer left out: {manifest['required_skills_writer_left_out']}")


if __name__ == "__main__":
    main()
