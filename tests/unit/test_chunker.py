"""Chunks follow the document's structure, stay within size, overlap, and know their pages."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from doclane.extraction import chunk_document, extract
from doclane.schemas.extraction import Chunk, ExtractedDocument, Section
from tests.utils.documents import make_report_pdf

SENTENCE = "The committee reviewed the budget and approved the plan for next year."


def document(*sections: Section, pages: int = 1) -> ExtractedDocument:
    return ExtractedDocument(content_type="text/plain", page_count=pages, sections=list(sections))


def paragraphs(n: int, sentences: int = 4) -> str:
    """``n`` paragraphs of numbered (so unique) sentences."""
    return "\n\n".join(
        " ".join(f"Point {p}.{s}: {SENTENCE}" for s in range(sentences)) for p in range(n)
    )


def words(text: str) -> list[str]:
    return text.split()


def strip_overlap(chunks: list[Chunk]) -> list[str]:
    """Each chunk's text minus the prefix it repeats from the chunk before it."""
    texts = [chunks[0].text]
    for previous, chunk in itertools.pairwise(chunks):
        shared = _shared_prefix(previous.text, chunk.text)
        texts.append(chunk.text[shared:])
    return texts


def _shared_prefix(previous: str, text: str) -> int:
    for size in range(min(len(previous), len(text)), 0, -1):
        if previous.endswith(text[:size]):
            return size
    return 0


def test_small_sections_each_become_one_chunk_with_their_path() -> None:
    doc = document(
        Section(heading_path=[], text="Preface."),
        Section(heading_path=["Intro"], text="Short intro."),
        Section(heading_path=["Intro", "Scope"], text="Short scope."),
    )
    chunks = chunk_document(doc)
    assert [(c.index, c.section_path, c.text) for c in chunks] == [
        (0, [], "Preface."),
        (1, ["Intro"], "Short intro."),
        (2, ["Intro", "Scope"], "Short scope."),
    ]


def test_adjacent_sections_under_one_path_merge_up_to_the_limit() -> None:
    doc = document(
        *[Section(heading_path=["Notes"], text=f"Note {i}. {SENTENCE}") for i in range(30)],
        Section(heading_path=["Other"], text="Different heading."),
        Section(heading_path=["Notes"], text="Not adjacent: stays apart."),
    )
    chunks = chunk_document(doc, max_chars=500, overlap_chars=0)
    notes = chunks[:-2]
    assert all(c.section_path == ["Notes"] for c in notes)
    assert len(notes) < 30
    assert all(len(c.text) <= 500 for c in notes)
    assert [c.section_path for c in chunks[-2:]] == [["Other"], ["Notes"]]
    assert chunks[-1].text == "Not adjacent: stays apart."


def test_chunks_never_cross_headings_even_when_both_would_fit() -> None:
    doc = document(
        Section(heading_path=["A"], text="Alpha."), Section(heading_path=["B"], text="Beta.")
    )
    assert [c.text for c in chunk_document(doc, max_chars=4000)] == ["Alpha.", "Beta."]


@pytest.mark.parametrize(("max_chars", "overlap"), [(4000, 200), (1000, 100), (300, 50)])
def test_a_big_section_is_split_within_bounds_with_overlap(max_chars: int, overlap: int) -> None:
    text = paragraphs(40)
    chunks = chunk_document(
        document(Section(heading_path=["Big"], text=text)),
        max_chars=max_chars,
        overlap_chars=overlap,
    )
    assert len(chunks) > 1
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(0 < len(c.text) <= max_chars and c.text.strip() == c.text for c in chunks)
    for previous, chunk in itertools.pairwise(chunks):
        shared = _shared_prefix(previous.text, chunk.text)
        assert 0 < shared <= overlap, (previous.text[-80:], chunk.text[:80])
    assert words(" ".join(strip_overlap(chunks))) == words(text)


def test_without_overlap_the_chunks_are_the_text() -> None:
    text = paragraphs(25)
    chunks = chunk_document(
        document(Section(heading_path=["Big"], text=text)), max_chars=700, overlap_chars=0
    )
    assert words(" ".join(c.text for c in chunks)) == words(text)


def test_paragraph_boundaries_are_preferred() -> None:
    text = paragraphs(12, sentences=3)  # paragraphs of about 215 characters
    chunks = chunk_document(
        document(Section(heading_path=["P"], text=text)), max_chars=1000, overlap_chars=0
    )
    ends = {p[-40:] for p in text.split("\n\n")}
    assert all(c.text[-40:] in ends for c in chunks)
    assert all(len(c.text) > 600 for c in chunks[:-1])  # packed, not one paragraph each


