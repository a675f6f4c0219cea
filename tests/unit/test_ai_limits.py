"""The AI limiter paces calls: requests per second, tokens per minute, calls in flight, pauses.

Rates are checked on a fake clock that only moves when the limiter sleeps, so the numbers are
exact and the tests take no time; the in-flight cap is checked with real tasks and events.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from doclane.ai.limits import AiLimiter
from doclane.ai.provider_limits import ProviderBucket
from tests.utils.fake_openai import ratelimit_headers
from tests.utils.fake_time import FakeTime
from tests.utils.waiting import eventually

#: Float slack when comparing times computed by repeated additions.
EPS = 1e-6
#: Limits high enough never to be the one that paces a test.
UNLIMITED_RPS = 1_000_000
UNLIMITED_TPM = 1_000_000_000


def approx(expected: Any) -> Any:
    return pytest.approx(expected, abs=1e-6)


def limiter_on(time: FakeTime, *, rps: float = UNLIMITED_RPS, tpm: float = UNLIMITED_TPM,
               concurrency: int = 1_000) -> AiLimiter:
    return AiLimiter(rps, tpm, concurrency, clock=time.clock, sleep=time.sleep)


async def concurrent_starts(limiter: AiLimiter, time: FakeTime, estimates: Sequence[int],
                            used: int | None = None) -> list[float]:
    """Start one call per estimate, in this order, all at once; when each body started."""
    starts: list[float] = [0.0] * len(estimates)

    async def one(i: int, estimate: int) -> None:
        async with limiter.call(estimate) as ticket:
            starts[i] = time.now
            ticket.used_tokens = used

    await asyncio.gather(*(one(i, e) for i, e in enumerate(estimates)))
    return starts


async def sequential_starts(limiter: AiLimiter, time: FakeTime, estimates: Sequence[int],
                            used: int | None = None) -> list[float]:
    """Make the calls one after the other, each settled before the next is asked for."""
    starts = []
    for estimate in estimates:
        async with limiter.call(estimate) as ticket:
            starts.append(time.now)
            ticket.used_tokens = used
    return starts


def most_in_window(starts: Sequence[float], weights: Sequence[float], window_s: float) -> float:
    """The largest total weight of starts in any closed window ``[t, t + window_s]``."""
    return max(
        sum(w for s, w in zip(starts, weights, strict=True) if t - EPS <= s <= t + window_s + EPS)
        for t in starts
    )


# --- requests per second -----------------------------------------------------------------------


async def test_call_starts_never_exceed_the_requests_per_second():
    time = FakeTime()
    rps = 5
    limiter = limiter_on(time, rps=rps)

    starts = await concurrent_starts(limiter, time, [10] * 50)

    # One request in the bucket, no burst at start-up: a window of T seconds sees at most
    # rps * T + 1 starts (the credit for late wake-ups is not used: this clock is never late).
    burst = 1
    ones = [1.0] * len(starts)
    for window_s in (0.2, 0.5, 1, 2, 5):
        assert most_in_window(starts, ones, window_s) <= burst + rps * window_s
    assert most_in_window(starts, ones, 1) == 6  # 5 + 1 in any second, never more
    # After the first call, one every 1/rps seconds: 50 calls take about 50/5 s.
    assert max(starts) == approx((50 - burst) / rps)


# --- calls in flight ---------------------------------------------------------------------------


async def test_no_more_than_concurrency_calls_run_at_once():
    limiter = AiLimiter(UNLIMITED_RPS, UNLIMITED_TPM, 3)
    release = asyncio.Semaphore(0)
    running = peak = finished = 0

    async def one() -> None:
        nonlocal running, peak, finished
        async with limiter.call(10):
            running += 1
            peak = max(peak, running)
            await release.acquire()
            running -= 1
        finished += 1

    tasks = [asyncio.create_task(one()) for _ in range(10)]
    try:
        await eventually(lambda: running == 3, timeout_s=5, what="three calls in flight")
        for _ in range(20):  # give the seven others every chance to get in (no time passes)
            await asyncio.sleep(0)
        assert running == 3
        for done in range(1, 11):  # each finished call lets one more in, up to the cap
            release.release()
            await eventually(lambda done=done: finished == done and running == min(3, 10 - done),
                             timeout_s=5, what=f"{done} calls done, the next ones in")
            assert peak == 3
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    finally:
        for task in tasks:
            task.cancel()
    assert peak == 3


# --- tokens per minute -------------------------------------------------------------------------


async def test_tokens_started_in_any_minute_stay_within_the_rate_plus_the_burst():
    time = FakeTime()
    tpm = 6000
    limiter = limiter_on(time, tpm=tpm)

    starts = await concurrent_starts(limiter, time, [1000] * 20)

    burst = tpm / 60 * 10  # the token bucket holds ten seconds' worth
    assert most_in_window(starts, [1000] * 20, 60) <= burst + tpm
    # 1000 tokens at 100 tokens/s: one call every ten seconds after the first.
    assert max(starts) == approx(19 * 10)


async def test_tokens_not_used_are_given_back_so_later_calls_start_sooner():
    charged_time, refunded_time = FakeTime(), FakeTime()

    charged = await sequential_starts(limiter_on(charged_time, tpm=6000), charged_time, [1000] * 6)
    refunded = await sequential_starts(limiter_on(refunded_time, tpm=6000), refunded_time,
                                       [1000] * 6, used=200)

    assert refunded[-1] < charged[-1]
    # Each call really cost 200 tokens, two seconds at 100 tokens/s: that is all the pacing.
    assert refunded == approx([0, 2, 4, 6, 8, 10])
    assert charged == approx([0, 10, 20, 30, 40, 50])


async def test_tokens_used_beyond_the_estimate_delay_later_calls():
    time = FakeTime()
    limiter = limiter_on(time, tpm=6000)

    starts = await sequential_starts(limiter, time, [1000] * 3, used=3000)

    # 3000 tokens a call at 100 tokens/s: thirty seconds between calls, not ten.
    assert starts == approx([0, 30, 60])


async def test_a_failed_call_gets_the_answers_token_cap_back():
    time = FakeTime()
    limiter = limiter_on(time, tpm=6000)  # 100 tokens/s, burst 1000

    with pytest.raises(RuntimeError):
        async with limiter.call(1000, output_tokens=800):
            raise RuntimeError("the provider failed")  # no answer: its 800 tokens weren't spent
    [start] = await sequential_starts(limiter, time, [1000])

    # Only the 200 prompt tokens stay charged: two seconds at 100 tokens/s, not ten.
    assert start == approx(2)


async def test_a_call_estimated_above_the_burst_is_charged_in_full():
    """An estimate bigger than ten seconds' worth of tokens still counts whole against the rate.

    With the defaults (400,000 tokens/min, so a burst of ~66,700, and up to 100,000 input
    tokens a call) a large reduce call is in this case.
    """
    time = FakeTime()
    limiter = limiter_on(time, tpm=6000)  # burst: 1000 tokens

    starts = await sequential_starts(limiter, time, [3000] * 4, used=3000)

    # 4 x 3000 tokens at 100 tokens/s: the last call cannot start before 3 x 30 s.
    assert starts == approx([0, 30, 60, 90])


# --- Retry-After -------------------------------------------------------------------------------


async def test_a_pause_delays_every_call_not_only_the_next_one():
    time = FakeTime()
    limiter = limiter_on(time)

    limiter.pause(2)
    starts = await concurrent_starts(limiter, time, [10] * 4)

    assert all(start >= 2 - EPS for start in starts)


async def test_a_pause_asked_during_a_call_holds_back_the_calls_that_follow():
    time = FakeTime()
    limiter = limiter_on(time)

    async with limiter.call(10):
        limiter.pause(5)  # this call got a 429 with Retry-After: 5
        limiter.pause(1)  # a shorter pause asked later does not cut the longer one short
    starts = await concurrent_starts(limiter, time, [10] * 3)

    assert min(starts) >= 5 - EPS


# --- fairness ----------------------------------------------------------------------------------


async def test_a_big_call_is_not_overtaken_by_small_calls_queued_after_it():
    time = FakeTime()
    limiter = limiter_on(time, tpm=6000)  # 100 tokens/s, burst 1000
    await sequential_starts(limiter, time, [1000])  # empty the bucket

    big, *small = await concurrent_starts(limiter, time, [1000, 100, 100, 100])

    # Small calls could each have started after one second, but they arrived after the big one.
    assert big == approx(10)
    assert small == approx([11, 12, 13])


class LateTime(FakeTime):
    """A clock whose sleeps end ``late_s`` after they were due, as a loaded event loop's do."""

    def __init__(self, late_s: float) -> None:
        super().__init__()
        self.late_s = late_s

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds + self.late_s)


