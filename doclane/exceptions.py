"""The root of every doclane error.

Each domain package has its own ``exceptions.py`` whose errors derive from
:class:`DoclaneError`. ``reason`` is written for a person: it says what went
wrong and, where possible, what to do about it. The API turns it into the
``detail`` of a 4xx answer; the pipeline puts it on a ``failed`` status.
"""

from __future__ import annotations

__all__ = ["DoclaneError"]


class DoclaneError(Exception):
    """Base class of doclane's domain errors."""

    #: Short machine-readable category, e.g. ``"encrypted_pdf"``.
    category: str = "error"
    #: Whether trying again later might succeed.
    retryable: bool = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
