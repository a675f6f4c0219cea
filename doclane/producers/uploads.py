"""Accepting an upload: store the file, record the document, emit ``document.uploaded``."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from doclane.exceptions import DoclaneError
from doclane.extraction import SNIFF_BYTES, sniff_content_type
from doclane.infra.runtime import Services
from doclane.infra.settings import Settings
from doclane.producers.exceptions import NotRetryable, StorageFull, UploadTooLarge
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import DocumentStatus, DocumentUploaded, Priority, Stage, StatusChange, Topics

__all__ = [
    "MIN_FREE_BYTES", "accept_stored_file", "accept_upload", "default_priority", "retry_document",
    "too_large",
]

logger = logging.getLogger(__name__)

#: Room kept free in the data directory beyond an upload: the store's journal and the
#: status history of work in flight need it, so a full disk refuses uploads first.
MIN_FREE_BYTES = 1 << 20
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def too_large(filename: str, settings: Settings) -> UploadTooLarge:
    """The refusal of a file over the per-file limit (while it streams in, or here)."""
    return UploadTooLarge(
        f"'{filename}' is larger than the {settings.max_upload_mb:g} MB "
        "limit per file; split it or compress it and upload again."
    )


def _storage_full() -> StorageFull:
    return StorageFull("The server has no room left to store this file; nothing of it was kept. "
                       "Try again later, and tell the operator if it persists.")


def _check_free_space(services: Services) -> None:
    root = services.settings.data_dir
    try:
        free = shutil.disk_usage(root).free
    except OSError:
        return  # not created yet: the write will say
    if free < services.settings.max_upload_bytes + MIN_FREE_BYTES:
        raise _storage_full()


async def accept_upload(
    services: Services,
    *,
    owner: str,
    filename: str,
    content: AsyncIterator[bytes],
    priority: Priority | None = None,
) -> DocumentRecord:
    """Store one uploaded file and start its processing.

    Without an explicit ``priority`` the document gets :func:`default_priority`.

    Raises a :class:`~doclane.exceptions.DoclaneError` whose ``reason`` says why
    the file was refused; nothing is left behind for a refused file.
    """
    document_id = uuid.uuid4().hex
    key = services.blobs.key_for(document_id, filename)
    path = services.blobs.path(key)
    limit = services.settings.max_upload_bytes
    digest = hashlib.sha256()
    size = 0
    head = b""
    _check_free_space(services)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            async for piece in content:
                size += len(piece)
                if size > limit:
                    raise too_large(filename, services.settings)
                if len(head) < SNIFF_BYTES:
                    head += piece[: SNIFF_BYTES - len(head)]
                digest.update(piece)
                out.write(piece)
        # With the stored file the sniffer can read a ZIP's directory (DOCX vs PPTX,
        # zip bombs, macros) and refuse a bad Office file before it is queued.
        content_type = sniff_content_type(head, filename, path=path)
    except OSError as exc:
        services.blobs.delete_document(document_id)
        if exc.errno in _DISK_FULL:
            raise _storage_full() from exc
        raise
    except BaseException:
        services.blobs.delete_document(document_id)
        raise
    return await _register(services, DocumentRecord(
        id=document_id, owner=owner, filename=filename, content_type=content_type, size_bytes=size,
        sha256=digest.hexdigest(), priority=priority or default_priority(content_type, size),
        priority_explicit=priority is not None, blob_key=key,
    ), undo=lambda: services.blobs.delete_document(document_id))


def _hash_and_head(path: Path) -> tuple[int, str, bytes]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
        f.seek(0)
        while piece := f.read(1 << 20):
            size += len(piece)
            digest.update(piece)
    return size, digest.hexdigest(), head


async def accept_stored_file(
    services: Services,
    *,
    owner: str,
    filename: str,
    source: Path,
    priority: Priority | None = None,
) -> DocumentRecord:
    """Make a file already written under the data directory a document, as :func:`accept_upload` does.

    For a finished resumable upload: its type is sniffed by content and it is moved
    (not copied) to ``uploads/{document_id}/``. A refused file (a
    :class:`~doclane.exceptions.DoclaneError`) is deleted; on any other error it is
    left at ``source`` so the caller can try again.
    """
    size, sha256, head = await asyncio.to_thread(_hash_and_head, source)
    try:
        content_type = await asyncio.to_thread(sniff_content_type, head, filename, path=source)
    except DoclaneError:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(source)
        raise
    document_id = uuid.uuid4().hex
    key = services.blobs.key_for(document_id, filename)
    path = services.blobs.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, path)  # the same file system: the data directory
    record = DocumentRecord(
        id=document_id, owner=owner, filename=filename, content_type=content_type, size_bytes=size,
        sha256=sha256, priority=priority or default_priority(content_type, size), blob_key=key,
        priority_explicit=priority is not None,
    )

    def put_back() -> None:
        with contextlib.suppress(OSError):
            os.replace(path, source)
        services.blobs.delete_document(document_id)

    return await _register(services, record, undo=put_back)


async def _register(services: Services, record: DocumentRecord, *,
                    undo: Callable[[], None]) -> DocumentRecord:
    """Record a stored file's document, announce it ``pending`` and emit ``document.uploaded``.

    ``undo`` runs when the record could not be created: no file stays without its record.
    """
    document_id, filename = record.id, record.filename
    try:
        await services.store.create_document(record)
    except BaseException:
        undo()
        raise
    pending = await services.status.emit(
        document_id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD)
    )
    await _publish_uploaded(services, record)
    logger.info("accepted %s as %s (%d bytes, %s)", filename, document_id, record.size_bytes,
                record.content_type)
    if pending is not None:
        record = record.model_copy(update={"seq": pending.seq, "updated_at": pending.timestamp})
    return record


#: Bytes of text a document may have to be analysed first by default (~8 chunks)...
_SMALL_TEXT_BYTES = 32 * 1024
#: ...and beyond which it yields to everything else (~130 chunks).
_LARGE_TEXT_BYTES = 512 * 1024
#: Bytes per byte of text, by format: PDFs and slides carry fonts and images (~8x),
#: DOCX is zipped XML with styles and often pictures, HTML and JSON carry markup.
_BYTES_PER_TEXT_BYTE = {
    "application/pdf": 8,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 8,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 4,
    "text/html": 3,
    "application/json": 2,
}


def default_priority(content_type: str, size_bytes: int) -> Priority:
    """The lane a document goes to when its uploader doesn't say: by how much text it likely holds.

    Chunks of a small document go to the ``high`` lane and those of a huge one
    to ``low``, so one 500-page upload can't hold up a queue of one-page notes;
    the analyzers still serve ``low`` one delivery in ten, so big ones progress.
    """
    factor = _BYTES_PER_TEXT_BYTE.get(content_type, 1)
    if size_bytes <= _SMALL_TEXT_BYTES * factor:
        return Priority.HIGH
    if size_bytes <= _LARGE_TEXT_BYTES * factor:
        return Priority.NORMAL
    return Priority.LOW


async def retry_document(services: Services, doc: DocumentRecord) -> DocumentRecord:
    """Start a failed document again from where it stopped.

    Chunks analysed before the failure keep their analyses; only the others are
    sent to the analyzers again. Raises :class:`NotRetryable` for a document
    that has not failed.
    """
    if doc.status is not DocumentStatus.FAILED:
        raise NotRetryable(
            f"Only failed documents can be retried; this one is {doc.status.value}."
        )
    done = sum(c.analysis is not None for c in await services.store.list_chunks(doc.id))
    kept = f"; {done} of {doc.chunk_count} chunk analyses are kept" if doc.chunk_count else ""
    event = await services.status.emit(
        doc.id,
        StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD,
                     detail=f"Retry requested{kept}."),
        reopen=True,
    )
    if event is None:  # deleted meanwhile
        raise NotRetryable("The document no longer exists.")
    await _publish_uploaded(services, doc)
    logger.info("retrying %s (%d chunk analyses kept)", doc.id, done)
    return doc.model_copy(update={
        "status": event.status, "seq": event.seq, "updated_at": event.timestamp,
        "error": None, "error_category": None,
    })


async def _publish_uploaded(services: Services, doc: DocumentRecord) -> None:
    await services.bus.publish(
        Topics.DOCUMENT_UPLOADED,
        doc.id,
        DocumentUploaded(
            document_id=doc.id,
            owner=doc.owner,
            filename=doc.filename,
            content_type=doc.content_type,
            blob_key=doc.blob_key,
            size_bytes=doc.size_bytes,
            sha256=doc.sha256,
            priority=doc.priority,
            priority_explicit=doc.priority_explicit,
        ),
    )
