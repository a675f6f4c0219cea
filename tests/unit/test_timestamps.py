"""Timestamps in JSON (API answers, events on the bus) keep their fraction on a whole second, so
two of them sort as text the way they sort in time (``...:47Z`` sorted after ``...:47.001Z``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import DocumentStatus


def _doc(when: datetime) -> DocumentRecord:
    return DocumentRecord(id="d", filename="a.txt", content_type="text/plain", size_bytes=1, sha256="x",
                          owner="u", blob_key="uploads/d/a.txt", status=DocumentStatus.PENDING,
                          created_at=when)


def test_a_whole_second_is_written_with_its_fraction_and_sorts_before_a_later_instant() -> None:
    whole = datetime(2026, 11, 28, 12, 0, 47, tzinfo=UTC)
    written = _doc(whole).model_dump_json()
    later = json.loads(_doc(whole.replace(microsecond=1000)).model_dump_json())["created_at"]
    assert json.loads(written)["created_at"] == "2026-11-28T12:00:47.000000Z"
    assert json.loads(written)["created_at"] < later
    assert DocumentRecord.model_validate_json(written).created_at == whole
