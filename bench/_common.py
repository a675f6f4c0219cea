"""What every benchmark does with what it measured: the latest run as JSON, and a row per run in a
Markdown history (``bench/results/<name>.json`` and ``<name>.md``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "save_results"]

RESULTS = Path(__file__).parent / "results"


def save_results(name: str, result: dict[str, Any], header: str, rows: Iterable[str]) -> None:
    """Write ``result`` to ``<name>.json`` and append ``rows`` to the ``<name>.md`` history,
    which starts with ``header`` (its title and table head) when it is new."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    history = RESULTS / f"{name}.md"
    if not history.exists():
        history.write_text(header)
    with history.open("a") as out:
        out.writelines(rows)
