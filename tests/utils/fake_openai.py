"""A scriptable OpenAI-compatible Chat Completions and Embeddings server for tests, over real HTTP.

``FakeOpenAI`` runs a small Starlette app with uvicorn in a background thread on
``127.0.0.1`` and a free port, so code under test talks to it through the official ``openai``
SDK exactly as it would talk to the real API (point ``OPENAI_BASE_URL`` or
``AsyncOpenAI(base_url=...)`` at ``server.base_url``). Every request is recorded; answers are
generated from the request's ``response_format`` JSON schema unless a test scripts otherwise
with ``plan()`` (a FIFO queue) or ``rule()`` (a per-request predicate)::

    with FakeOpenAI() as server:
        server.plan(Fail(429, retry_after_s=2), Answer(delay_s=0.2))
        server.rule(lambda r: Fail(500) if "POISON" in r.user else None)

``set_limits(requests_per_s=..., tokens_per_min=...)`` gives the server a provider's rate limit
(:class:`~doclane.ai.provider_limits.ProviderBucket`, the ``mock`` provider's too): chat requests
over it are answered ``429`` with ``Retry-After`` and ``retry-after-ms``, and every chat answer
carries OpenAI's ``x-ratelimit-*`` headers; a behaviour's ``headers`` are sent as scripted.

``/v1/embeddings`` answers deterministic vectors (:func:`fake_embedding`: a hashed bag of
words, so texts sharing words are close) and follows the same rules and plan: a rule can
tell the endpoints apart by ``RecordedRequest.endpoint``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import re
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from doclane.ai.provider_limits import LimitSnapshot, ProviderBucket, ProviderLimits

__all__ = ["Answer", "Behaviour", "Fail", "FakeOpenAI", "Invalid", "RecordedRequest", "Rule", "fake_answer",
           "fake_embedding", "ratelimit_headers"]

TOPICS = ["topic one", "topic two", "topic three"]
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_denied",
                404: "not_found_error", 429: "rate_limit_exceeded"}


@dataclass(frozen=True)
class Answer:
    """Answer 200 with ``content`` (``None``: generated from the schema; a dict is JSON-encoded)."""

    content: str | dict[str, Any] | None = None
    delay_s: float = 0
    #: Extra response headers (e.g. ``x-ratelimit-*``), over those of the server's limits.
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Fail:
    """Answer ``status`` with an OpenAI-style error body (and ``Retry-After`` when given)."""

    status: int
    retry_after_s: float | None = None
    delay_s: float = 0
    message: str = "fake-openai: scripted failure"
    #: Extra response headers (e.g. ``x-ratelimit-*``), over those of the server's limits.
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Invalid:
    """Answer 200 with content that is not valid JSON, as a truncated model output would be."""

    delay_s: float = 0
    headers: Mapping[str, str] | None = None


Behaviour = Answer | Fail | Invalid


def _text(content: Any) -> str:
    """Text of a message's ``content``: a string or a list of ``{"type": "text"}`` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


@dataclass
class RecordedRequest:
    """One request as received (``at``: ``time.monotonic()`` on arrival) and how it was answered."""

    at: float
    body: dict[str, Any]
    headers: dict[str, str]
    status: int | None = None
    content: str | None = None
    finished_at: float | None = None
    #: ``"chat.completions"`` or ``"embeddings"``.
    endpoint: str = field(default="chat.completions")

    @property
    def inputs(self) -> list[str]:
        """The texts of an embeddings request (``input`` as a string or a list of strings)."""
        raw = self.body.get("input")
        if isinstance(raw, str):
            return [raw]
        return [x for x in raw if isinstance(x, str)] if isinstance(raw, list) else []

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    @property
    def system(self) -> str:
        """Text of the first system (or developer) message, ``""`` if there is none."""
        return next((_text(m.get("content")) for m in self.messages
                     if m.get("role") in ("system", "developer")), "")

    @property
    def user(self) -> str:
        """Text of the last user message, ``""`` if there is none."""
        users = [m for m in self.messages if m.get("role") == "user"]
        return _text(users[-1].get("content")) if users else ""

    @property
    def _json_schema(self) -> dict[str, Any] | None:
        fmt = self.body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema")
            return spec if isinstance(spec, dict) else None
        return None

    @property
    def schema_name(self) -> str | None:
        spec = self._json_schema
        return spec.get("name") if spec else None

    @property
    def schema(self) -> dict[str, Any] | None:
        spec = self._json_schema
        return spec.get("schema") if spec else None