async def test_late_wake_ups_are_caught_up_so_a_saturated_limiter_keeps_its_rate():
    time = LateTime(0.02)
    limiter = limiter_on(time, rps=20)

    starts = await concurrent_starts(limiter, time, [10] * 100)

    # Woken 20 ms late each time, with no credit to catch up it would start one call every
    # 70 ms (14.3 a second); the lateness left as credit to the calls queued behind keeps 20.
    assert (len(starts) - 1) / (max(starts) - min(starts)) == pytest.approx(20, rel=0.02)


# --- adapting to the provider's limits ---------------------------------------------------------


async def calls_through_a_provider(limiter: AiLimiter, time: FakeTime, provider: ProviderBucket,
                                   count: int) -> tuple[list[float], int]:
    """Sequential calls that each pass the provider's bucket and read its headers back:
    when each started, and how many the provider refused."""
    starts, refused = [], 0
    for _ in range(count):
        async with limiter.call(10) as ticket:
            starts.append(time.now)
            verdict = provider.take(0)
            ticket.observe(verdict.headers)
            if not verdict.allowed:
                refused += 1
                ticket.rate_limited(verdict.retry_after_s)
    return starts, refused


async def test_the_pace_comes_down_to_a_provider_slower_than_configured_without_a_refusal():
    time = FakeTime()
    limiter = limiter_on(time, rps=30)  # configured 50% above what the provider allows
    provider = ProviderBucket(requests_per_s=20, tokens_per_min=None, clock=time.clock)

    starts, refused = await calls_through_a_provider(limiter, time, provider, 400)

    assert refused == 0
    assert limiter.provider_requests_per_s == approx(20)
    assert limiter.requests_per_s == approx(20)
    # Past the first second, 20 starts a second on average: a snapshot's remaining is rounded
    # down, so the rate it tells may be a little high for a while, and the headroom the
    # provider reports brings the pace back before its bucket runs dry.
    settled = [start for start in starts if start >= 1]
    assert (len(settled) - 1) / (settled[-1] - settled[0]) == pytest.approx(20, rel=0.05)


