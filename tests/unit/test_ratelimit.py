"""Token buckets on a fake clock: exact, no sleeping."""

from __future__ import annotations

import pytest

from doclane.infra.ratelimit import KeyedLimiter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_steady_rate():
    clock = Clock()
    bucket = TokenBucket(rate_per_s=2, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(3)] == [0, 0, 0]
    assert bucket.try_take() == pytest.approx(0.5)  # one token every half second
    clock.now = 0.5
    assert bucket.try_take() == 0
    assert bucket.try_take(2) == pytest.approx(1.0)


def test_the_bucket_never_holds_more_than_the_burst():
    clock = Clock()
    bucket = TokenBucket(rate_per_s=1, burst=2, clock=clock)
    clock.now = 100
    assert bucket.try_take(2) == 0
    assert bucket.try_take() == pytest.approx(1.0)


def test_keys_have_their_own_buckets():
    clock = Clock()
    limiter = KeyedLimiter(rate_per_s=1, burst=1, clock=clock)
    assert limiter.try_take("alice") == 0
    assert limiter.try_take("alice") > 0
    assert limiter.try_take("bob") == 0


def test_peeking_takes_nothing_and_a_charge_puts_the_bucket_in_debt():
    clock = Clock()
    bucket = TokenBucket(rate_per_s=10, burst=10, clock=clock)
    assert bucket.wait_s(10) == 0
    assert bucket.try_take(10) == 0  # peeking took nothing
    bucket.adjust(-5)  # the call cost more than estimated
    assert bucket.wait_s(1) == pytest.approx(0.6)
    clock.now += 0.6
    assert bucket.try_take(1) == 0


def test_an_oversized_request_waits_for_a_full_bucket_instead_of_forever():
    clock = Clock()
    bucket = TokenBucket(rate_per_s=1, burst=2, clock=clock)
    assert bucket.try_take(2) == 0
    assert bucket.try_take(5) == pytest.approx(2)
    clock.now += 2
    assert bucket.try_take(5) == 0