Rule = Callable[[RecordedRequest], Behaviour | None]

_WORD = re.compile(r"[a-z0-9]+")
#: Vector size of the fake embeddings when the request names no ``dimensions``.
EMBEDDING_DIM = 1536


def ratelimit_headers(limit: float, remaining: float, reset_s: float,
                      kind: Literal["requests", "tokens"] = "requests") -> dict[str, str]:
    """The ``x-ratelimit-*`` headers of one limit, as OpenAI writes them (a behaviour's ``headers``)."""
    snapshot = LimitSnapshot(limit, remaining, reset_s)
    limits = ProviderLimits(snapshot, None) if kind == "requests" else ProviderLimits(None, snapshot)
    return limits.headers()


def fake_embedding(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """A unit vector for ``text``: each lower-cased word (a trailing ``s`` dropped) adds ±1 to a
    hashed coordinate. Deterministic; texts sharing words have a positive cosine, texts sharing
    none are close to orthogonal; a text without words is ``[1, 0, 0, ...]``."""
    vector = [0.0] * dim
    for word in _WORD.findall(text.lower()):
        word = word[:-1] if len(word) > 3 and word.endswith("s") else word
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dim
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


def fake_answer(schema: dict[str, Any], user_text: str) -> Any:
    """A value valid against ``schema``, with recognisable strings.

    ``summary`` is ``"Summary: "`` + the first 80 characters of ``user_text``,
    ``sentiment_justification`` is ``"Neutral wording."``, other strings ``"x"``; string arrays are
    three topics, other arrays empty (up to ``minItems``); enums take their first value, except
    ``sentiment``, which is ``"neutral"`` when allowed; nullable values are never null.
    """
    return _Generator(schema, user_text).value(schema, None)


class _Generator:
    def __init__(self, root: dict[str, Any], user_text: str) -> None:
        self._root = root
        self._user = user_text

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self._root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = {**{k: v for k, v in schema.items() if k != "$ref"}, **node}
        if "allOf" in schema:  # pydantic wraps a described $ref in a single-item allOf
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged.update(self._resolve(part))
            schema = merged
        return schema

    def value(self, schema: dict[str, Any], name: str | None) -> Any:
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            options = schema["enum"]
            return "neutral" if name == "sentiment" and "neutral" in options else options[0]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                branches = [self._resolve(b) for b in schema[key]]
                chosen = next((b for b in branches if b.get("type") != "null"), branches[0])
                return self.value(chosen, name)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        return self._typed(kind, schema, name)

    def _typed(self, kind: str, schema: dict[str, Any], name: str | None) -> Any:
        if kind == "object":
            props: dict[str, Any] = schema.get("properties", {})
            return {key: self.value(sub, key) for key, sub in props.items()}
        if kind == "array":
            items = self._resolve(schema.get("items", {}))
            if items.get("type") == "string" and "enum" not in items:
                values: list[Any] = list(TOPICS)
            else:
                values = [self.value(items, None)] if "enum" in items else []
            while len(values) < schema.get("minItems", 0):
                values.append(self.value(items, None))
            return values[: schema.get("maxItems", len(values))]
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
            return (int(low) + (1 if "exclusiveMinimum" in schema else 0)) if kind == "integer" else low + 0.5
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        if name == "summary":
            return "Summary: " + self._user[:80]
        return "Neutral wording." if name == "sentiment_justification" else "x"


class FakeOpenAI:
    """The fake server; a context manager (``start``/``stop`` for session-scoped fixtures)."""

    def __init__(self, startup_timeout_s: float = 10) -> None:
        self._startup_timeout_s = startup_timeout_s
        self._lock = threading.Lock()
        self._records: list[RecordedRequest] = []
        self._plan: deque[Behaviour] = deque()
        self._rules: list[Rule] = []
        self._limits: ProviderBucket | None = None
        self._app = Starlette(routes=[
            Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
            Route("/v1/embeddings", self._embeddings, methods=["POST"]),
        ])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, as ``OPENAI_BASE_URL`` expects."""
        if self._port is None:
            raise RuntimeError("FakeOpenAI is not started")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._records)

    def calls_matching(self, substr: str) -> list[RecordedRequest]:
        """The recorded requests whose last user message contains ``substr``."""
        return [r for r in self.requests if substr in r.user]

    def plan(self, *behaviours: Behaviour) -> None:
        """Queue behaviours, consumed one per request (after rules); then the default answer."""
        with self._lock:
            self._plan.extend(behaviours)

    def rule(self, fn: Rule) -> None:
        """Register ``fn``, asked first for every request; the first non-``None`` result wins."""
        with self._lock:
            self._rules.append(fn)

    def set_limits(self, requests_per_s: float | None = None, tokens_per_min: float | None = None) -> None:
        """Enforce a provider's rate limit on chat requests (both ``None``: none), starting full."""
        with self._lock:
            self._limits = ProviderBucket(requests_per_s, tokens_per_min) if (
                requests_per_s or tokens_per_min) else None

    def reset(self) -> None:
        """Forget rules, the plan, the limits and the recorded requests."""
        with self._lock:
            self._rules.clear()
            self._plan.clear()
            self._records.clear()
            self._limits = None

    def start(self) -> FakeOpenAI:
        """Bind a free port, serve in a background thread and wait until it accepts requests."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = int(sock.getsockname()[1])
        config = uvicorn.Config(self._app, lifespan="off", log_level="warning", access_log=False,
                                timeout_graceful_shutdown=1)
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"FakeOpenAI did not start within {self._startup_timeout_s}s")
            time.sleep(0.005)  # polling a condition under a deadline, not a fixed wait
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for its thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _choose(self, record: RecordedRequest) -> Behaviour:
        with self._lock:
            rules = list(self._rules)
        for fn in rules:
            behaviour = fn(record)
            if behaviour is not None:
                return behaviour
        with self._lock:
            return self._plan.popleft() if self._plan else Answer()

    async def _record(self, request: Request, endpoint: str) -> RecordedRequest:
        at = time.monotonic()
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        record = RecordedRequest(at=at, body=body if isinstance(body, dict) else {},
                                 headers=dict(request.headers), endpoint=endpoint)
        with self._lock:
            self._records.append(record)
        return record

    async def _chat_completions(self, request: Request) -> Response:
        """Chat Completions, answered as the rules, the plan or the schema say."""
        record = await self._record(request, "chat.completions")
        with self._lock:
            limits = self._limits
            verdict = limits.take(_prompt_tokens(record) + _answer_cap(record)) if limits else None
        if verdict is not None and not verdict.allowed:
            response: Response = _error(Fail(429, retry_after_s=verdict.retry_after_s,
                                             message="fake-openai: rate limit reached",
                                             headers=verdict.headers))
        else:
            behaviour = self._choose(record)
            response = await self._respond(record, behaviour)
            response.headers.update({**(verdict.headers if verdict else {}), **(behaviour.headers or {})})
        record.status, record.finished_at = response.status_code, time.monotonic()
        return response

    async def _embeddings(self, request: Request) -> JSONResponse:
        """Embeddings: :func:`fake_embedding` of each input, unless a rule or the plan fails it."""
        record = await self._record(request, "embeddings")
        behaviour = self._choose(record)
        if behaviour.delay_s > 0:
            await asyncio.sleep(behaviour.delay_s)
        inputs = record.inputs
        dim = record.body.get("dimensions")
        if isinstance(behaviour, Fail):
            response = _error(behaviour)
        elif not inputs or any(not text for text in inputs):
            response = _error(Fail(400, message="'input' must be a non-empty list of non-empty strings"))
        else:
            as_base64 = record.body.get("encoding_format") == "base64"
            data = []
            for i, text in enumerate(inputs):
                vector = fake_embedding(text, dim if isinstance(dim, int) and dim > 0 else EMBEDDING_DIM)
                encoded: Any = vector
                if as_base64:  # the SDK's default: little-endian float32, base64
                    encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                data.append({"object": "embedding", "index": i, "embedding": encoded})
            tokens = sum(len(_WORD.findall(text)) for text in inputs)
            response = JSONResponse({
                "object": "list", "data": data, "model": record.body.get("model", "fake-embedding"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            })
        record.status, record.finished_at = response.status_code, time.monotonic()
        return response

    async def _respond(self, record: RecordedRequest, behaviour: Behaviour) -> Response:
        if behaviour.delay_s > 0:
            await asyncio.sleep(behaviour.delay_s)
        if isinstance(behaviour, Fail):
            return _error(behaviour)
        if isinstance(behaviour, Invalid):
            content = '{"summary": "cut off'
        elif isinstance(behaviour.content, dict):
            content = json.dumps(behaviour.content)
        elif isinstance(behaviour.content, str):
            content = behaviour.content
        else:
            schema = record.schema
            content = "ok" if schema is None else json.dumps(fake_answer(schema, record.user))
        record.content = content
        prompt_tokens = _prompt_tokens(record)
        if record.body.get("stream"):
            return _stream(record, content, prompt_tokens)
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": record.body.get("model", "fake-model"),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content) // 4,
                      "total_tokens": prompt_tokens + len(content) // 4},
        })


def _stream(record: RecordedRequest, content: str, prompt_tokens: int) -> StreamingResponse:
    """``stream: true``: the content as server-sent chunks, a word each, as the API sends them."""
    completion_id, model = f"chatcmpl-{uuid.uuid4().hex}", record.body.get("model", "fake-model")

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "choices": [] if usage else [
                    {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        if usage:
            body["usage"] = usage
        return f"data: {json.dumps(body)}\n\n"

    async def events() -> Any:
        yield chunk({"role": "assistant", "content": ""})
        for word in re.findall(r"\S+\s*", content):
            yield chunk({"content": word})
        yield chunk({}, "stop")
        if (record.body.get("stream_options") or {}).get("include_usage"):
            completion_tokens = len(content) // 4
            yield chunk({}, usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                   "total_tokens": prompt_tokens + completion_tokens})
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


def _prompt_tokens(record: RecordedRequest) -> int:
    return sum(len(_text(m.get("content"))) for m in record.messages) // 4


def _answer_cap(record: RecordedRequest) -> int:
    cap = record.body.get("max_completion_tokens", record.body.get("max_tokens"))
    return cap if isinstance(cap, int) else 0


def _error(fail: Fail) -> JSONResponse:
    headers: dict[str, str] = dict(fail.headers or {})
    if fail.retry_after_s is not None:
        seconds = fail.retry_after_s
        headers["Retry-After"] = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
        headers["retry-after-ms"] = f"{seconds * 1000:.0f}"
    kind = _ERROR_TYPES.get(fail.status, "server_error" if fail.status >= 500 else "invalid_request_error")
    body = {"error": {"message": fail.message, "type": kind, "code": kind, "param": None}}
    return JSONResponse(body, status_code=fail.status, headers=headers)
