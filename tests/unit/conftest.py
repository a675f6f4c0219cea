"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.utils.fake_openai import FakeOpenAI


@pytest.fixture(scope="module")
def fake_openai_server() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible server over real HTTP, started once per test module."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """The module's fake server with no rules, plan, limits or recorded requests left over."""
    fake_openai_server.reset()
    return fake_openai_server
