"""The local analyzer's errors on the TUNING half, document by document (never the held-out half).

    python -m models.analysis.errors [--only sentiment|actions|summary] [ID ...]

What a rule or threshold is tuned against: every wrong sentiment label, every
reference action item not found, every predicted item that matches none, and
every summary that breaks the 3-5 sentence form. The held-out half is refused,
so that it stays a measurement (see the data card).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.analysis import _analyse
from bench.analysis_metrics import has_markup, match_items, sentence_count
from bench.analysis_set import load_labels
from doclane.ai.local import LocalAnalyzer
from doclane.infra.settings import Settings


async def _run(ids: set[str], only: str | None) -> None:
    labels = [lab for lab in load_labels() if lab.split == "tuning"]
    if ids - {lab.id for lab in labels}:
        raise SystemExit(f"not in the tuning half: {sorted(ids - {lab.id for lab in labels})}")
    analyzer = LocalAnalyzer(offload=lambda f, *a: asyncio.sleep(0, f(*a)))
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        for lab in labels:
            if ids and lab.id not in ids:
                continue
            out = await _analyse(analyzer, lab, Path(tmp), settings)
            lines = []
            if only in (None, "sentiment") and out["sentiment"] != lab.sentiment:
                lines.append(f"  sentiment: {out['sentiment']} (reference {lab.sentiment}): "
                             f"{out['justification']}")
            if only in (None, "actions"):
                got = [i["text"] for i in out["action_items"]]
                refs = [r.text for r in lab.action_items]
                matches = match_items(got, refs)
                hit_p, hit_r = {m.predicted for m in matches}, {m.reference for m in matches}
                lines += [f"  missed: {r}" for j, r in enumerate(refs) if j not in hit_r]
                lines += [f"  extra:  {g}" for i, g in enumerate(got) if i not in hit_p]
            n = sentence_count(out["summary"])
            if only in (None, "summary") and (not 3 <= n <= 5 or has_markup(out["summary"])):
                lines.append(f"  summary ({n} sentences): {out['summary']}")
            if lines or ids:
                print(f"{lab.id} ({lab.file}, {lab.kind})")
                print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--only", choices=["sentiment", "actions", "summary"])
    args = parser.parse_args()
    asyncio.run(_run(set(args.ids), args.only))


if __name__ == "__main__":
    main()
