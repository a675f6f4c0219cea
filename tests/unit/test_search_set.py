"""The labelled search set stays well-formed: sizes, answers present, honest paraphrase labels."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest

from bench.search_set import (
    PARAPHRASE_MAX_OVERLAP,
    load_queries,
    materialise,
    normalise,
    source_files,
    visible_text,
)
from doclane.extraction import extract

FORMATS = (".md", ".html", ".json", ".docx.txt", ".pptx.txt", ".pdf.txt")


def test_sizes_and_formats() -> None:
    files = source_files()
    assert len(files) >= 60
    queries = load_queries()
    assert len(queries) >= 120
    assert sum(q.paraphrase for q in queries) * 2 >= len(queries)
    for suffix in FORMATS:
        assert sum(f.name.endswith(suffix) for f in files) >= 3, suffix
    # Distractors: documents no query points at.
    used = {doc for q in queries for doc, _ in q.relevant}
    assert {f.name for f in files} - used


def test_every_answer_is_in_its_document_once_and_labels_are_honest() -> None:
    from bench.search_set import lexical_overlap

    docs = {f.name: f for f in source_files()}
    texts = {name: normalise(visible_text(path)) for name, path in docs.items()}
    assert len({q.text for q in load_queries()}) == len(load_queries())
    for query in load_queries():
        assert query.relevant, query.id
        for doc, answer in query.relevant:
            assert doc in docs, (query.id, doc)
            assert texts[doc].count(normalise(answer)) == 1, (query.id, answer)
            overlap = lexical_overlap(query.text, visible_text(docs[doc]), answer)
            assert query.paraphrase == (overlap <= PARAPHRASE_MAX_OVERLAP), (query.id, overlap)


def test_answers_survive_the_real_readers(tmp_path: Path) -> None:
    by_doc: dict[str, list[str]] = collections.defaultdict(list)
    for query in load_queries():
        for doc, answer in query.relevant:
            by_doc[doc].append(answer)
    for source in source_files():
        path, content_type = materialise(source, tmp_path)
        document = extract(path, content_type)
        text = normalise(" ".join(s.text for s in document.sections))
        for answer in by_doc.get(source.name, []):
            if normalise(answer) not in text:
                pytest.fail(f"{source.name}: {answer!r} is not in the extracted text")



def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalise(text))


@pytest.mark.parametrize("folder", ["bench/data/search", "models/interviews/pairs"])
def test_generated_pdfs_hold_every_heading_and_word_of_their_source(folder: str, tmp_path: Path) -> None:
    # The search and interview sets' PDFs are drawn from text sources: a box too small
    # for its text draws nothing, and every one of them had lost its headings (some a
    # paragraph too).
    sources = sorted(Path(folder).rglob("*.pdf.txt"))
    assert sources, folder
    for source in sources:
        document = extract(*materialise(source, tmp_path))
        headings = {" ".join(_words(line[2:])) for line in source.read_text().splitlines()
                    if line.startswith("# ")}
        found = {" ".join(_words(part)) for s in document.sections for part in s.heading_path}
        assert headings <= found, (source.name, headings - found)
        text = " ".join(found) + " " + " ".join(s.text for s in document.sections)
        missing = collections.Counter(_words(visible_text(source))) - collections.Counter(_words(text))
        assert not missing, (source.name, missing)


def test_the_bench_cuts_passages_as_the_indexer_does(tmp_path: Path) -> None:
    # Figures measured on other passages than the indexer writes would not be the product's.
    from bench.search import corpus
    from doclane.ai.embeddings.passages import chunk_passages, split_passages
    from doclane.extraction import chunk_document

    size = 900
    pieces, _ = corpus(tmp_path, size)
    sources = [s for s in source_files() if s.name.endswith((".docx.txt", ".md"))]
    long_chunks = 0
    for source in sources:
        chunks = chunk_document(extract(*materialise(source, tmp_path)))
        expected = [text for chunk in chunks for text in chunk_passages(chunk, size)]
        assert [p.text for p in pieces if p.source == source.name] == expected, source.name
        for chunk in (c for c in chunks if len(c.text) > size):
            long_chunks += 1
            assert chunk_passages(chunk, size) == split_passages(chunk, size, size * 15 // 100)
    assert long_chunks  # the overlap was exercised
