"""Accepting an upload: store the file, record the document, emit ``document.uploaded``."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterator

from doclane.extraction import sniff_content_type
from doclane.infra.runtime import Services
from doclane.producers.exceptions import UploadTooLarge
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import DocumentStatus, DocumentUploaded, Priority, Stage, StatusChange, Topics

__all__ = ["accept_upload"]

logger = logging.getLogger(__name__)
_SNIFF_BYTES = 8192


async def accept_upload(
    services: Services,
    *,
    owner: str,
    filename: str,
    content: AsyncIterator[bytes],
    priority: Priority = Priority.NORMAL,
) -> DocumentRecord:
    """Store one uploaded file and start its processing.

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
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("wb") as out:
            async for piece in content:
                size += len(piece)
                if size > limit:
                    raise UploadTooLarge(
                        f"'{filename}' is larger than the {services.settings.max_upload_mb:g} MB "
                        "limit per file; split it or compress it and upload again."
                    )
                if len(head) < _SNIFF_BYTES:
                    head += piece[: _SNIFF_BYTES - len(head)]
                digest.update(piece)
                out.write(piece)
        content_type = sniff_content_type(head, filename)
    except BaseException:
        services.blobs.delete_document(document_id)
        raise

    record = DocumentRecord(
        id=document_id,
        owner=owner,
        filename=filename,
        content_type=content_type,
        size_bytes=size,
        sha256=digest.hexdigest(),
        priority=priority,
        blob_key=key,
    )
    await services.store.create_document(record)
    pending = await services.status.emit(
        document_id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD)
    )
    await services.bus.publish(
        Topics.DOCUMENT_UPLOADED,
        document_id,
        DocumentUploaded(
            document_id=document_id,
            owner=owner,
            filename=filename,
            content_type=content_type,
            blob_key=key,
            size_bytes=size,
            sha256=record.sha256,
            priority=priority,
        ),
    )
    logger.info("accepted %s as %s (%d bytes, %s)", filename, document_id, size, content_type)
    if pending is not None:
        record = record.model_copy(update={"seq": pending.seq, "updated_at": pending.timestamp})
    return record