async def test_the_pace_never_exceeds_the_configured_rate_under_a_faster_provider():
    time = FakeTime()
    limiter = limiter_on(time, rps=10)
    provider = ProviderBucket(requests_per_s=50, tokens_per_min=None, clock=time.clock)

    starts, refused = await calls_through_a_provider(limiter, time, provider, 100)

    assert refused == 0
    assert limiter.requests_per_s == approx(10)
    assert most_in_window(starts, [1.0] * 100, 1) <= 10 + 1


async def test_a_429_that_hit_the_limit_cuts_the_rate_which_grows_back_to_the_configured_one():
    time = FakeTime()
    limiter = limiter_on(time, rps=10)

    async with limiter.call(10) as ticket:
        ticket.rate_limited(None)  # no headers: the limit, for all we know

    assert limiter.requests_per_s == approx(7)
    await time.sleep(5)
    assert limiter.requests_per_s == approx(8.5)  # 3% of the limit a second
    await time.sleep(100)
    assert limiter.requests_per_s == approx(10)  # and never above it


async def test_calls_sent_before_a_cut_do_not_cut_again():
    time = FakeTime()
    limiter = limiter_on(time, rps=10)
    async with limiter.call(10) as first, limiter.call(10) as second:
        first.rate_limited(None)
        second.rate_limited(None)  # the same overload, answered by the same cut
    assert limiter.requests_per_s == approx(7)

    await time.sleep(0.5)
    async with limiter.call(10) as later:  # sent after the cut: the rate is still too high
        later.rate_limited(None)
    # 70% again, of 70% and the 3% a second grown back in the half second since.
    assert limiter.requests_per_s == approx(10 * 0.7 * (0.7 + 0.03 * 0.5))


