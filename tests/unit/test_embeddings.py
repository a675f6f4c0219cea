"""Embedders give unit vectors of their size, deterministically, with meaning; passages are cut
at boundaries with overlap; the openai embedder talks to an OpenAI-compatible server over HTTP."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import numpy as np
import pytest

from doclane.ai.embeddings import build_embedder, split_passages
from doclane.ai.embeddings.base import Embedder
from doclane.ai.embeddings.minilm import MiniLMEmbedder
from doclane.ai.embeddings.openai_embedder import OpenAIEmbedder
from doclane.ai.embeddings.wordllama_l2 import WordLlamaEmbedder
from doclane.ai.exceptions import ProviderRateLimited, ProviderRefused, ProviderUnavailable
from doclane.ai.limits import AiLimiter
from doclane.infra.settings import Settings
from doclane.schemas.extraction import Chunk
from tests.utils.fake_openai import Fail, FakeOpenAI, fake_embedding

TEXTS = [
    "The invoice is due within thirty days of delivery.",
    "Payment must be made no later than a month after the goods arrive.",
    "Our hiking trail climbs through pine forest to a glacial lake.",
    "Preheat the oven and knead the dough for ten minutes.",
    "",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def wordllama() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


@pytest.fixture(params=["minilm", "wordllama"])
def local(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


async def test_shape_norm_and_name(local: MiniLMEmbedder | WordLlamaEmbedder) -> None:
    vectors = await local.embed(TEXTS[:4])
    assert vectors.shape == (4, local.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert "@" in local.name and local.passage_chars > 0
    assert (await local.embed([])).shape == (0, local.dim)


def test_dims_and_names(minilm: MiniLMEmbedder, wordllama: WordLlamaEmbedder) -> None:
    assert (minilm.name, minilm.dim) == ("minilm-l6-v2-int8@1", 384)
    assert (wordllama.name, wordllama.dim) == ("wordllama-l2-supercat-256@1", 256)


def test_passage_fits_minilm_window(minilm: MiniLMEmbedder) -> None:
    prose = ("Quarterly revenue rose because the logistics division renegotiated its freight "
             "contracts, while marketing spend stayed flat and headcount grew modestly. ") * 20
    passage = split_passages(Chunk(index=0, text=prose), minilm.passage_chars, 0)[0]
    assert minilm.token_count(passage) <= 256


async def test_deterministic(local: MiniLMEmbedder | WordLlamaEmbedder) -> None:
    first = await local.embed(TEXTS)
    second = await local.embed(TEXTS)
    np.testing.assert_array_equal(first, second)


async def test_batch_equals_one_by_one(local: MiniLMEmbedder | WordLlamaEmbedder) -> None:
    batch = await local.embed(TEXTS)
    single = np.vstack([await local.embed([text]) for text in TEXTS])
    np.testing.assert_allclose(batch, single, atol=1e-5)


async def test_concurrent_callers_get_their_own_rows(local: MiniLMEmbedder | WordLlamaEmbedder) -> None:
    expected = await local.embed(TEXTS)
    results = await asyncio.gather(*(local.embed([t, t]) for t in TEXTS))
    for row, got in zip(expected, results, strict=True):
        np.testing.assert_allclose(got, np.vstack([row, row]), atol=1e-5)


async def test_paraphrase_closer_than_unrelated(local: MiniLMEmbedder | WordLlamaEmbedder) -> None:
    pairs = [
        ("The invoice is due within thirty days of delivery.",
         "Payment must be made no later than a month after the goods arrive.",
         "Our hiking trail climbs through pine forest to a glacial lake."),
        ("How do I reset my password?", "I forgot my login credentials and need new ones.",
         "The central bank raised interest rates again."),
        ("The patient has a high fever and a sore throat.",
         "She is running a temperature and it hurts to swallow.",
         "Quarterly earnings beat analyst expectations."),
    ]
    for anchor, paraphrase, unrelated in pairs:
        a, p, u = await local.embed([anchor, paraphrase, unrelated])
        assert float(a @ p) > float(a @ u) + 0.1, (anchor, float(a @ p), float(a @ u))


async def test_text_past_the_window_is_cut(minilm: MiniLMEmbedder) -> None:
    head = "Kubernetes pods restart when the liveness probe fails. " * 40
    a, b = await minilm.embed([head, head + "Sourdough bread needs a mature starter. " * 40])
    np.testing.assert_allclose(a, b, atol=1e-6)  # everything past 256 word pieces is ignored


async def test_build_embedder_chooses_by_settings() -> None:
    limiter = AiLimiter(100, 1_000_000, 4)
    cases: list[tuple[dict[str, Any], type[Any]]] = [
        ({}, MiniLMEmbedder),
        ({"embeddings_local_model": "wordllama-l2"}, WordLlamaEmbedder),
        ({"ai_provider": "openai", "ai_base_url": "http://127.0.0.1:9/v1"}, OpenAIEmbedder),
        ({"ai_provider": "openai", "ai_base_url": "http://127.0.0.1:9/v1", "embeddings": "local"},
         MiniLMEmbedder),
        ({"embeddings": "openai", "ai_base_url": "http://127.0.0.1:9/v1"}, OpenAIEmbedder),
    ]
    for fields, kind in cases:
        embedder: Embedder = build_embedder(Settings(_env_file=None, **fields), limiter)  # type: ignore[call-arg]
        assert isinstance(embedder, kind), fields
        await embedder.close()


# --- passages ---------------------------------------------------------------------------

def _chunk(text: str) -> Chunk:
    return Chunk(index=0, text=text, section_path=["A"])


def test_short_chunk_is_one_passage() -> None:
    assert split_passages(_chunk("  One sentence.  "), 100, 20) == ["One sentence."]
    assert split_passages(_chunk(" \n "), 100, 20) == []


def test_passages_cut_at_sentences_with_overlap() -> None:
    sentences = [f"Sentence number {i} says something distinct about topic {i}." for i in range(40)]
    text = " ".join(sentences)
    passages = split_passages(_chunk(text), 300, 80)
    assert len(passages) > 5
    assert all(len(p) <= 300 for p in passages)
    for p in passages:  # every passage is whole sentences
        assert p.endswith(".") and p[0].isupper(), p
    for before, after in itertools.pairwise(passages):
        first = after.split(". ")[0] + "."
        assert first in before  # starts with the previous passage's last sentence
    # nothing is lost: every sentence is in some passage
    assert all(any(s in p for p in passages) for s in sentences)
    assert split_passages(_chunk(text), 300, 80) == passages  # deterministic


def test_passages_prefer_paragraphs_and_lines() -> None:
    para = "Alpha " * 30  # 180 chars
    text = f"{para.strip()}\n\n{para.strip()}\n- item one\n- item two\n\n{para.strip()}"
    # Cuts fall between paragraphs and lines, never inside one: line breaks are kept.
    assert split_passages(_chunk(text), 200, 0) == [
        para.strip(), f"{para.strip()}\n- item one", f"- item two\n\n{para.strip()}",
    ]


def test_long_words_and_bad_sizes() -> None:
    text = "x" * 1000
    passages = split_passages(_chunk(text), 100, 20)
    assert "".join(passages) == text and all(len(p) <= 100 for p in passages)
    with pytest.raises(ValueError, match="overlap"):
        split_passages(_chunk(text), 100, 60)


# --- openai over real HTTP ----------------------------------------------------------------

def _openai(server: FakeOpenAI, limiter: AiLimiter | None = None, **kw: Any) -> OpenAIEmbedder:
    return OpenAIEmbedder(model="text-embedding-3-small", api_key="k", base_url=server.base_url,
                          timeout_s=5, limiter=limiter or AiLimiter(1000, 10_000_000, 8), **kw)


async def test_openai_vectors_over_http(fake_openai: FakeOpenAI) -> None:
    embedder = _openai(fake_openai)
    try:
        texts = ["refund policy for damaged goods", "damaged goods refund", "volcano eruption", ""]
        vectors = await embedder.embed(texts)
        assert vectors.shape == (4, 1536) and embedder.name == "openai-text-embedding-3-small-1536@1"
        np.testing.assert_allclose(vectors[0], fake_embedding(texts[0]), atol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
        (request,) = fake_openai.requests
        assert request.endpoint == "embeddings" and request.inputs[3] == " "  # API refuses ""
        assert request.body["model"] == "text-embedding-3-small"
    finally:
        await embedder.close()


async def test_openai_shorter_vectors_and_big_inputs_in_several_requests(fake_openai: FakeOpenAI) -> None:
    embedder = _openai(fake_openai, dim=256)
    try:
        vectors = await embedder.embed([f"text number {i}" for i in range(600)])
        assert vectors.shape == (600, 256)
        assert [len(r.inputs) for r in fake_openai.requests] == [256, 256, 88]
        assert all(r.body["dimensions"] == 256 for r in fake_openai.requests)
    finally:
        await embedder.close()


async def test_openai_429_is_retryable_and_pauses_the_limiter(fake_openai: FakeOpenAI) -> None:
    now = [0.0]
    limiter = AiLimiter(1000, 10_000_000, 8, clock=lambda: now[0])
    embedder = _openai(fake_openai, limiter)
    fake_openai.plan(Fail(429, retry_after_s=7))
    try:
        with pytest.raises(ProviderRateLimited) as caught:
            await embedder.embed(["hello"])
        assert caught.value.retryable and caught.value.retry_after_s == 7
        assert limiter._paused_until == pytest.approx(7)  # every call of the process waits
    finally:
        await embedder.close()


async def test_openai_other_errors(fake_openai: FakeOpenAI) -> None:
    embedder = _openai(fake_openai)
    fake_openai.plan(Fail(500), Fail(401), Fail(400))
    try:
        with pytest.raises(ProviderUnavailable) as unavailable:
            await embedder.embed(["a"])
        assert unavailable.value.retryable
        with pytest.raises(ProviderRefused, match="API key"):
            await embedder.embed(["a"])
        with pytest.raises(ProviderRefused) as refused:
            await embedder.embed(["a"])
        assert not refused.value.retryable
    finally:
        await embedder.close()
    closed = _openai(fake_openai)
    await closed.close()
    unreachable = OpenAIEmbedder(model="text-embedding-3-small", api_key="k", base_url="http://127.0.0.1:9/v1",
                                 timeout_s=2, limiter=AiLimiter(1000, 10_000_000, 8))
    try:
        with pytest.raises(ProviderUnavailable, match="connect"):
            await unreachable.embed(["a"])
    finally:
        await unreachable.close()


def test_openai_unknown_model_needs_dim() -> None:
    with pytest.raises(ValueError, match="dim"):
        OpenAIEmbedder(model="my-local-model", api_key=None, base_url="http://x/v1", timeout_s=1,
                       limiter=AiLimiter(1, 1000, 1))
