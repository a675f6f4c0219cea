"""``python -m models.sentiment.train``: build the sentence sentiment model if its inputs changed.

Run by ``make models``. Prints where the artefact is and what the selection step measured.
"""

from __future__ import annotations

import argparse
import json
import time

from doclane.infra.settings import get_settings
from models.sentiment.pipeline import build

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even if the artefact exists")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = build(get_settings().models_dir, force=args.force)
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    print(f"sentence sentiment {manifest['version']} in {path} ({time.perf_counter() - started:.1f} s)")
    print(f"  {manifest['sentences']} sentences {manifest['label_counts']}; C={manifest['C']}; "
          f"5-fold accuracy by C: {manifest['cross_validated_accuracy']}")


if __name__ == "__main__":
    main()
