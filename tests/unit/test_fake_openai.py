"""The fake OpenAI server speaks the wire format the official SDK expects, and obeys its script."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from enum import StrEnum

import openai
import pydantic
import pytest

from tests.utils.fake_openai import Answer, Fail, FakeOpenAI, Invalid, fake_answer


class Sentiment(StrEnum):
    positive = "positive"
    neutral = "neutral"
    negative = "negative"


class Entity(pydantic.BaseModel):
    name: str
    count: int


class Analysis(pydantic.BaseModel):
    summary: str
    sentiment: Sentiment
    sentiment_justification: str
    topics: list[str]
    entities: list[Entity]
    language: str | None
    confidence: float


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def client(server: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    server.reset()
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as c:
        yield c


def _messages(user: str) -> list[openai.types.chat.ChatCompletionMessageParam]:
    return [{"role": "system", "content": "You analyse documents."}, {"role": "user", "content": user}]


async def _parse(client: openai.AsyncOpenAI, user: str) -> Analysis | None:
    completion = await client.chat.completions.parse(
        model="gpt-test", messages=_messages(user), response_format=Analysis)
    return completion.choices[0].message.parsed


async def test_parse_returns_a_validated_object_built_from_the_schema(
        client: openai.AsyncOpenAI, server: FakeOpenAI) -> None:
    parsed = await _parse(client, "The quarterly report shows steady growth.")

    assert parsed is not None
    assert parsed.summary == "Summary: The quarterly report shows steady growth."
    assert parsed.sentiment is Sentiment.neutral
    assert parsed.sentiment_justification == "Neutral wording."
    assert parsed.topics == ["topic one", "topic two", "topic three"]
    assert parsed.entities == []
    [record] = server.requests
    assert record.status == 200
    assert record.system == "You analyse documents."
    assert record.user == "The quarterly report shows steady growth."
    assert record.schema_name == "Analysis"
    assert record.schema is not None and "summary" in record.schema["properties"]
    assert record.headers["authorization"] == "Bearer test"


async def test_create_without_schema_answers_plain_text_and_echoes_the_model(
        client: openai.AsyncOpenAI, server: FakeOpenAI) -> None:
    completion = await client.chat.completions.create(model="gpt-echo", messages=_messages("hello " * 10))

    assert completion.model == "gpt-echo"
    assert completion.choices[0].message.content == "ok"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == (len("You analyse documents.") + len("hello " * 10)) // 4
    assert server.requests[0].schema_name is None


async def test_planned_answers_are_consumed_in_order_then_the_default(
        client: openai.AsyncOpenAI, server: FakeOpenAI) -> None:
    server.plan(Answer("first"), Answer({"k": 1}))
    contents = [(await client.chat.completions.create(model="m", messages=_messages("q"))).choices[0]
                .message.content for _ in range(3)]

    assert contents == ["first", '{"k": 1}', "ok"]


async def test_rate_limit_surfaces_with_retry_after(client: openai.AsyncOpenAI, server: FakeOpenAI) -> None:
    server.plan(Fail(429, retry_after_s=2))

    with pytest.raises(openai.RateLimitError) as caught:
        await _parse(client, "anything")

    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.status_code == 429
    assert server.requests[0].status == 429


async def test_server_error_surfaces_as_internal_server_error(client: openai.AsyncOpenAI,
                                                              server: FakeOpenAI) -> None:
    server.plan(Fail(500), Fail(503, retry_after_s=1.5))

    with pytest.raises(openai.InternalServerError):
        await _parse(client, "anything")
    with pytest.raises(openai.InternalServerError) as caught:
        await _parse(client, "anything")
    assert caught.value.status_code == 503
    assert caught.value.response.headers["retry-after"] == "1.5"
    assert caught.value.body == {"message": "fake-openai: scripted failure", "type": "server_error",
                                 "code": "server_error", "param": None}


async def test_invalid_content_fails_validation_in_parse(client: openai.AsyncOpenAI,
                                                         server: FakeOpenAI) -> None:
    server.plan(Invalid())

    # The SDK validates the content with pydantic's model_validate_json, which rejects broken JSON.
    with pytest.raises(pydantic.ValidationError):
        await _parse(client, "anything")
    assert server.requests[0].status == 200


async def test_rule_affects_only_matching_requests(client: openai.AsyncOpenAI, server: FakeOpenAI) -> None:
    server.rule(lambda r: Fail(400, message="poisoned") if "POISON" in r.user else None)

    ok, poisoned = await asyncio.gather(_parse(client, "clean text"), _parse(client, "has POISON inside"),
                                        return_exceptions=True)

    assert isinstance(ok, Analysis)
    assert isinstance(poisoned, openai.BadRequestError)
    assert [r.status for r in server.calls_matching("POISON")] == [400]
    assert [r.status for r in server.calls_matching("clean")] == [200]


async def test_delays_do_not_block_concurrent_requests(client: openai.AsyncOpenAI,
                                                       server: FakeOpenAI) -> None:
    server.plan(Answer(delay_s=0.5), Answer(delay_s=0.5))

    await asyncio.gather(_parse(client, "one"), _parse(client, "two"))

    first, second = server.requests
    assert first.finished_at is not None and second.finished_at is not None
    assert max(first.at, second.at) < min(first.finished_at, second.finished_at)


def test_schema_generation_handles_refs_nullable_and_enums() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"$ref": "#/$defs/Kind"},
            "sentiment": {"enum": ["positive", "neutral"]},
            "note": {"type": ["string", "null"]},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 3}]},
            "flag": {"type": "boolean"},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Kind"}},
        },
        "$defs": {"Kind": {"type": "string", "enum": ["a", "b"]}},
    }

    assert fake_answer(schema, "user text") == {
        "kind": "a", "sentiment": "neutral", "note": "x", "maybe": 3, "flag": False, "tags": ["a"],
    }
