"""Labelled job descriptions: the interview set's pairs and the JD-only sets (``models/interviews/jds``).

Each item is a :class:`bench.interview_set.Pair` (a JD-only item has no resume: its ``resume`` is
its JD), so the interview bench's own scoring (:func:`bench.interview_quality._hand_prf`) applies.
"""

from __future__ import annotations

import json
from functools import cache

from bench.interview_set import DATA, Pair, names_of, pairs

__all__ = ["JDS", "TEST", "folder_items", "heldout_pairs", "jd_folders", "training_items", "writer_of"]

JDS = DATA / "jds"
#: The folder only ever scored, never read by whoever changes the extraction.
TEST = "test"


@cache
def folder_items(name: str) -> tuple[Pair, ...]:
    folder = JDS / name
    raw = json.loads((folder / "labels.json").read_text(encoding="utf-8"))["jds"]
    return tuple(Pair(r["id"], r["role"], folder / r["file"], folder / r["file"], names_of(r["required"]),
                      names_of(r["preferred"]), names_of(r.get("also_ok", []))) for r in raw)


def heldout_pairs() -> tuple[Pair, ...]:
    """The interview set's pairs held out from every change so far (round 5)."""
    held = set(json.loads((DATA / "pairs.json").read_text(encoding="utf-8"))["extraction_heldout_round5"])
    return tuple(p for p in pairs() if p.id in held)


def jd_folders() -> list[str]:
    """The JD-only sets that have their labels, ``test`` last."""
    folders = sorted(p.name for p in JDS.iterdir() if (p / "labels.json").is_file()) if JDS.is_dir() else []
    return sorted(folders, key=lambda name: (name == TEST, name))


def training_items() -> tuple[Pair, ...]:
    """Every labelled JD a model may learn from: the pairs not held out, and the JD-only sets
    but the test one."""
    held = {p.id for p in heldout_pairs()}
    folders = [name for name in jd_folders() if name != TEST]
    return (*(p for p in pairs() if p.id not in held), *(i for f in folders for i in folder_items(f)))


def writer_of(item: Pair) -> str:
    """Who wrote a labelled JD: its JD-only set's folder, or ``pairs`` for the interview set."""
    return item.jd.parent.name if item.jd.parent.parent == JDS else "pairs"
