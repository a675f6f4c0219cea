"""A provider's rate limits as it reports them in headers, and a provider that enforces them.

OpenAI (and compatible servers that copy it) sends, on every answer and on a ``429``::

    x-ratelimit-limit-requests: 500        x-ratelimit-limit-tokens: 30000
    x-ratelimit-remaining-requests: 499    x-ratelimit-remaining-tokens: 29000
    x-ratelimit-reset-requests: 120ms      x-ratelimit-reset-tokens: 2s

``limit`` is what the bucket holds when full, ``remaining`` what it holds now, and ``reset``
how long until it is full again, written as a Go duration (``"1s"``, ``"6m0s"``, ``"20ms"``,
``"1.5µs"``). The bucket refills at a steady rate, so a snapshot bounds that rate from above:
``(limit - remaining) / reset`` (``remaining`` is rounded down, so what is missing is at most
``limit - remaining``). :class:`ProviderLimits` parses a snapshot; the limiter
(:mod:`doclane.ai.limits`) paces to it.

:class:`ProviderBucket` is the other side: the limit of a simulated provider (the ``mock``
provider, and the OpenAI-compatible fake server of the tests), which answers ``429`` only
when a request exceeds it and sends these headers with every answer.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["LimitSnapshot", "ProviderBucket", "ProviderLimits", "TokenBucket", "Verdict",
           "format_duration", "parse_duration"]

_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION = re.compile(rf"(?:{_PART.pattern})+")


def parse_duration(text: str) -> float | None:
    """Seconds in a Go duration (``"6m0s"``, ``"1.5s"``, ``"20ms"``) or a plain number of seconds.

    ``None`` when ``text`` is neither (the header is then ignored, not trusted).
    """
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        if not _DURATION.fullmatch(text):
            return None
        seconds = sum(float(number) * _UNIT_S[unit] for number, unit in _PART.findall(text))
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def format_duration(seconds: float) -> str:
    """``seconds`` as Go prints a duration, to the microsecond: ``"0s"``, ``"20ms"``, ``"6m0s"``."""
    micros = round(max(0.0, seconds) * 1e6)
    if micros == 0:
        return "0s"
    if micros < 1000:
        return f"{micros}µs"
    if micros < 1_000_000:
        return f"{_trim(micros / 1000)}ms"
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    text = f"{_trim(rest / 1e6)}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    return f"{hours}h{text}" if hours else text


def _trim(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class LimitSnapshot:
    """One limit (requests or tokens) as a provider reported it."""

    limit: float
    remaining: float
    reset_s: float

    @property
    def headroom(self) -> float:
        """Share of the bucket still available, 0 to 1."""
        return min(1.0, max(0.0, self.remaining / self.limit))

    @property
    def refill_bound_per_s(self) -> float | None:
        """An upper bound of the refill rate, or ``None`` when the snapshot says nothing of it.

        The bucket misses at most ``limit - remaining`` (remaining is rounded down) and
        refills that in ``reset_s``; the smallest bound over several snapshots is close to
        the true rate.
        """
        missing = self.limit - self.remaining
        if missing <= 0 or self.reset_s <= 0:
            return None
        return missing / self.reset_s


@dataclass(frozen=True)
class ProviderLimits:
    """The rate-limit headers of one answer; either part is ``None`` when not sent (or garbled)."""

    requests: LimitSnapshot | None
    tokens: LimitSnapshot | None

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> ProviderLimits | None:
        """The ``x-ratelimit-*`` headers of an answer, ``None`` if it had none that parse."""
        lower = {key.lower(): value for key, value in headers.items()}
        requests, tokens = _snapshot(lower, "requests"), _snapshot(lower, "tokens")
        if requests is None and tokens is None:
            return None
        return cls(requests, tokens)

    def headers(self) -> dict[str, str]:
        """The snapshot as OpenAI writes it (a simulated provider sends these)."""
        out: dict[str, str] = {}
        for kind, snap in (("requests", self.requests), ("tokens", self.tokens)):
            if snap is not None:
                out[f"x-ratelimit-limit-{kind}"] = f"{snap.limit:.0f}"
                out[f"x-ratelimit-remaining-{kind}"] = f"{max(0.0, snap.remaining):.0f}"
                out[f"x-ratelimit-reset-{kind}"] = format_duration(snap.reset_s)
        return out


def _snapshot(headers: Mapping[str, str], kind: str) -> LimitSnapshot | None:
    try:
        limit = float(headers[f"x-ratelimit-limit-{kind}"])
        remaining = float(headers[f"x-ratelimit-remaining-{kind}"])
    except (KeyError, ValueError):
        return None
    reset_s = parse_duration(headers.get(f"x-ratelimit-reset-{kind}", ""))
    if reset_s is None or not (math.isfinite(limit) and math.isfinite(remaining)) or limit <= 0:
        return None
    return LimitSnapshot(limit=limit, remaining=max(0.0, remaining), reset_s=reset_s)


class TokenBucket:
    """A token bucket holding up to ``capacity``, refilled at ``rate`` a second; both may change
    (a change applies from now on). The limiter paces with two, a simulated provider limits with two."""

    def __init__(self, rate_per_s: float, capacity: float, clock: Callable[[], float]) -> None:
        self.rate, self.capacity, self._clock = rate_per_s, capacity, clock
        self.level, self._at = capacity, clock()

    def _refill(self) -> None:
        now = self._clock()
        self.level = min(self.capacity, self.level + (now - self._at) * self.rate)
        self._at = now

    def retune(self, rate_per_s: float, capacity: float) -> None:
        self._refill()
        self.rate, self.capacity = rate_per_s, capacity
        self.level = min(self.level, capacity)

    def wait_s(self, amount: float) -> float:
        """0 if ``amount`` fits now; else how long until it does (an amount over the capacity
        waits for a full bucket, as it would otherwise wait forever)."""
        self._refill()
        amount = min(amount, self.capacity)
        return 0.0 if amount <= self.level else (amount - self.level) / self.rate

    def adjust(self, amount: float) -> None:
        """Give back (positive) or charge (negative); a charge may leave the bucket in debt."""
        self._refill()
        self.level = min(self.capacity, self.level + amount)

    def snapshot(self) -> LimitSnapshot:
        """What the bucket holds, as a provider reports it (``remaining`` rounded down)."""
        self._refill()
        return LimitSnapshot(limit=self.capacity, remaining=math.floor(max(0.0, self.level)),
                             reset_s=(self.capacity - self.level) / self.rate)


# --- the provider's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a simulated provider answers a request: go ahead or ``429``, with its headers."""

    allowed: bool
    #: How long until the request would fit (0 when allowed): the ``429``'s ``Retry-After``.
    retry_after_s: float
    headers: dict[str, str]