async def test_a_429_with_plenty_left_pauses_every_call_but_keeps_the_rate():
    time = FakeTime()
    limiter = limiter_on(time, rps=10)

    async with limiter.call(10) as ticket:
        ticket.observe(ratelimit_headers(limit=100, remaining=80, reset_s=2))
        ticket.rate_limited(3)  # refused although its buckets are far from empty
    starts = await concurrent_starts(limiter, time, [10] * 3)

    assert limiter.requests_per_s == approx(10)
    assert min(starts) >= 3 - EPS


async def test_other_failures_change_no_rate():
    time = FakeTime()
    limiter = limiter_on(time, rps=10)
    with pytest.raises(RuntimeError):
        async with limiter.call(10):
            raise RuntimeError("HTTP 500")
    assert limiter.requests_per_s == approx(10)


@pytest.mark.parametrize(("remaining", "pace"), [(20, 1.0), (10, 1.0), (5, 0.55), (0, 0.1)])
async def test_the_less_the_provider_has_left_the_slower_the_pace(remaining: float, pace: float):
    time = FakeTime()
    limiter = limiter_on(time, rps=100)

    async with limiter.call(10) as ticket:
        # A bucket of 20 refilling 20 a second (empty: full again in 1 s).
        ticket.observe(ratelimit_headers(limit=20, remaining=remaining, reset_s=(20 - remaining) / 20))

    provider_rate = 20 if remaining < 20 else 100  # a full bucket tells no rate
    assert limiter.requests_per_s == approx(provider_rate * pace)


async def test_an_older_answer_does_not_override_the_headroom_of_a_newer_one():
    time = FakeTime()
    limiter = limiter_on(time, rps=10)
    async with limiter.call(10) as older:
        await time.sleep(1)
        async with limiter.call(10) as newer:
            newer.observe(ratelimit_headers(limit=20, remaining=18, reset_s=0.1))
        older.observe(ratelimit_headers(limit=20, remaining=0, reset_s=1))  # arrives late
    assert limiter.requests_per_s == approx(10)  # the newer, roomier answer still rules


async def test_the_provider_s_rate_is_the_tightest_bound_its_answers_gave():
    time = FakeTime()
    limiter = limiter_on(time, rps=100)

    # A bucket of 20 refilling 20 a second: half empty, it tells 20 a second; nearly full, its
    # rounded-down remaining (19 of 19.6) tells 1 missing in 20 ms, 50 a second, which is too high.
    for remaining, reset_s in ((10, 0.5), (19, 0.02)):
        async with limiter.call(10) as ticket:
            ticket.observe(ratelimit_headers(limit=20, remaining=remaining, reset_s=reset_s))

    assert limiter.provider_requests_per_s == approx(20)
    assert limiter.requests_per_s == approx(20)


async def test_tokens_follow_the_provider_token_limit():
    time = FakeTime()
    limiter = limiter_on(time, tpm=600_000)

    async with limiter.call(10) as ticket:  # 6,000 a minute: 1,000 tokens back in 10 s
        ticket.observe(ratelimit_headers(limit=6000, remaining=5000, reset_s=10, kind="tokens"))

    assert limiter.tokens_per_min == approx(6000)
    assert limiter.requests_per_s == approx(UNLIMITED_RPS)


async def test_every_concurrent_call_follows_what_one_answer_said():
    time = FakeTime()
    limiter = limiter_on(time, rps=100)
    starts: list[float] = [0.0] * 10

    async def one(i: int) -> None:
        async with limiter.call(10) as ticket:
            starts[i] = time.now
            if i == 0:  # the first answer: the provider allows 10 a second
                ticket.observe(ratelimit_headers(limit=10, remaining=9, reset_s=0.1))

    await asyncio.gather(*(one(i) for i in range(10)))

    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps[-5:] == approx([0.1] * 5)  # once the bucket's credit is spent: 10 a second
