"""A provider's rate-limit headers, read and written, and the simulated provider that enforces them."""

from __future__ import annotations

import pytest

from doclane.ai.provider_limits import (
    LimitSnapshot,
    ProviderBucket,
    ProviderLimits,
    format_duration,
    parse_duration,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- durations, as OpenAI writes them (Go's time.Duration) --------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [
    ("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1.5s", 1.5), ("17.5ms", 0.0175),
    ("1h2m3.5s", 3723.5), ("500µs", 0.0005), ("500us", 0.0005), ("250ns", 2.5e-7), ("0s", 0.0),
    ("2", 2.0), (" 0.25 ", 0.25), ("1m", 60.0),
])
def test_durations_are_read_as_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "1x", "s", "-1s", "1s2", "ms", "nan", "inf", "-3"])
def test_a_garbled_duration_is_not_trusted(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.02, "20ms"), (0.0175, "17.5ms"), (1, "1s"), (1.5, "1.5s"), (360, "6m0s"),
    (3723.5, "1h2m3.5s"), (0.0005, "500µs"), (90.25, "1m30.25s"),
])
def test_durations_are_written_as_go_does(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


# --- headers ------------------------------------------------------------------------------------

OPENAI_HEADERS = {
    "X-RateLimit-Limit-Requests": "500",
    "x-ratelimit-remaining-requests": "499",
    "x-ratelimit-reset-requests": "120ms",
    "x-ratelimit-limit-tokens": "30000",
    "x-ratelimit-remaining-tokens": "29000",
    "x-ratelimit-reset-tokens": "2s",
}


def test_openai_headers_are_parsed_in_any_letter_case() -> None:
    limits = ProviderLimits.parse(OPENAI_HEADERS)
    assert limits == ProviderLimits(
        requests=LimitSnapshot(limit=500, remaining=499, reset_s=0.12),
        tokens=LimitSnapshot(limit=30000, remaining=29000, reset_s=2),
    )
    assert limits.requests is not None and limits.tokens is not None
    # 500 requests a minute refill one every 120 ms; 30,000 tokens a minute, 1,000 in 2 s.
    assert limits.requests.refill_bound_per_s == pytest.approx(500 / 60)
    assert limits.tokens.refill_bound_per_s == pytest.approx(500)
    assert limits.requests.headroom == pytest.approx(0.998)


def test_a_full_bucket_says_nothing_of_the_rate() -> None:
    snapshot = LimitSnapshot(limit=20, remaining=20, reset_s=0)
    assert snapshot.refill_bound_per_s is None
    assert snapshot.headroom == 1


def test_answers_without_usable_headers_have_no_limits() -> None:
    assert ProviderLimits.parse({"content-type": "application/json"}) is None
    garbled = {**OPENAI_HEADERS, "x-ratelimit-reset-requests": "later", "x-ratelimit-limit-tokens": "many"}
    assert ProviderLimits.parse(garbled) is None
    only_requests = {k: v for k, v in OPENAI_HEADERS.items() if "tokens" not in k}
    parsed = ProviderLimits.parse(only_requests)
    assert parsed is not None and parsed.tokens is None and parsed.requests is not None


def test_headers_written_are_read_back() -> None:
    limits = ProviderLimits.parse(OPENAI_HEADERS)
    assert limits is not None
    assert ProviderLimits.parse(limits.headers()) == limits


# --- the provider's side: a bucket that refuses only what exceeds it ----------------------------


def test_requests_within_the_limit_are_all_accepted_and_report_what_is_left() -> None:
    clock = Clock()
    bucket = ProviderBucket(requests_per_s=10, tokens_per_min=None, clock=clock)
    verdicts = []
    for i in range(30):  # exactly at the limit: one every 100 ms
        clock.now = i * 0.1
        verdicts.append(bucket.take(tokens=500))
    assert all(v.allowed and v.retry_after_s == 0 for v in verdicts)
    first = ProviderLimits.parse(verdicts[0].headers)
    assert first == ProviderLimits(requests=LimitSnapshot(10, 9, 0.1), tokens=None)


def test_a_request_over_the_limit_is_refused_with_the_wait_and_takes_nothing() -> None:
    clock = Clock()
    bucket = ProviderBucket(requests_per_s=10, tokens_per_min=None, clock=clock)
    burst = [bucket.take(0) for _ in range(10)]  # the bucket holds one second's worth
    assert all(v.allowed for v in burst)
    refused = bucket.take(0)
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(0.1)
    limits = ProviderLimits.parse(refused.headers)
    assert limits is not None and limits.requests == LimitSnapshot(10, 0, 1.0)
    assert not bucket.take(0).allowed  # the refusal took nothing, and no time passed
    clock.now = 0.1
    assert bucket.take(0).allowed


def test_tokens_are_a_minute_s_worth_and_refuse_on_their_own() -> None:
    clock = Clock()
    bucket = ProviderBucket(requests_per_s=None, tokens_per_min=6000, clock=clock)  # 100 a second
    assert bucket.take(5000).allowed
    refused = bucket.take(2000)
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(10)  # 1000 tokens short at 100 a second
    limits = ProviderLimits.parse(refused.headers)
    assert limits is not None and limits.requests is None
    assert limits.tokens == LimitSnapshot(6000, 1000, 50)
    clock.now = 10
    assert bucket.take(2000).allowed


def test_refill_bounds_from_a_busy_bucket_find_its_rate() -> None:
    """Pacing at 1.5x the limit, the smallest bound of the answers is close to the true rate."""
    clock = Clock()
    bucket = ProviderBucket(requests_per_s=20, tokens_per_min=None, clock=clock)
    bounds = []
    for i in range(60):
        clock.now = i / 30
        limits = ProviderLimits.parse(bucket.take(0).headers)
        assert limits is not None and limits.requests is not None
        bound = limits.requests.refill_bound_per_s
        if bound is not None:
            assert bound >= 20 * (1 - 1e-6)  # each one an upper bound
            bounds.append(bound)
    assert min(bounds) == pytest.approx(20, rel=0.01)
