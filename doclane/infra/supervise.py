"""Background tasks that never fail silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["supervised", "unhealthy_tasks"]

logger = logging.getLogger(__name__)
_failed: set[str] = set()


def _report(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        _failed.add(task.get_name())
        logger.error("background task %s died", task.get_name(), exc_info=exc)


def supervised(coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
    """Start ``coro`` as a task whose death is logged and marks the process unhealthy."""
    task = asyncio.create_task(coro, name=name)
    task.add_done_callback(_report)
    return task


def unhealthy_tasks() -> set[str]:
    """Names of background tasks that died with an exception."""
    return set(_failed)
