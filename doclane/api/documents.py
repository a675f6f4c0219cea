"""Document routes: upload, list, read, status, chunks, delete."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse

from doclane.api.deps import CurrentUser, GatewayDep, OwnedDocument, ServicesDep, StoreDep
from doclane.api.errors import http_status_for
from doclane.api.gateway import Gateway
from doclane.api.limits import MAX_OFFSET
from doclane.api.multipart import FormLimits, UploadForm, read_upload_form
from doclane.api.security import User
from doclane.exceptions import DoclaneError
from doclane.infra.metrics import UPLOADS
from doclane.producers.uploads import accept_upload, retry_document, too_large
from doclane.schemas.api import DocumentList, DocumentStatusPublic, UploadFileResult, UploadResponse
from doclane.schemas.documents import ChunkPublic, DocumentDetail, DocumentPublic
from doclane.schemas.enrichment import DocType, DocumentEntities, EntityLabel, rollup
from doclane.schemas.events import DocumentStatus, Priority

__all__ = ["router"]

router = APIRouter(prefix="/documents", tags=["documents"])
_UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"},
                      "description": "One or more files: PDF, DOCX, PPTX, HTML, Markdown, JSON or "
                                     "plain text, each within DOCLANE_MAX_UPLOAD_MB."},
            "priority": {"type": "string", "enum": [p.value for p in Priority],
                         "description": "high, normal or low; by default small documents go first."},
        },
    }}},
}


@router.post(
    "/upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadResponse,
    responses={400: {"description": "No file was accepted"},
               413: {"description": "Too many files, or a request or file over its limit"},
               415: {"description": "No file of a supported type"},
               422: {"description": "Not a multipart form, no file sent, or an invalid priority"},
               429: {"description": "Over the per-user upload rate"}},
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload(request: Request, gateway: GatewayDep, user: CurrentUser) -> UploadResponse | JSONResponse:
    """Upload one or many files; each is accepted or refused on its own."""
    settings = gateway.services.settings
    # Parsed here, as it streams in, so that no file is spooled past its limit.
    form = await read_upload_form(request, FormLimits(
        max_file_bytes=settings.max_upload_bytes,
        max_files=min(settings.max_files_per_upload, settings.upload_burst_files)))
    try:
        return await _accept_all(gateway, user, form)
    finally:
        form.close()


async def _accept_all(gateway: Gateway, user: User, form: UploadForm) -> UploadResponse | JSONResponse:
    files = form.files
    unknown = sorted(set(form.fields) - {"priority", "files"})
    if "files" in form.fields or not files:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "files: send at least one file, as a multipart file field named "
                            "'files' (curl -F files=@report.pdf).")
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"Unknown form field '{unknown[0][:40]}'; the upload form has 'files' "
                            "and 'priority'.")
    try:
        priority = Priority(form.fields["priority"]) if form.fields.get("priority") else None
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "priority: must be high, normal or low.") from None
    services = gateway.services
    settings = services.settings
    limit = min(settings.max_files_per_upload, settings.upload_burst_files)
    if len(files) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(files)} files in one request; send at most {limit} per request.",
        )
    wait_s = gateway.upload_limiter.try_take(user.name, len(files))
    if wait_s > 0:
        retry_after = math.ceil(wait_s)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Upload limit reached: {settings.upload_rate_per_min:g} files a minute per user "
            f"(bursts of {settings.upload_burst_files}). Try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
    results: list[UploadFileResult] = []
    for file in files:
        name = file.filename or "upload"
        try:
            if file.too_large:
                raise too_large(name, settings)
            record = await accept_upload(
                services, owner=user.name, filename=name, content=file.chunks(), priority=priority
            )
        except DoclaneError as exc:
            UPLOADS.labels(exc.category).inc()
            results.append(UploadFileResult(
                filename=name, accepted=False, status_code=http_status_for(exc),
                detail=exc.reason, category=exc.category,
            ))
        else:
            UPLOADS.labels("accepted").inc()
            results.append(UploadFileResult(
                filename=name, accepted=True,
                document=DocumentPublic.model_validate(record.model_dump()),
            ))
    accepted = sum(r.accepted for r in results)
    response = UploadResponse(accepted=accepted, rejected=len(results) - accepted, results=results)
    if accepted:
        return response
    codes = {r.status_code or status.HTTP_400_BAD_REQUEST for r in results}
    code = codes.pop() if len(codes) == 1 else status.HTTP_400_BAD_REQUEST
    detail = "No file was accepted. " + " ".join(f"{r.filename}: {r.detail}" for r in results)
    return JSONResponse({"detail": detail, **response.model_dump(mode="json")}, status_code=code)


@router.get("")
async def list_documents(
    user: CurrentUser,
    store: StoreDep,
    status_: Annotated[DocumentStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="1-1000.")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"0-{MAX_OFFSET}.")] = 0,
    type_: Annotated[DocType | None, Query(
        alias="type", description="Only documents of this type (from classification).")] = None,
) -> DocumentList:
    """Your documents, newest first, optionally only those with one status or type."""
    docs = await store.list_documents(user.name, status_, limit=limit, offset=offset,
                                      doc_type=type_.value if type_ else None)
    items = [DocumentPublic.model_validate(d.model_dump()) for d in docs]
    return DocumentList(items=items, count=len(items), limit=limit, offset=offset)


@router.get("/{document_id}")
async def get_document(doc: OwnedDocument, store: StoreDep) -> DocumentDetail:
    """A document's metadata, full status history and analysis."""
    history = await store.status_history(doc.id)
    return DocumentDetail.model_validate({**doc.model_dump(), "history": history})


