"""The interview set (``models/interviews``): JD/resume pairs, hand-labelled answers, the split.

Pairs are small text sources; ``*.docx.txt`` and ``*.pdf.txt`` become real DOCX and PDF
files at bench time (:func:`bench.search_set.materialise`). :func:`pipeline_chunks` runs
a document through the pipeline's own pieces offline, as the extractor and the indexer
do: the format reader, the structure-aware chunker, the trained NER model per chunk.

The metamorphic transforms (:func:`rename`, :func:`add_concept`) are shared by the bench
and by ``tests/unit/test_interview_scoring.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from bench.search_set import materialise
from doclane.ai._title import guess_title
from doclane.interviews.skills import canonical
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.events import DocumentStatus
from doclane.schemas.interviews import PlannedQuestion

__all__ = [
    "DATA",
    "LABELS",
    "Answer",
    "Pair",
    "add_concept",
    "answers",
    "names_of",
    "pairs",
    "pipeline_chunks",
    "pipeline_document",
    "rename",
    "split",
]

DATA = Path(__file__).parents[1] / "models" / "interviews"
Label = Literal["weak", "medium", "strong"]
LABELS: dict[str, int] = {"weak": 0, "medium": 1, "strong": 2}


@dataclass(frozen=True)
class Pair:
    id: str
    role: str
    jd: Path
    resume: Path
    #: Each required skill as a set of acceptable canonical names (``a|b`` in the data).
    required: tuple[frozenset[str], ...]
    preferred: tuple[frozenset[str], ...]
    also_ok: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Answer:
    id: str
    question_id: str
    pair: str
    label: Label
    question: PlannedQuestion
    text: str


def names_of(items: list[str]) -> tuple[frozenset[str], ...]:
    """One set of canonical names per hand-listed skill (``a|b``: either name counts)."""
    return tuple(frozenset(canonical(n) for n in item.split("|")) for item in items)


@cache
def pairs() -> tuple[Pair, ...]:
    raw = json.loads((DATA / "pairs.json").read_text(encoding="utf-8"))["pairs"]
    folder = DATA / "pairs"
    return tuple(
        Pair(
            p["id"],
            p["role"],
            folder / p["jd"],
            folder / p["resume"],
            names_of(p["required"]),
            names_of(p["preferred"]),
            names_of(p["also_ok"]),
        )
        for p in raw
    )


@cache
def answers() -> tuple[Answer, ...]:
    found = []
    for line in (DATA / "answers.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        question = PlannedQuestion(
            id=raw["question_id"],
            text=raw["question"],
            targets=raw["targets"],
            kind=raw["kind"],
            source_kind="general",
        )
        found.append(
            Answer(raw["id"], raw["question_id"], raw["pair"], raw["label"], question, raw["answer"])
        )
    return tuple(found)


@cache
def split() -> dict[str, frozenset[str]]:
    """Question ids per half: ``tuning`` and ``heldout``."""
    raw = json.loads((DATA / "split.json").read_text(encoding="utf-8"))
    return {"tuning": frozenset(raw["tuning"]), "heldout": frozenset(raw["heldout"])}


def pipeline_document(
    source: Path, folder: Path, models_dir: Path
) -> tuple[DocumentRecord, list[ChunkRecord]]:
    """A pair's document as the pipeline leaves it: a completed record and its chunks with entities."""
    from doclane.ai.ner import extract_entities
    from doclane.extraction import chunk_document, extract

    path, content_type = materialise(source, folder)
    extracted = extract(path, content_type)
    chunks = chunk_document(extracted)
    doc_id = hashlib.sha256(source.name.encode()).hexdigest()[:16]
    records = []
    for chunk in chunks:
        entities = [
            e.model_copy(update={"chunk_index": chunk.index, "section_path": list(chunk.section_path)})
            for e in extract_entities(chunk.text, models_dir)
        ]
        records.append(ChunkRecord(**chunk.model_dump(), document_id=doc_id, entities=entities))
    doc = DocumentRecord(
        id=doc_id,
        filename=path.name,
        content_type=content_type,
        size_bytes=path.stat().st_size,
        sha256=doc_id,
        owner="bench",
        blob_key=f"uploads/{doc_id}/{path.name}",
        status=DocumentStatus.COMPLETED,
        title=extracted.title or guess_title(chunks),
        chunk_count=len(records),
    )
    return doc, records


def pipeline_chunks(
    pair: Pair, folder: Path, models_dir: Path
) -> tuple[tuple[DocumentRecord, list[ChunkRecord]], tuple[DocumentRecord, list[ChunkRecord]]]:
    return pipeline_document(pair.jd, folder, models_dir), pipeline_document(pair.resume, folder, models_dir)


# --- metamorphic transforms ---

#: Names of people and companies in the answers, each with a stand-in of the same kind.
_RENAMES = {
    "Parcelry": "Boxwell",
    "Quayside Energy": "Harbour Power",
    "Quayside": "Harbour",
    "Stadtmobil": "Carvia",
    "Brightlane": "Northlight",
    "Coinlane": "Pennyway",
    "Pennine Textiles": "Dales Fabrics",
    "Pennine Bikes": "Dales Cycles",
    "Rosterly": "Shiftbook",
    "Trent Valley": "Wye Valley",
    "Fibrelink": "Netwave",
    "Claimsure": "Covermate",
}
_PERSON = re.compile(r"\b(?:Sarah|Maria|Tom|Elena|Grace|Daniel)\b")


def rename(text: str) -> str:
    """The same answer about other people and companies."""
    for old, new in _RENAMES.items():
        text = text.replace(old, new)
    return _PERSON.sub("Alex", text)


def add_concept(question: PlannedQuestion, text: str, names: dict[str, str] | None = None) -> str:
    """The answer with a sentence naming the targeted concepts it left out (unchanged if none)."""
    from doclane.interviews.skills import surface_pattern

    names = names or {}
    missing = [
        names.get(t, t) for t in question.targets if not surface_pattern(t, names.get(t, t)).search(text)
    ]
    if not missing:
        return text
    joined = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
    return f"{text.rstrip()} I used {joined} for that as well."
