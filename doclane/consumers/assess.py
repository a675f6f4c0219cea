"""The assessor stage: ``interview.events`` → the report of each interview that ended.

Turn events are the interview's audit trail and need nothing here; an ``ended`` event
makes the report from the stored transcript. Idempotent: a redelivered ``ended`` makes
the same report again (it is deterministic) and stores it over the first.
"""

from __future__ import annotations

import logging

from doclane.infra.runtime import Services
from doclane.interviews.report import build_report
from doclane.schemas.interviews import InterviewEvent

__all__ = ["handle_interview_event"]

logger = logging.getLogger(__name__)


async def handle_interview_event(event: InterviewEvent, services: Services) -> None:
    if event.type != "ended":
        return
    session = await services.store.get_interview(event.session_id)
    if session is None:  # deleted since it ended: nothing to report on
        return
    report = build_report(session, session.provider)
    if await services.store.save_interview_report(session.id, report):
        logger.info("interview %s: report made (%s, overall %.2f)", session.id, report.recommendation,
                    report.overall)
