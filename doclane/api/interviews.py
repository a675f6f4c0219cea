"""Interview routes: the assessment of a resume against a job description."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from doclane.api.deps import CurrentUser, ServicesDep
from doclane.api.security import User
from doclane.infra.store.base import Store
from doclane.interviews import assess
from doclane.interviews.exceptions import DocumentFailed, DocumentNotReady
from doclane.interviews.skills import known_skills
from doclane.schemas.documents import ChunkRecord, DocumentRecord
from doclane.schemas.events import DocumentStatus
from doclane.schemas.interviews import Assessment, AssessmentRequest

__all__ = ["router"]

router = APIRouter(prefix="/interviews", tags=["interviews"])


async def _finished(store: Store, user: User, document_id: str, role: str
                    ) -> tuple[DocumentRecord, list[ChunkRecord]]:
    doc = await store.get_document(document_id)
    if doc is None or doc.owner != user.name:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No document with id '{document_id}' ({role}).")
    if doc.status is DocumentStatus.FAILED:
        raise DocumentFailed(f"The {role} '{doc.filename}' failed ({doc.error or 'no reason given'}); "
                             "upload it again or pick another document.")
    if doc.status is not DocumentStatus.COMPLETED:
        raise DocumentNotReady(f"The {role} '{doc.filename}' is still being processed ({doc.status}); "
                               "try again when it has completed.")
    return doc, await store.list_chunks(doc.id)


@router.post(
    "/assessments",
    responses={404: {"description": "Either document does not exist (or is not yours)"},
               409: {"description": "Either document is still being processed"},
               422: {"description": "Either document failed in the pipeline"}},
)
async def create_assessment(body: AssessmentRequest, user: CurrentUser, services: ServicesDep) -> Assessment:
    """Matched and missing skills with evidence from the resume, a fit score with its
    breakdown, and focus areas for the interview."""
    store = services.store
    job, job_chunks = await _finished(store, user, body.job_description_id, "job description")
    resume, resume_chunks = await _finished(store, user, body.resume_id, "resume")
    return assess(job, job_chunks, resume, resume_chunks, known_skills(services.settings.models_dir))
