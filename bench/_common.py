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
    """Write ``result`` to ``<name>.json`` and add ``rows`` to the ``<name>.md`` history, which
    starts with ``header`` (its title and table head) when it is new.

    The rows go at the end of the history's table, so notes written below it stay below it.
    """
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    history = RESULTS / f"{name}.md"
    lines = (history.read_text() if history.exists() else header).splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    history.write_text("".join(_after_table(lines, list(rows))))


def _after_table(lines: list[str], rows: list[str]) -> list[str]:
    """``lines`` with ``rows`` inserted after the last line of its first table."""
    in_table = False
    for i, line in enumerate(lines):
        if line.startswith("|"):
            in_table = True
        elif in_table:
            return [*lines[:i], *rows, *lines[i:]]
    return [*lines, *rows]
