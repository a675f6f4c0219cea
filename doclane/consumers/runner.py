"""The group runner: gives every event an explicit fate.

A stage handler either returns (ack), raises a non-retryable
:class:`~doclane.exceptions.DoclaneError` (the document fails with that
reason), or raises something retryable (tried again after exponential backoff
with jitter, or after the ``Retry-After`` a provider asked for, whichever is
longer). Each retry is announced on the document's status stream with the
attempt number and the error; after the last attempt the event goes to
``document.dlq`` and the stage's ``give_up`` tells the document's owner.
Nothing escapes to the transport, so a poisoned event never blocks its group.

An event of a priority lane that an admin moved the document away from (see
``POST /admin/documents/{id}/priority``) is skipped when it was published
before the move: the move republished the chunks that were still to do on
the new lane, so handling the old copy too would only do the work twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from doclane.exceptions import DoclaneError
from doclane.infra.bus.base import Handler
from doclane.infra.disk import is_disk_full
from doclane.infra.metrics import STAGE_EVENTS, STAGE_SECONDS
from doclane.infra.runtime import Services
from doclane.infra.settings import Settings
from doclane.schemas.events import DeadLetter, DocumentStatus, Event, Stage, StatusChange, Topics

__all__ = ["GiveUp", "StageHandler", "StageSpec", "run_with_fate"]

logger = logging.getLogger(__name__)

#: The longest pause between two tries of a stage that met a full data directory.
DISK_FULL_MAX_WAIT_S = 5.0

E = TypeVar("E", bound=Event)
StageHandler = Callable[[E, Services], Awaitable[None]]
#: Called once when an event is given up on, with a reason a person understands
#: (already saying which part of the document, when the stage has a ``describe``).
GiveUp = Callable[[E, Services, DoclaneError], Awaitable[None]]


@dataclass(frozen=True)
class StageSpec:
    """One stage as the runner sees it."""

    stage: Stage
    handler: StageHandler[Any]
    give_up: GiveUp[Any]
    #: The topic an event came from (recorded on dead letters).
    topic_of: Callable[[Any], str]
    max_attempts: Callable[[Settings], int]
    #: The document's status while the stage works on it (repeated on retry notices).
    working_status: DocumentStatus
    #: What part of the document an event is about, for people: ``"chunk 3 of 20"``.
    describe: Callable[[Any], str | None] = lambda event: None


def _document_id(event: Event) -> str | None:
    return getattr(event, "document_id", None)


async def _superseded(event: Event, services: Services) -> bool:
    """True for an event of a lane its document was moved away from after it was published."""
    priority, document_id = getattr(event, "priority", None), _document_id(event)
    if priority is None or document_id is None:
        return False
    move = await services.store.lane_move(document_id)
    return move is not None and move[0] != priority and event.produced_at < move[1]


def run_with_fate(spec: StageSpec, services: Services) -> Handler[Any]:
    """Wrap ``spec.handler`` so that each event is acked, retried or dead-lettered."""
    settings = services.settings
    stage = spec.stage

    async def handle(event: Event) -> None:
        if await _superseded(event, services):
            STAGE_EVENTS.labels(stage.value, "superseded").inc()
            return
        with STAGE_SECONDS.labels(stage.value).time():
            await _attempt_all(event)

    async def _attempt_all(event: Event) -> None:
        attempts = spec.max_attempts(settings)
        attempt, space_waits = 1, 0
        while True:
            try:
                await spec.handler(event, services)
                STAGE_EVENTS.labels(stage.value, "ok").inc()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_disk_full(exc):
                    # Not this event's fault, and cured by waiting: no attempt is spent,
                    # nothing is dead-lettered, the event stays unacknowledged meanwhile.
                    space_waits += 1
                    await _wait_for_space(event, exc, space_waits)
                    continue
                error: Exception = exc
            if isinstance(error, DoclaneError) and (not error.retryable or attempt == attempts):
                await _dead_letter(event, error, attempt)
                await spec.give_up(event, services, _in_context(event, error.reason, error.category))
                return
            if isinstance(error, DoclaneError):
                reason = error.reason
            elif attempt == attempts:
                logger.exception("%s gave up on %s", stage, _document_id(event), exc_info=error)
                await _dead_letter(event, error, attempt)
                await spec.give_up(event, services, _in_context(
                    event,
                    f"An internal error stopped the {stage.value} step after {attempts} "
                    "attempts; retry the document later or contact the operator.",
                    "internal",
                ))
                return
            else:
                reason = f"An internal error ({type(error).__name__}) interrupted the step."
            STAGE_EVENTS.labels(stage.value, "retried").inc()
            backoff = settings.stage_retry_base_s * 2 ** (attempt - 1)
            delay = backoff * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not secrecy
            retry_after = getattr(error, "retry_after_s", None)
            if retry_after is not None:
                delay = max(delay, retry_after)
            logger.warning(
                "%s failed on %s (attempt %d/%d): %r; retrying in %.2fs",
                stage, _document_id(event), attempt, attempts, error, delay,
            )
            await _announce_retry(event, attempt + 1, attempts, reason, error, delay)
            await asyncio.sleep(delay)
            attempt += 1

    async def _wait_for_space(event: Event, exc: Exception, waits: int) -> None:
        delay = min(DISK_FULL_MAX_WAIT_S, settings.stage_retry_base_s * 2 ** min(waits, 10))
        STAGE_EVENTS.labels(stage.value, "waited_for_space").inc()
        logger.warning("%s on %s: the data directory is full (%s); trying again in %.1f s",
                       stage, _document_id(event), exc, delay)
        await asyncio.sleep(delay)

    def _in_context(event: Event, reason: str, category: str) -> DoclaneError:
        """``reason`` prefixed with the part of the document it is about: "Chunk 3 of 20: ..."."""
        what = spec.describe(event)
        error = DoclaneError(f"{what[0].upper()}{what[1:]}: {reason}" if what else reason)
        error.category = category
        return error

    async def _announce_retry(event: Event, attempt: int, attempts: int, reason: str,
                              error: BaseException, delay: float) -> None:
        try:
            await _emit_retry(event, attempt, attempts, reason, error, delay)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            logger.warning("the retry of %s was not announced: the data directory is full",
                           _document_id(event))

    async def _emit_retry(event: Event, attempt: int, attempts: int, reason: str,
                          error: BaseException, delay: float) -> None:
        document_id = _document_id(event)
        if document_id is None:
            return
        failure = _in_context(event, reason, getattr(error, "category", "internal"))
        await services.status.emit(document_id, StatusChange(
            status=spec.working_status,
            stage=stage,
            attempt=attempt,
            error=failure.reason,
            error_category=failure.category,
            detail=f"Retrying in {delay:.1f} s (attempt {attempt} of {attempts}).",
        ))

    async def _dead_letter(event: Event, exc: BaseException, attempt: int) -> None:
        STAGE_EVENTS.labels(stage.value, "dead_lettered").inc()
        letter = DeadLetter(
            stage=stage,
            topic=spec.topic_of(event),
            document_id=_document_id(event),
            error=getattr(exc, "reason", None) or repr(exc),
            attempts=attempt,
            payload=event.model_dump_json(),
            category=getattr(exc, "category", None) if isinstance(exc, DoclaneError) else "internal",
        )
        await services.bus.publish(Topics.DOCUMENT_DLQ, letter.document_id or "", letter)

    return handle
