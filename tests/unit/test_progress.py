"""How often the aggregator reports progress."""

from __future__ import annotations

from itertools import pairwise

from doclane.consumers.aggregate import _worth_reporting


def test_small_documents_report_every_chunk():
    assert [d for d in range(1, 20) if _worth_reporting(d, 20)] == list(range(1, 20))


def test_large_documents_report_about_every_five_percent():
    reported = [d for d in range(1, 1000) if _worth_reporting(d, 1000)]
    assert reported[0] == 1
    assert len(reported) <= 21
    assert all(b - a <= 50 for a, b in pairwise(reported))