class ProviderBucket:
    """A provider's limits: ``requests_per_s`` and ``tokens_per_min``, each a token bucket.

    The request bucket holds one second of requests (at least one), the token bucket one
    minute of tokens, as OpenAI's per-minute token limit does. A request takes one request
    and its tokens (the prompt plus the answer's cap, counted on arrival, as OpenAI counts
    ``max_tokens``) if both buckets hold enough; otherwise it is refused and takes nothing.
    Either limit may be ``None`` (unlimited, and not reported).
    """

    def __init__(self, requests_per_s: float | None, tokens_per_min: float | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._requests = (TokenBucket(requests_per_s, max(1.0, requests_per_s), clock)
                          if requests_per_s else None)
        self._tokens = TokenBucket(tokens_per_min / 60, tokens_per_min, clock) if tokens_per_min else None

    def take(self, tokens: float) -> Verdict:
        """Charge one request of ``tokens`` tokens, or refuse it; the headers either way."""
        buckets = [(b, n) for b, n in ((self._requests, 1.0), (self._tokens, tokens)) if b is not None]
        wait = max((b.wait_s(n) for b, n in buckets), default=0.0)
        if wait == 0:
            for bucket, n in buckets:
                bucket.adjust(-n)
        limits = ProviderLimits(
            self._requests.snapshot() if self._requests else None,
            self._tokens.snapshot() if self._tokens else None,
        )
        return Verdict(allowed=wait == 0, retry_after_s=wait, headers=limits.headers())
