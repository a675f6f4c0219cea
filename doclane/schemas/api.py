"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from doclane.schemas.documents import DocumentPublic
from doclane.schemas.events import DocumentStatus, Progress, Stage, Timestamp

__all__ = [
    "DocumentList",
    "DocumentStatusPublic",
    "LoginRequest",
    "Token",
    "UploadFileResult",
    "UploadResponse",
]


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=256)
    #: Up to 1024 characters, any of them (hashed with a pre-digest, see api/security.py).
    password: str = Field(min_length=1, max_length=1024)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    role: str


class UploadFileResult(BaseModel):
    filename: str
    accepted: bool
    document: DocumentPublic | None = None
    #: For a refused file: the HTTP status it would get alone, and why.
    status_code: int | None = None
    detail: str | None = None
    category: str | None = None


class UploadResponse(BaseModel):
    accepted: int
    rejected: int
    results: list[UploadFileResult]


class DocumentList(BaseModel):
    items: list[DocumentPublic]
    count: int
    limit: int
    offset: int


class DocumentStatusPublic(BaseModel):
    document_id: str
    status: DocumentStatus
    stage: Stage | None = None
    progress: Progress | None = None
    seq: int
    updated_at: Timestamp
    detail: str | None = None
    #: The failure reason, or the error the current attempt is retrying after.
    error: str | None = None
    error_category: str | None = None
    #: The attempt in progress, when the step is being retried.
    attempt: int | None = None
