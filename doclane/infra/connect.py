"""Opening a connection at start-up: retried with backoff until a deadline, then one clear error.

Processes of a deployment start together (compose, Kubernetes) and in no order:
a worker may come up before its broker or database answers, or lose a race with
its siblings creating the same indexes and topics. :func:`retry_connect` runs an
adapter's whole open step again after such a transient failure, waiting
``base_delay_s * 2**n * uniform(0.5, 1.5)`` (capped at ``max_delay_s``) between attempts,
and logs what it waits for. When ``deadline_s`` has passed it raises
:class:`ConnectFailed`, whose message names the server (never its credentials),
so that the command can exit with one line instead of a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from doclane.exceptions import DoclaneError

__all__ = ["DEFAULT_CONNECT_DEADLINE_S", "ConnectFailed", "redact_url", "retry_connect"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: The default of ``Settings.connect_deadline_s``, for adapters built without settings.
DEFAULT_CONNECT_DEADLINE_S = 60.0
#: How long past its budget an attempt may run before it is cancelled: an adapter that
#: honours its budget reports its own, more telling, error (e.g. "connection refused").
_GRACE_S = 1.0

# scheme://user:password@hosts/path?query -> hosts
_URL = re.compile(r"^(?:[a-zA-Z][\w+.-]*://)?(?:[^@/]*@)?(?P<hosts>[^/?#]*)")
_CLIENT_TIMEOUTS = re.compile(r"\s*\(configured timeouts:[^)]*\)(, Timeout: [\d.]+s)?")


class ConnectFailed(DoclaneError):
    """A server could not be reached (or set up) before the start-up deadline."""

    category = "connect_failed"
    retryable = True


def redact_url(url: str) -> str:
    """The host list of a server URL, without scheme, credentials, database or options."""
    match = _URL.match(url.strip())
    hosts = match.group("hosts") if match else ""
    return hosts or "(no host)"


def _reason(exc: BaseException) -> str:
    """The error's type and the first line of its text, kept short for a log line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    # PyMongo appends its settings and topology, aiokafka repeats the type: neither says
    # more about what went wrong.
    text = _CLIENT_TIMEOUTS.sub("", text).split(", Topology Description:")[0]
    text = text.removeprefix(f"{type(exc).__name__}: ")
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def retry_connect(
    attempt: Callable[[float], Awaitable[T]],
    *,
    what: str,
    deadline_s: float,
    transient: Callable[[BaseException], bool],
    attempt_timeout_s: float = 10.0,
    base_delay_s: float = 0.2,
    max_delay_s: float = 5.0,
) -> T:
    """Run ``attempt`` until it succeeds, retrying transient failures until ``deadline_s``.

    ``what`` names the server in log lines and in the final error, e.g. ``"MongoDB at
    db:27017"``; it must hold no credentials (see :func:`redact_url`). ``attempt`` must be
    safe to run again after a failure at any point (create what is missing, treat
    "already exists" as done) and release what it opened when it fails or is cancelled.
    It is given its time budget in seconds: ``attempt_timeout_s``, or what is left before
    the deadline if that is less. An attempt still running a moment after its budget is
    cancelled, so that a server that accepts connections but never answers is retried
    and the deadline holds. Errors ``transient`` rejects propagate at once.
    """
    started = time.monotonic()
    give_up_at = started + deadline_s
    failures = 0
    while True:
        budget_s = max(min(attempt_timeout_s, give_up_at - time.monotonic()), 0.1)
        try:
            async with asyncio.timeout(budget_s + _GRACE_S):
                result = await attempt(budget_s)
        except TimeoutError as exc:
            error: BaseException = exc
        except Exception as exc:
            if not transient(exc):
                raise
            error = exc
        else:
            if failures:
                logger.info("reached %s after %d failed attempts (%.1f s)",
                            what, failures, time.monotonic() - started)
            return result
        failures += 1
        remaining = give_up_at - time.monotonic()
        if remaining <= 0:
            raise ConnectFailed(
                f"could not reach {what} within {deadline_s:g} s ({_reason(error)}); "
                "is it running, and is the address right? (DOCLANE_CONNECT_DEADLINE_S sets the wait)"
            ) from error
        # Jitter spreads out processes that failed together, so they don't retry in lockstep.
        delay = min(max_delay_s, base_delay_s * 2 ** (failures - 1)) * random.uniform(0.5, 1.5)  # noqa: S311
        delay = min(delay, remaining)
        logger.warning("waiting for %s (%s); attempt %d failed, retrying in %.1f s, giving up in %.0f s",
                       what, _reason(error), failures, delay, remaining)
        await asyncio.sleep(delay)
