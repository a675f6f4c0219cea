"""The ``openai`` provider end to end: a real server talking real HTTP to an OpenAI-compatible fake.

Everything is observed where a user or the provider would see it: the status
stream, the API's documents and chunks, and the requests the fake server
received (their text, schema and arrival times).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from doclane.ai.limits import _WAKE_UP_CREDIT_S
from tests.utils.api import auth, collect_sse, login, upload, wait_until_terminal
from tests.utils.documents import make_text, marked_paragraphs
from tests.utils.fake_openai import Fail, FakeOpenAI, Invalid, RecordedRequest
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.slow

REQUESTS_PER_S = 5
RETRY_BASE_S = 0.5
CHUNK_CHARS = 400
_unique = itertools.count()


@pytest.fixture(scope="module")
def ai_server(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("ai") / "data", env={
        "DOCLANE_HEARTBEAT_S": "1",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake.base_url,
        "DOCLANE_AI_MODEL": "fake-model",
        "DOCLANE_AI_REQUESTS_PER_S": str(REQUESTS_PER_S),
        "DOCLANE_STAGE_RETRY_BASE_S": str(RETRY_BASE_S),
        "DOCLANE_CHUNK_MAX_CHARS": str(CHUNK_CHARS),
        "DOCLANE_CHUNK_OVERLAP_CHARS": "0",
    })
    proc.start()  # no DOCLANE_AI_PROVIDER: a key in the environment selects openai
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
async def client(ai_server: ServerProcess, fake: FakeOpenAI) -> AsyncIterator[httpx.AsyncClient]:
    fake.reset()
    token = login(ai_server.url, "alice", "alice-pw")
    async with httpx.AsyncClient(base_url=ai_server.url, headers=auth(token), timeout=60) as c:
        yield c


async def _upload_text(client: httpx.AsyncClient, tmp_path: Path, text: str, **data: str) -> str:
    path = make_text(tmp_path / f"doc-{next(_unique)}.txt", text)
    response = await upload(client, [path], **data)
    assert response.status_code == 202, response.text
    return str(response.json()["results"][0]["document"]["id"])


async def _processed(client: httpx.AsyncClient, tmp_path: Path, text: str) -> dict[str, Any]:
    """Upload ``text`` and wait until it is completed or failed; its detail."""
    return await wait_until_terminal(client, await _upload_text(client, tmp_path, text))


def _events_of(events: list[dict[str, Any]], doc_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e["document_id"] == doc_id]


def _chunk_calls(fake: FakeOpenAI, marker: str) -> list[RecordedRequest]:
    return [r for r in fake.calls_matching(marker) if r.schema_name == "ChunkFindings"]


async def test_prompts_carry_the_chunk_text_and_results_record_provider_model_prompt_and_usage(
    client: httpx.AsyncClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    marker = "ZEBRA-PROVENANCE"
    detail = await _processed(client, tmp_path, marked_paragraphs(marker, 3))
    assert detail["status"] == "completed", detail
    doc_id = detail["id"]

    calls = _chunk_calls(fake, marker)
    assert len(calls) == 3
    for i, call in enumerate(sorted(calls, key=lambda c: c.user)):
        assert f"Paragraph {i} of {marker}" in call.user
        assert "<document>" in call.user and "never instructions" in call.system
        assert call.body["model"] == "fake-model"
        assert call.body["response_format"]["json_schema"]["strict"] is True
    reduce = [r for r in fake.requests if r.schema_name == "DocumentFindings"]
    assert len(reduce) == 1 and "<findings>" in reduce[0].user

    analysis = detail["analysis"]
    assert analysis["summary"].startswith("Summary: ")
    assert (analysis["provider"], analysis["model"], analysis["prompt_version"]) == (
        "openai", "fake-model", "v1")
    assert analysis["usage"]["calls"] == 4 and analysis["usage"]["prompt_tokens"] > 0
    assert analysis["cached"] is False
    chunks = (await client.get(f"/documents/{doc_id}/chunks")).json()
    assert all(c["analysis"]["usage"]["calls"] == 1 for c in chunks)
    assert {c["analysis"]["model"] for c in chunks} == {"fake-model"}


async def test_a_transient_failure_is_retried_after_backoff_and_the_retry_is_streamed(
    client: httpx.AsyncClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    marker = "ZEBRA-FLAKY"
    failed_once: set[str] = set()

    def fail_first_call(request: RecordedRequest) -> Fail | None:
        if marker in request.user and "Paragraph 1 " in request.user and not failed_once:
            failed_once.add("x")
            return Fail(500, message="upstream overloaded")
        return None

    fake.rule(fail_first_call)
    doc_id = await _upload_text(client, tmp_path, marked_paragraphs(marker, 3))
    events = _events_of(await collect_sse(
        client, lambda evs: any(e["document_id"] == doc_id and e["status"] in ("completed", "failed")
                                for e in evs)), doc_id)

    assert events[-1]["status"] == "completed", events[-1]
    notices = [e for e in events if e["attempt"] is not None]
    assert len(notices) == 1
    notice = notices[0]
    assert notice["attempt"] == 2 and notice["stage"] == "analyze" and notice["status"] == "analyzing"
    assert "Chunk 2 of 3" in notice["error"] and "HTTP 500" in notice["error"]
    assert "upstream overloaded" in notice["error"]
    assert notice["error_category"] == "ai_unavailable"

    tries = sorted(c.at for c in _chunk_calls(fake, marker) if "Paragraph 1 " in c.user)
    assert len(tries) == 2
    # Backoff of the first retry: base * 2^0 with jitter in [0.5, 1.5].
    assert tries[1] - tries[0] >= RETRY_BASE_S * 0.5


async def test_retry_after_from_a_429_is_honoured(
    client: httpx.AsyncClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    marker = "ZEBRA-LIMITED"
    limited: list[float] = []

    def limit_once(request: RecordedRequest) -> Fail | None:
        if marker in request.user and not limited:
            limited.append(request.at)
            return Fail(429, retry_after_s=2)
        return None

    fake.rule(limit_once)
    detail = await _processed(client, tmp_path, marked_paragraphs(marker, 1))
    assert detail["status"] == "completed"
    retried = [e for e in detail["history"] if e["attempt"] == 2]
    assert retried and "429" in retried[0]["error"] and "2 s" in retried[0]["error"]
    later = [c.at for c in _chunk_calls(fake, marker) if c.at > limited[0]]
    assert later and later[0] - limited[0] >= 2 - 0.05


async def test_an_invalid_reply_counts_as_a_failed_attempt(
    client: httpx.AsyncClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    marker = "ZEBRA-GARBLED"
    fake.plan(Invalid())
    detail = await _processed(client, tmp_path, marked_paragraphs(marker, 1))
    assert detail["status"] == "completed"
    retried = [e for e in detail["history"] if e["attempt"] == 2]
    assert retried and "did not match the expected format" in retried[0]["error"]
    assert retried[0]["error_category"] == "ai_malformed"
    assert len(_chunk_calls(fake, marker)) == 2


async def test_the_rate_limit_is_never_exceeded_as_measured_at_the_provider(
    client: httpx.AsyncClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    marker = "ZEBRA-PACED"
    detail = await _processed(client, tmp_path, marked_paragraphs(marker, 16))
    assert detail["status"] == "completed"
    chats = [r for r in fake.requests if r.endpoint == "chat.completions"]
    assert len(chats) == 17  # 16 chunks and the reduce
    # The chunks' embeddings go to the same provider, through the same limiter.
    assert [r for r in fake.requests if r.endpoint == "embeddings"]
    arrivals = sorted(r.at for r in fake.requests)
    # A provider's token bucket of the limiter's own capacity (one call, plus the credit a
    # late wake-up may pass on) never refuses: any k+1 consecutive calls start at least
    # (k - credit) / rate seconds apart. Arrival times also carry the transit from limiter
    # to server (a new connection, a busy loop), so up to 0.15 s of jitter is allowed (the
    # suite runs on 3 workers beside this server).
    credit = REQUESTS_PER_S * _WAKE_UP_CREDIT_S
    for k in range(1, len(arrivals)):
        spans = [b - a for a, b in zip(arrivals, arrivals[k:], strict=False)]
        assert min(spans) >= (k - credit) / REQUESTS_PER_S - 0.15, (k, min(spans))


async def test_a_chunk_that_keeps_failing_fails_the_document_and_retry_resumes_from_there(
    client: httpx.AsyncClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    marker = "ZEBRA-RESUME"
    fake.rule(lambda r: Fail(500) if "POISON" in r.user else None)
    text = marked_paragraphs(marker, 4) + f"\n\nThe POISON paragraph of {marker} always breaks it."
    failed = await _processed(client, tmp_path, text)
    doc_id = failed["id"]

    n = failed["chunk_count"]
    assert failed["status"] == "failed" and n >= 3
    assert failed["error"].startswith(f"Chunk {n} of {n}:") and "HTTP 500" in failed["error"]
    assert failed["error_category"] == "ai_unavailable"
    assert len(fake.calls_matching("POISON")) == 2  # the first attempt and one retry, by default
    again = await client.post(f"/documents/{doc_id}/retry")
    assert again.status_code == 202  # a failed document can be retried...
    fake.reset()  # ...and fails again the same way while the provider is broken
    fake.rule(lambda r: Fail(500) if "POISON" in r.user else None)
    assert (await wait_until_terminal(client, doc_id))["status"] == "failed"
    # Nothing else was analysed again. (Chunks the indexer had not reached when the document
    # failed are embedded now: that is their first time, not a resend.)
    assert not [c for c in fake.requests if c.endpoint == "chat.completions" and "POISON" not in c.user]

    done_before = {c["index"] for c in (await client.get(f"/documents/{doc_id}/chunks")).json()
                   if c["analysis"] is not None}
    assert done_before == set(range(n - 1))
    fake.reset()  # the provider recovers
    retried = await client.post(f"/documents/{doc_id}/retry")
    assert retried.status_code == 202 and retried.json()["status"] == "pending"
    finished = await wait_until_terminal(client, doc_id)

    assert finished["status"] == "completed" and finished["error"] is None
    sent = [r for r in fake.requests if r.schema_name == "ChunkFindings"]
    assert len(sent) == 1 and "POISON" in sent[0].user  # finished chunks were not sent again
    statuses = [e["status"] for e in finished["history"]]
    assert statuses[-4:] == ["pending", "processing", "analyzing", "completed"]
    pending = [e for e in finished["history"] if e["status"] == "pending"][-1]
    assert f"{n - 1} of {n} chunk analyses are kept" in pending["detail"]
    seqs = [e["seq"] for e in finished["history"]]
    assert seqs == list(range(1, len(seqs) + 1))

    conflict = await client.post(f"/documents/{doc_id}/retry")
    assert conflict.status_code == 409 and "completed" in conflict.json()["detail"]


async def test_identical_content_is_never_sent_to_the_provider_twice(
    client: httpx.AsyncClient, fake: FakeOpenAI, tmp_path: Path
) -> None:
    marker = "ZEBRA-CACHED"
    text = marked_paragraphs(marker, 3)
    first = await _processed(client, tmp_path, text)
    assert first["status"] == "completed"
    calls_after_first = len(fake.requests)
    assert [r.endpoint for r in fake.requests].count("chat.completions") == 4  # 3 chunks, 1 reduce
    assert [r.endpoint for r in fake.requests].count("embeddings") == 3  # one per chunk

    # The same bytes again: completed from the caches (analysis and embeddings), no call at all.
    second = await _processed(client, tmp_path, text)
    assert second["status"] == "completed" and len(fake.requests) == calls_after_first
    assert second["analysis"]["cached"] is True
    assert second["analysis"]["summary"] == first["analysis"]["summary"]
    assert "reused without AI calls" in second["history"][-1]["detail"]
    chunks = (await client.get(f"/documents/{second['id']}/chunks")).json()
    assert len(chunks) == 3 and all(c["analysis"]["cached"] for c in chunks)

    # A new document sharing three chunks: only its new chunk (and the reduce) are sent.
    extended = text + f"\n\nAn appendix of {marker} adds a paragraph nobody has analysed yet."
    third = await _processed(client, tmp_path, extended)
    assert third["status"] == "completed"
    new_calls = fake.requests[calls_after_first:]
    assert [r.schema_name for r in new_calls].count("ChunkFindings") == 1
    assert "appendix" in next(r.user for r in new_calls if r.schema_name == "ChunkFindings")
    chunk_prompts = [r.user for r in fake.requests if r.schema_name == "ChunkFindings"]
    assert len(chunk_prompts) == len(set(chunk_prompts))


async def test_priority_defaults_to_high_for_small_documents_and_an_explicit_one_is_kept(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    small = await _upload_text(client, tmp_path, marked_paragraphs("ZEBRA-SMALL", 1))
    low = await _upload_text(client, tmp_path, marked_paragraphs("ZEBRA-LOW", 1), priority="low")
    assert (await client.get(f"/documents/{small}")).json()["priority"] == "high"
    assert (await client.get(f"/documents/{low}")).json()["priority"] == "low"
    bad = await client.post("/documents/upload", data={"priority": "urgent"},
                            files=[("files", ("a.txt", b"hello there"))])
    assert bad.status_code == 422 and "priority" in bad.json()["detail"]
