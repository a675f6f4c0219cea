"""Highlights of hits found by meaning: the query's words marked, the passage's lines kept."""

from __future__ import annotations

from doclane.infra.search._common import mark_words
from doclane.infra.search.hybrid import fuse
from doclane.schemas.search import SearchHit

TABLE = "Opening hours and costs.\n\nDrink | Price\nEspresso | €2.10\nLatte  |  €2.90"


def test_a_highlight_keeps_the_rows_and_paragraphs_of_its_passage():
    # A table's rows and a list's items are lines; run together they read as one jumbled row.
    assert mark_words(TABLE, ["espresso", "price"]) == (
        "Opening hours and costs.\n\nDrink | <mark>Price</mark>\n<mark>Espresso</mark> | €2.10\n"
        "Latte | €2.90"
    )


def test_a_long_passage_is_cut_around_the_first_hit_with_its_lines():
    lines = [f"Row {i} | value {i}" for i in range(40)] + ["Espresso | €2.10"] + ["Tail | x"] * 10
    marked = mark_words("\n".join(lines), ["espresso"], window_words=16)
    assert marked.startswith("… ") and marked.endswith(" …")
    assert "\n<mark>Espresso</mark> | €2.10\n" in marked
    assert len(marked.replace("\n", " ").split()) <= 16 + 2  # the window and the two ellipses


def test_hybrid_results_highlight_with_the_passage_lines():
    hit = SearchHit(document_id="d", filename="menu.html", content_type="text/html", text=TABLE,
                    highlight=TABLE, score=1.0, passage_id="d:0:0")
    (fused,) = fuse([], [hit], 1, ["espresso"])
    assert "\n<mark>Espresso</mark> | €2.10\n" in fused.highlight


def test_marking_escapes_html_in_the_passage():
    assert mark_words("Use <b>bold</b> & espresso", ["espresso"]) == (
        "Use &lt;b&gt;bold&lt;/b&gt; &amp; <mark>espresso</mark>"
    )
