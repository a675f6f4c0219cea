"""Telling a full disk from other failures, whichever layer raised it."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from doclane.infra.disk import is_disk_full


class OperationalError(Exception):
    """Shaped like another SQLite binding's error (sqlean's is not sqlite3's)."""


def _raised_while_handling(first: BaseException, second: BaseException) -> BaseException:
    try:
        try:
            raise first
        except BaseException:
            raise second  # noqa: B904 - keeps __context__, as a failed ROLLBACK does
    except BaseException as exc:
        return exc


@pytest.mark.parametrize("exc", [
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EDQUOT, "Disk quota exceeded"),
    sqlite3.OperationalError("database or disk is full"),
    OperationalError("database or disk is full"),
    _raised_while_handling(sqlite3.OperationalError("database or disk is full"),
                           sqlite3.OperationalError("cannot rollback - no transaction is active")),
])
def test_a_full_disk_is_recognised(exc: BaseException) -> None:
    assert is_disk_full(exc)


@pytest.mark.parametrize("exc", [
    OSError(errno.EACCES, "Permission denied"),
    sqlite3.OperationalError("database is locked"),
    ValueError("database or disk is full"),  # words alone, from something that is not SQLite
    RuntimeError("boom"),
])
def test_other_failures_are_not(exc: BaseException) -> None:
    assert not is_disk_full(exc)