def test_a_long_paragraph_is_split_at_sentence_boundaries() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    chunks = chunk_document(
        document(Section(heading_path=[], text=text)), max_chars=500, overlap_chars=0
    )
    assert len(chunks) > 1
    assert all(c.text.endswith("is here.") for c in chunks)
    assert all(re.match(r"Sentence number \d+", c.text) for c in chunks)


def test_text_without_any_break_is_hard_split() -> None:
    text = "x" * 2500
    chunks = chunk_document(
        document(Section(heading_path=[], text=text)), max_chars=1000, overlap_chars=100
    )
    assert all(len(c.text) <= 1000 for c in chunks)
    assert "".join(c.text for c in chunks) == text  # no word to overlap on


def test_page_ranges_follow_the_text_across_page_breaks() -> None:
    # Every word names its page, so each chunk's range can be checked exactly.
    pages = [
        "\n\n".join(" ".join(f"p{page}w{i}" for i in range(60)) for _ in range(3))
        for page in range(3, 9)
    ]
    section = Section(heading_path=["Long"], page_start=3, page_end=8, text="\f".join(pages))
    chunks = chunk_document(document(section, pages=8), max_chars=900, overlap_chars=120)
    assert len(chunks) > 6
    for chunk in chunks:
        seen = [int(m) for m in re.findall(r"p(\d+)w", chunk.text)]
        assert (chunk.page_start, chunk.page_end) == (min(seen), max(seen))
        assert "\f" not in chunk.text
    assert chunks[0].page_start == 3
    assert chunks[-1].page_end == 8


def test_a_nearly_full_chunk_ends_at_a_page_break_instead_of_spilling_over() -> None:
    page = paragraphs(4, sentences=3)  # about 860 characters
    section = Section(heading_path=["P"], page_start=1, page_end=4, text="\f".join([page] * 4))
    chunks = chunk_document(document(section, pages=4), max_chars=1000, overlap_chars=0)
    assert [(c.page_start, c.page_end) for c in chunks] == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_a_section_starting_with_a_page_break_starts_on_the_next_page() -> None:
    section = Section(heading_path=["H"], page_start=2, page_end=3, text="\fBody on page three.")
    (chunk,) = chunk_document(document(section, pages=3))
    assert (chunk.text, chunk.page_start, chunk.page_end) == ("Body on page three.", 3, 3)


def test_without_page_breaks_pieces_get_the_section_range() -> None:
    section = Section(heading_path=["H"], page_start=2, page_end=4, text=paragraphs(20))
    chunks = chunk_document(document(section, pages=4), max_chars=600, overlap_chars=50)
    assert len(chunks) > 1
    assert {(c.page_start, c.page_end) for c in chunks} == {(2, 4)}


def test_blank_sections_give_no_chunks() -> None:
    doc = document(
        Section(heading_path=["Empty"], text="  \n\n \f "),
        Section(heading_path=["Full"], text="Something."),
    )
    assert [(c.index, c.text) for c in chunk_document(doc)] == [(0, "Something.")]
    assert chunk_document(document()) == []


def test_chunking_is_deterministic(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    make_report_pdf(path, 6)
    doc = extract(path, "application/pdf")
    assert chunk_document(doc, 800, 100) == chunk_document(doc.model_copy(deep=True), 800, 100)


@pytest.mark.parametrize("with_outline", [True, False])
def test_report_chunks_carry_their_section_and_pages(tmp_path: Path, with_outline: bool) -> None:
    path = tmp_path / "report.pdf"
    make_report_pdf(path, 10, with_outline=with_outline)
    doc = extract(path, "application/pdf")
    chunks = chunk_document(doc, max_chars=600, overlap_chars=80)
    ranges: dict[tuple[str, ...], list[Section]] = {}
    for section in doc.sections:
        ranges.setdefault(tuple(section.heading_path), []).append(section)
    assert {tuple(c.section_path) for c in chunks} == set(ranges)
    for chunk in chunks:
        sections = ranges[tuple(chunk.section_path)]
        assert any(
            s.page_start <= chunk.page_start <= chunk.page_end <= s.page_end for s in sections
        )
        assert any(chunk.text[:40] in s.text.replace("\f", "\n\n") for s in sections)
        assert 0 < len(chunk.text) <= 600
    assert any(c.page_end > c.page_start for c in chunks)  # some text runs over a page


@pytest.mark.parametrize(("max_chars", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_impossible_sizes_are_refused(max_chars: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        chunk_document(document(Section(text="x")), max_chars=max_chars, overlap_chars=overlap)
