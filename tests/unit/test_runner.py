"""The runner's fates on a real embedded bus and store: retry (announced), dead-letter, give up."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from doclane.ai.exceptions import ProviderRateLimited, ProviderRefused, ProviderUnavailable
from doclane.consumers.runner import StageSpec, run_with_fate
from doclane.exceptions import DoclaneError
from doclane.infra.runtime import Services, build_services, running
from doclane.infra.settings import Settings
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import (
    DeadLetter,
    DocumentStatus,
    DocumentUploaded,
    Stage,
    StatusChange,
    Topics,
)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(data_dir=tmp_path, ai_provider="local", stage_retry_base_s=0.01)
    async with running(build_services(settings), []) as svc:
        yield svc


async def _document(services: Services) -> DocumentUploaded:
    doc = DocumentRecord(id="doc1", owner="alice", filename="a.txt", content_type="text/plain",
                         size_bytes=1, sha256="0" * 64, blob_key="doc1/a.txt")
    await services.store.create_document(doc)
    await services.status.emit(doc.id, StatusChange(status=DocumentStatus.PENDING, stage=Stage.UPLOAD))
    return DocumentUploaded(document_id=doc.id, owner=doc.owner, filename=doc.filename,
                            content_type=doc.content_type, blob_key=doc.blob_key, size_bytes=1,
                            sha256=doc.sha256)


class _Script:
    """A handler that raises the scripted errors in turn, then succeeds; records call times."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls: list[float] = []

    async def __call__(self, event: DocumentUploaded, services: Services) -> None:
        self.calls.append(time.monotonic())
        if self.errors:
            raise self.errors.pop(0)


async def _give_up(event: DocumentUploaded, services: Services, error: DoclaneError) -> None:
    await services.status.emit(event.document_id,
                               StatusChange.failed(Stage.EXTRACT, error.reason, error.category))


def _spec(handler: _Script, attempts: int) -> StageSpec:
    return StageSpec(Stage.ANALYZE, handler, _give_up, topic_of=lambda e: "test.topic",
                     max_attempts=lambda s: attempts, working_status=DocumentStatus.ANALYZING,
                     describe=lambda e: "chunk 1 of 1")


async def _dead_letters(services: Services) -> list[DeadLetter]:
    return [letter async for letter in services.bus.replay(Topics.DOCUMENT_DLQ, DeadLetter)]


async def test_transient_errors_are_retried_and_each_retry_is_announced(services: Services) -> None:
    event = await _document(services)
    handler = _Script(ProviderUnavailable("HTTP 502"), ProviderUnavailable("HTTP 503"))
    await run_with_fate(_spec(handler, 3), services)(event)

    assert len(handler.calls) == 3
    history = await services.store.status_history("doc1")
    notices = [e for e in history if e.attempt is not None]
    assert [n.attempt for n in notices] == [2, 3]
    assert notices[0].error == "Chunk 1 of 1: The AI provider failed: HTTP 502."
    assert notices[1].error_category == "ai_unavailable" and notices[1].stage is Stage.ANALYZE
    assert "attempt 3 of 3" in (notices[1].detail or "")
    assert await _dead_letters(services) == []


async def test_exhausted_retries_dead_letter_the_event_and_fail_the_document(services: Services) -> None:
    event = await _document(services)
    handler = _Script(*(ProviderUnavailable("HTTP 500") for _ in range(5)))
    await run_with_fate(_spec(handler, 2), services)(event)

    assert len(handler.calls) == 2
    [letter] = await _dead_letters(services)
    assert (letter.attempts, letter.document_id, letter.topic) == (2, "doc1", "test.topic")
    assert "HTTP 500" in letter.error
    assert DocumentUploaded.model_validate_json(letter.payload) == event
    doc = await services.store.get_document("doc1")
    assert doc is not None and doc.status is DocumentStatus.FAILED
    # The runner says which part failed; give_up only reports it.
    assert doc.error == "Chunk 1 of 1: The AI provider failed: HTTP 500."
    assert doc.error_category == "ai_unavailable"


async def test_a_permanent_error_is_not_retried(services: Services) -> None:
    event = await _document(services)
    handler = _Script(ProviderRefused("HTTP 401"))
    await run_with_fate(_spec(handler, 3), services)(event)

    assert len(handler.calls) == 1
    [letter] = await _dead_letters(services)
    assert letter.attempts == 1
    history = await services.store.status_history("doc1")
    assert [e.attempt for e in history if e.attempt] == []
    assert history[-1].status is DocumentStatus.FAILED and history[-1].error_category == "ai_refused"


async def test_retry_after_is_waited_for_even_when_backoff_is_shorter(services: Services) -> None:
    event = await _document(services)
    handler = _Script(ProviderRateLimited(retry_after_s=0.5))
    await run_with_fate(_spec(handler, 2), services)(event)

    assert len(handler.calls) == 2
    assert handler.calls[1] - handler.calls[0] >= 0.5
    notice = next(e for e in await services.store.status_history("doc1") if e.attempt)
    assert "Retrying in 0.5 s" in (notice.detail or "") and "429" in (notice.error or "")


async def test_an_unexpected_error_fails_with_a_reason_not_a_traceback(services: Services) -> None:
    event = await _document(services)
    handler = _Script(KeyError("x"), KeyError("x"))
    await run_with_fate(_spec(handler, 2), services)(event)

    history = await services.store.status_history("doc1")
    notice = next(e for e in history if e.attempt)
    assert notice.error == "Chunk 1 of 1: An internal error (KeyError) interrupted the step."
    final = history[-1]
    assert final.status is DocumentStatus.FAILED and final.error_category == "internal"
    assert "after 2 attempts" in (final.error or "") and "KeyError" not in (final.error or "")