@router.get("/{document_id}/status")
async def get_status(doc: OwnedDocument, store: StoreDep) -> DocumentStatusPublic:
    """Where a document is now."""
    history = await store.status_history(doc.id)
    last = history[-1] if history else None
    return DocumentStatusPublic(
        document_id=doc.id,
        status=doc.status,
        stage=last.stage if last else None,
        progress=next((e.progress for e in reversed(history) if e.progress), None),
        seq=doc.seq,
        updated_at=doc.updated_at,
        detail=last.detail if last else None,
        error=doc.error if doc.status is DocumentStatus.FAILED else (last.error if last else None),
        error_category=doc.error_category or (last.error_category if last else None),
        attempt=last.attempt if last else None,
    )


@router.post("/{document_id}/retry", status_code=status.HTTP_202_ACCEPTED,
             responses={409: {"description": "The document has not failed"}})
async def retry(doc: OwnedDocument, services: ServicesDep) -> DocumentPublic:
    """Process a failed document again; chunks analysed before the failure are kept."""
    record = await retry_document(services, doc)
    return DocumentPublic.model_validate(record.model_dump())


@router.get("/{document_id}/chunks")
async def list_chunks(doc: OwnedDocument, store: StoreDep) -> list[ChunkPublic]:
    """A document's chunks with where they came from and their analyses."""
    return [ChunkPublic.model_validate(c.model_dump()) for c in await store.list_chunks(doc.id)]


@router.get("/{document_id}/entities")
async def list_entities(
    doc: OwnedDocument,
    store: StoreDep,
    label: Annotated[EntityLabel | None, Query(description="Only entities with this label.")] = None,
) -> DocumentEntities:
    """A document's named entities with their page and section, and unique ones with counts."""
    mentions = [e for c in await store.list_chunks(doc.id) for e in c.entities or ()
                if label is None or e.label is label]
    return DocumentEntities(document_id=doc.id, entities=mentions, rollup=rollup(mentions))


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(doc: OwnedDocument, services: ServicesDep) -> Response:
    """Delete a document, its history, its chunks, its passages in the search index and its file."""
    await services.store.delete_document(doc.id)
    # After the record: an indexer that is embedding a chunk right now finds no document
    # when it finishes and removes what it wrote itself.
    await services.index.delete_document(doc.id)
    services.blobs.delete_document(doc.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
