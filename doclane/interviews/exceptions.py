"""Errors of the interview application, each with a reason a person can act on."""

from __future__ import annotations

from doclane.exceptions import DoclaneError

__all__ = ["DocumentFailed", "DocumentNotReady", "InterviewError"]


class InterviewError(DoclaneError):
    category = "interview"


class DocumentNotReady(InterviewError):
    """A job description or resume is still being processed: try again when it completes (409)."""

    category = "conflict"


class DocumentFailed(InterviewError):
    """A job description or resume failed in the pipeline: it has nothing to assess (422)."""

    category = "document_failed"
