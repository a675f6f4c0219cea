"""The local analyzer's action items on other writers' text: the development set.

    python -m models.actions.dev [-v]

``labels.jsonl`` lists the action items of the 300 sentiment training documents
(``models/sentiment/documents``), written by a reader blind to the analyzer and to the
evaluation set (see ``README.md``). Rules may be developed against it; the evaluation set's
held-out halves stay a measurement. Prints precision and recall as ``bench/analysis.py``
matches items, and with ``-v`` every missed and every extra item, document by document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from bench.analysis_metrics import match_items
from doclane.ai.local import LocalAnalyzer
from doclane.extraction import SNIFF_BYTES, chunk_document, extract, sniff_content_type
from doclane.schemas.extraction import Chunk

HERE = Path(__file__).resolve().parent


def _chunks(path: Path) -> list[Chunk]:
    content_type = sniff_content_type(path.read_bytes()[:SNIFF_BYTES], path.name, path=path)
    return chunk_document(extract(path, content_type))


async def _items(analyzer: LocalAnalyzer, path: Path) -> list[str]:
    chunks = _chunks(path)
    result = await analyzer.reduce([(c, await analyzer.analyze_chunk(c)) for c in chunks])
    return [item.text for item in result.action_items]


async def run(verbose: bool) -> tuple[float, float]:
    analyzer = LocalAnalyzer()
    predicted = reference = matched = 0
    for line in (HERE / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        got = await _items(analyzer, (HERE / row["file"]).resolve())
        ref = [item["text"] for item in row["action_items"]]
        matches = match_items(got, ref)
        predicted, reference, matched = predicted + len(got), reference + len(ref), matched + len(matches)
        if verbose:
            hit_ref, hit_got = {m.reference for m in matches}, {m.predicted for m in matches}
            missed = [r for k, r in enumerate(ref) if k not in hit_ref]
            extra = [g for k, g in enumerate(got) if k not in hit_got]
            if missed or extra:
                print(row["id"])
                for text in missed:
                    print(f"  missed: {text}")
                for text in extra:
                    print(f"  extra:  {text}")
    precision = matched / predicted if predicted else 0.0
    recall = matched / reference if reference else 0.0
    print(f"precision {precision:.3f} ({matched}/{predicted}), recall {recall:.3f} ({matched}/{reference})")
    return precision, recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="every missed and extra item")
    asyncio.run(run(parser.parse_args().verbose))


if __name__ == "__main__":
    main()
