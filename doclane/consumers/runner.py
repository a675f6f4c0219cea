"""The group runner: gives every event an explicit fate.

A stage handler either returns (ack), raises a non-retryable
:class:`~doclane.exceptions.DoclaneError` (the document fails with that
reason), or raises something else (retried with exponential backoff and jitter;
after the last attempt the event goes to ``document.dlq`` and the stage's
``give_up`` tells the document's owner). Nothing escapes to the transport, so a
poisoned event never blocks its group.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from doclane.exceptions import DoclaneError
from doclane.infra.bus.base import Handler
from doclane.infra.metrics import STAGE_EVENTS, STAGE_SECONDS
from doclane.infra.runtime import Services
from doclane.schemas.events import DeadLetter, Event, Stage, Topics

__all__ = ["GiveUp", "StageHandler", "run_with_fate"]

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
StageHandler = Callable[[E, Services], Awaitable[None]]
#: Called once when an event is given up on, with a reason a person understands.
GiveUp = Callable[[E, Services, DoclaneError], Awaitable[None]]


def _document_id(event: Event) -> str | None:
    return getattr(event, "document_id", None)


def run_with_fate(
    stage: Stage,
    topic_of: Callable[[E], str],
    handler: StageHandler[E],
    give_up: GiveUp[E],
    services: Services,
) -> Handler[E]:
    """Wrap ``handler`` so that each event is acked, retried or dead-lettered."""
    settings = services.settings

    async def handle(event: E) -> None:
        with STAGE_SECONDS.labels(stage.value).time():
            await _attempt_all(event)

    async def _attempt_all(event: E) -> None:
        attempts = settings.stage_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                await handler(event, services)
                STAGE_EVENTS.labels(stage.value, "ok").inc()
                return
            except asyncio.CancelledError:
                raise
            except DoclaneError as exc:
                if not exc.retryable or attempt == attempts:
                    await _dead_letter(event, exc, attempt)
                    await give_up(event, services, exc)
                    return
                error: BaseException = exc
            except Exception as exc:
                error = exc
                if attempt == attempts:
                    logger.exception("%s gave up on %s", stage, _document_id(event))
                    reason = DoclaneError(
                        f"An internal error stopped the {stage.value} step after {attempts} "
                        "attempts; retry the document later or contact the operator."
                    )
                    reason.category = "internal"
                    await _dead_letter(event, exc, attempt)
                    await give_up(event, services, reason)
                    return
            STAGE_EVENTS.labels(stage.value, "retried").inc()
            delay = settings.stage_retry_base_s * 2 ** (attempt - 1)
            logger.warning(
                "%s failed on %s (attempt %d/%d): %r; retrying in ~%.2fs",
                stage, _document_id(event), attempt, attempts, error, delay,
            )
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))  # noqa: S311 - jitter

    async def _dead_letter(event: E, exc: BaseException, attempt: int) -> None:
        STAGE_EVENTS.labels(stage.value, "dead_lettered").inc()
        letter = DeadLetter(
            stage=stage,
            topic=topic_of(event),
            document_id=_document_id(event),
            error=getattr(exc, "reason", None) or repr(exc),
            attempts=attempt,
            payload=event.model_dump_json(),
        )
        await services.bus.publish(Topics.DOCUMENT_DLQ, letter.document_id or "", letter)

    return handle
