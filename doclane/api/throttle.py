"""Slows down password guessing at ``POST /auth/login`` without locking anyone out for good.

Failed logins are counted per (user, client), per user and per client. Past a few free
failures each key must wait before its next attempt, twice as long after every
further failure, up to a cap; a success clears the user's keys, and a key forgotten
after a quiet period starts over. So a guesser is slowed to a trickle, while the real
user, who is throttled only for the cap at worst, gets in as soon as it passes.

The counts live in the gateway's memory: several gateways each slow a guesser down
on their own (the bound per gateway holds; a revocation, by contrast, must reach all
of them and lives in the store).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LoginThrottle", "Rule"]


@dataclass(frozen=True)
class Rule:
    """``free`` failures without delay, then ``base_s`` doubling per failure up to ``cap_s``."""

    free: int
    base_s: float
    cap_s: float


#: (user, client): the usual guesser. user: a guesser spread over many addresses.
#: client: one address trying many names.
_RULES = {"pair": Rule(free=5, base_s=1, cap_s=60), "user": Rule(free=20, base_s=1, cap_s=60),
          "client": Rule(free=30, base_s=1, cap_s=300)}
#: A key unused this long is forgotten, so memory stays bounded by recent traffic.
_FORGET_S = 900.0
_MAX_KEYS = 100_000


@dataclass
class _Count:
    failures: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    def __init__(self, rules: dict[str, Rule] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rules = rules or _RULES
        self._clock = clock
        self._counts: dict[tuple[str, str], _Count] = {}

    def _keys(self, user: str, client: str) -> list[tuple[str, str]]:
        return [("pair", f"{user}\x00{client}"), ("user", user), ("client", client)]

    def wait_s(self, user: str, client: str) -> int:
        """Whole seconds to wait before this attempt may be checked (0: go ahead)."""
        now = self._clock()
        waits = [c.blocked_until - now for k in self._keys(user, client)
                 if (c := self._counts.get(k)) is not None]
        longest = max(waits, default=0.0)
        return math.ceil(longest) if longest > 0 else 0

    def failed(self, user: str, client: str) -> None:
        now = self._clock()
        if len(self._counts) >= _MAX_KEYS:
            self._forget(now)
        for key in self._keys(user, client):
            count = self._counts.setdefault(key, _Count())
            count.failures += 1
            count.last = now
            rule = self._rules[key[0]]
            over = count.failures - rule.free
            if over > 0:
                count.blocked_until = now + min(rule.cap_s, rule.base_s * 2 ** min(over - 1, 30))

    def succeeded(self, user: str, client: str) -> None:
        # The client's count stays: one right password must not reset a sweep of names.
        for key in self._keys(user, client)[:2]:
            self._counts.pop(key, None)

    def _forget(self, now: float) -> None:
        for key in [k for k, c in self._counts.items() if now - c.last > _FORGET_S]:
            del self._counts[key]
        while len(self._counts) >= _MAX_KEYS:  # all recent: drop the oldest
            del self._counts[min(self._counts, key=lambda k: self._counts[k].last)]
