"""Search routes: hybrid, semantic or keyword search over the caller's passages; similar documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from doclane.ai.ner._normalise import normalise
from doclane.api.deps import CurrentUser, OwnedDocument, ServicesDep
from doclane.infra.runtime import Services
from doclane.infra.search import hybrid
from doclane.schemas.enrichment import DocType, EntityLabel
from doclane.schemas.search import SearchMode, SearchQuery, SearchResponse, SimilarResponse, entity_key

__all__ = ["MAX_K", "MAX_QUERY_CHARS", "entity_filter", "router"]

router = APIRouter(tags=["search"])

#: Longest query accepted: a question or a paragraph, not a document.
MAX_QUERY_CHARS = 1000
MAX_K = 100


@router.get("/search", responses={422: {"description": "Empty or too long query, or k out of range"}})
async def search(
    user: CurrentUser,
    services: ServicesDep,
    q: Annotated[str, Query(
        min_length=1, max_length=MAX_QUERY_CHARS,
        description=f"What to look for: words or a question (1-{MAX_QUERY_CHARS} characters).",
    )],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="How many passages to return.")] = 10,
    mode: Annotated[SearchMode, Query(
        description="hybrid (keyword + semantic, fused), semantic or keyword.")] = SearchMode.HYBRID,
    content_type: Annotated[str | None, Query(
        max_length=200, description="Only documents of this content type.")] = None,
    document_id: Annotated[str | None, Query(
        max_length=200, description="Only this document.")] = None,
    type_: Annotated[DocType | None, Query(
        alias="type", description="Only documents of this type (from classification).")] = None,
    entity: Annotated[str | None, Query(
        max_length=200,
        description="Only passages mentioning this entity: its text (any label) or LABEL:text, "
                    "e.g. ORG:Acme Corp or DATE:3 March 2026 (matched on the normalised value, "
                    "ignoring case).")] = None,
) -> SearchResponse:
    """Search your documents' passages; only your own documents are ever searched."""
    _require_search(services)
    if not q.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "q: the query is blank; send the words or question to look for.")
    query = SearchQuery(owner=user.name, text=q.strip(), k=k, content_type=content_type,
                        document_id=document_id, doc_type=type_.value if type_ else None,
                        entities=entity_filter(entity) if entity is not None else ())
    return await hybrid.search(services.index, services.embedder, query, mode)


@router.get("/documents/{document_id}/similar")
async def similar(
    doc: OwnedDocument,
    services: ServicesDep,
    k: Annotated[int, Query(ge=1, le=MAX_K, description="How many documents to return.")] = 10,
) -> SimilarResponse:
    """Your other documents closest in meaning to this one."""
    _require_search(services)
    results = await services.index.similar_documents(doc.owner, doc.id, k)
    return SimilarResponse(document_id=doc.id, results=results)


def entity_filter(entity: str) -> tuple[str, ...]:
    """The index keys an ``entity=`` value stands for: ``LABEL:text`` one label, plain text any label.

    The text is normalised as the NER normalises what it finds (dates to ISO, amounts
    with their currency, emails lower-cased), so ``3 March 2026`` finds ``03/03/2026``.
    """
    label, sep, rest = entity.partition(":")
    labels = list(EntityLabel)
    text = entity
    if sep and label.strip().upper() in EntityLabel.__members__:
        labels, text = [EntityLabel[label.strip().upper()]], rest
    text = text.strip()
    if not text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "entity: give the entity's text, or LABEL:text with a label of "
                            f"{', '.join(EntityLabel.__members__)}.")
    keys = {entity_key(lab.value, value) for lab in labels if (value := normalise(lab, text))}
    return tuple(sorted(keys))


def _require_search(services: Services) -> None:
    if not services.settings.search_enabled:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "Search is turned off on this server (DOCLANE_SEARCH_ENABLED=false).")
