"""Hybrid fusion: keyword hits count by how much of the query they hold."""

from __future__ import annotations

from doclane.infra.search.hybrid import fuse
from doclane.schemas.search import SearchHit


def _hit(pid: str, text: str) -> SearchHit:
    return SearchHit(document_id=pid, filename=f"{pid}.txt", content_type="text/plain", text=text,
                     highlight=text, score=1.0, passage_id=pid)


def test_a_stray_shared_word_does_not_outrank_the_semantic_answer():
    words = ["employees", "get", "wages"]
    answer = _hit("payroll", "Salaries are paid on the last working day of each month.")
    noise = _hit("garage", "Employees can park in the north garage.")
    # The keyword side ranks the noise first (it shares "employees"); the semantic side
    # ranks the answer first and the noise 20th. Plain RRF put the noise on top.
    others = [_hit(f"x{i}", "unrelated") for i in range(18)]
    fused = fuse([noise], [answer, *others, noise], 2, words)
    assert fused[0].passage_id == "payroll"


def test_a_passage_holding_every_query_word_keeps_its_keyword_boost():
    words = ["croissant", "butter", "folds"]
    exact = _hit("bakery", "Croissant dough folds cold butter three times.")
    near = _hit("bread", "Bread dough rests overnight.")
    # Semantic prefers the near miss; keyword has the exact passage first.
    fused = fuse([exact], [near, exact], 2, words)
    assert fused[0].passage_id == "bakery"
    assert 1.0 >= fused[0].score > fused[1].score > 0
