"""The extractor, redelivered after dying part-way through storing a document's chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from doclane.consumers.extract import handle_uploaded
from doclane.extraction import chunk_document, extract
from doclane.infra.runtime import Services, build_services, running
from doclane.infra.settings import Settings
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import DocumentStatus, DocumentUploaded, Stage, StatusChange
from tests.utils.documents import make_text, marked_paragraphs

MAX_CHARS = 400


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(data_dir=tmp_path, ai_provider="local", chunk_max_chars=MAX_CHARS,
                        chunk_overlap_chars=0)
    async with running(build_services(settings), []) as svc:
        yield svc


async def test_chunks_stored_by_a_run_that_died_midway_are_completed_not_taken_as_all(
    services: Services, tmp_path: Path
) -> None:
    key = services.blobs.key_for("doc1", "notes.txt")
    path = services.blobs.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_text(path, marked_paragraphs("REDELIVERED", 4))
    chunks = chunk_document(extract(path, "text/plain"), MAX_CHARS, 0)
    assert len(chunks) == 4
    doc = DocumentRecord(id="doc1", owner="alice", filename="notes.txt", content_type="text/plain",
                         size_bytes=path.stat().st_size, sha256="1" * 64, blob_key=key)
    await services.store.create_document(doc)
    await services.status.emit(doc.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD))
    # The first run recorded the count, then died after storing two of the four chunks
    # (MongoDB's insert_many is not one transaction).
    await services.store.update_document(doc.id, chunk_count=len(chunks))
    await services.store.put_chunks(doc.id, chunks[:2])

    await handle_uploaded(DocumentUploaded(
        document_id=doc.id, owner=doc.owner, filename=doc.filename, content_type=doc.content_type,
        blob_key=key, size_bytes=doc.size_bytes, sha256=doc.sha256), services)

    stored = await services.store.list_chunks(doc.id)
    assert sorted(c.index for c in stored) == [0, 1, 2, 3]
    assert [c.text for c in sorted(stored, key=lambda c: c.index)] == [c.text for c in chunks]
