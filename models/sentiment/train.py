"""``python -m models.sentiment.train``: build the sentence sentiment model if its inputs changed.

Run by ``make models``. Prints where the artefact is and what the selection step measured.
"""

from __future__ import annotations

from models._artefacts import build_command
from models.sentiment.pipeline import build

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    path, manifest, seconds = build_command(__doc__ or "", build, argv)
    print(f"sentence sentiment {manifest['version']} in {path} ({seconds:.1f} s)")
    print(f"  {manifest['sentences']} sentences {manifest['label_counts']}; C={manifest['C']}; "
          f"5-fold accuracy by C: {manifest['cross_validated_accuracy']}")


if __name__ == "__main__":
    main()
