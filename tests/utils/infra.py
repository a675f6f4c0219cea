"""Where the real test servers are: set by ``make test`` from ``infra/up.sh``.

The variables are named ``DOCLANE_TEST_*`` so that servers started by the
embedded-mode tests do not inherit a switch to the distributed mode.
"""

from __future__ import annotations

import os

import pytest

__all__ = ["kafka_bootstrap", "mongo_url", "search_url"]


def _need(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    message = f"{name} is not set: run the suite with 'make test' (or 'make infra-up')"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI must never skip the real-server tests silently
    pytest.skip(message)


def kafka_bootstrap() -> str:
    return _need("DOCLANE_TEST_KAFKA_BOOTSTRAP")


def mongo_url() -> str:
    return _need("DOCLANE_TEST_MONGO_URL")


def search_url() -> str:
    """PostgreSQL with pgvector (``postgresql://...``), for the search-index tests."""
    return _need("DOCLANE_TEST_SEARCH_URL")
