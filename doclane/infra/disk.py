"""A full disk: the one failure of a stage that waiting for space cures.

Writes to the data directory (the SQLite store, the embedded event log, the search
index, blobs) fail with ``ENOSPC``/``EDQUOT`` or SQLite's ``SQLITE_FULL`` when it fills
up. Such a failure says nothing about the event being handled, so a stage waits for
space and tries again, instead of spending the event's attempts and failing documents
that would complete a minute later.
"""

from __future__ import annotations

import errno
import sqlite3

__all__ = ["is_disk_full"]

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from or while handling) is a full disk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        # Any SQLite binding: the search index's driver (sqlean) has its own error classes.
        if getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or (
            type(current).__name__ == "OperationalError" and "database or disk is full" in str(current)
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
