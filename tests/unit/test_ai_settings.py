"""Choosing and configuring the AI provider: mistakes are refused at start, with what to fix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from doclane.infra.settings import Settings
from doclane.producers.uploads import default_priority
from doclane.schemas.events import Priority


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_the_provider_is_local_without_a_key_and_openai_with_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().analysis_provider == "local"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert Settings().analysis_provider == "openai"
    assert Settings(ai_provider="local").analysis_provider == "local"


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCLANE_AI_PROVIDER", "")
    assert Settings().analysis_provider == "local"


@pytest.mark.parametrize(("settings", "hint"), [
    ({"ai_provider": "openai"}, "OPENAI_API_KEY"),
    ({"ai_prompt_version": "v0"}, "available: v1"),
    ({"mock_failure_kinds": "timeout,boom", "mock_failure_rate": 0.1}, "boom"),
    ({"mock_failure_kinds": "", "mock_failure_rate": 0.1}, "FAILURE_KINDS is empty"),
    ({"mock_latency_ms": 100, "mock_latency_p99_ms": 50}, "P99"),
    ({"mock_latency_ms": 100, "mock_latency_p99_ms": 5000}, "P99"),
    ({"mock_failure_rate": 1.5}, "mock_failure_rate"),
])
def test_misconfiguration_is_refused_with_what_to_fix(settings: dict[str, object], hint: str) -> None:
    with pytest.raises(ValidationError, match=hint):
        Settings(**settings)  # type: ignore[arg-type]


def test_openai_against_a_local_compatible_server_needs_no_key() -> None:
    settings = Settings(ai_provider="openai", ai_base_url="http://127.0.0.1:9/v1")
    assert settings.analysis_provider == "openai"


@pytest.mark.parametrize(("content_type", "size", "priority"), [
    ("text/plain", 2_000, Priority.HIGH),
    ("text/plain", 200_000, Priority.NORMAL),
    ("text/plain", 2_000_000, Priority.LOW),
    ("application/pdf", 200_000, Priority.HIGH),  # a PDF's bytes are mostly fonts and images
    ("application/pdf", 2_000_000, Priority.NORMAL),
    ("application/pdf", 9_000_000, Priority.LOW),
])
def test_default_priority_favours_small_documents(content_type: str, size: int, priority: Priority) -> None:
    assert default_priority(content_type, size) is priority
