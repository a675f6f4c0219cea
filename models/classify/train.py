"""``python -m models.classify.train``: build the classifier artefact if its inputs changed.

Run by ``make models``. Prints where the artefact is and what the selection step measured.
"""

from __future__ import annotations

import argparse
import json
import time

from doclane.infra.settings import get_settings
from models.classify.pipeline import PER_CLASS, build

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even if the artefact exists")
    parser.add_argument("--per-class", type=int, default=PER_CLASS, help="generated documents per class")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = build(get_settings().models_dir, per_class=args.per_class, force=args.force)
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    print(f"classifier {manifest['version']} in {path} ({time.perf_counter() - started:.1f} s)")
    for name, figures in manifest["selection"].items():
        print(f"  {name:16} validation accuracy {figures['accuracy']:.3f}  macro-F1 {figures['macro_f1']:.3f}"
              f"  ECE {figures['ece']:.3f}  fit {figures['fit_s']} s")
    print(f"  threshold for 'other': {manifest['threshold']}")


if __name__ == "__main__":
    main()
