"""What every generator shares: a seeded random source, Faker, and small helpers."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from typing import TypeVar

from faker import Faker

__all__ = ["Gen", "T"]

T = TypeVar("T")

#: The span documents are dated in: fixed, so one seed gives the same documents on any day
#: (Faker's relative dates, "-6y" to "+1y", moved with the clock under an unchanged hash).
FIRST_DAY, LAST_DAY = date(2020, 1, 1), date(2027, 12, 31)


class Gen:
    """A seeded random source with Faker, so that one seed gives the same documents."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        # Several English locales: addresses, phone formats and currencies vary like real mail.
        self.fake = Faker(["en_US", "en_GB", "en_IE", "en_CA", "en_AU"])
        self.fake.seed_instance(seed)
        # Filler sentences from the US locale only: the others fall back to Latin lorem ipsum.
        self.en = Faker("en_US")
        self.en.seed_instance(seed + 1)

    def pick(self, options: Sequence[T]) -> T:
        return options[self.r.randrange(len(options))]

    def some(self, options: Sequence[T], low: int, high: int) -> list[T]:
        return self.r.sample(list(options), min(len(options), self.r.randint(low, high)))

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def date(self) -> str:
        d = self.fake.date_between(start_date=FIRST_DAY, end_date=LAST_DAY)
        return d.strftime(self.pick(["%d %B %Y", "%B %d, %Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%b %d, %Y"]))

    def money(self, low: float, high: float) -> str:
        amount = self.r.uniform(low, high)
        symbol = self.pick(["$", "€", "£", "USD ", "EUR ", "CHF ", ""])
        return f"{symbol}{amount:,.2f}"

    def company(self) -> str:
        return str(self.fake.company())

    def person(self) -> str:
        return str(self.fake.name())

    def address(self) -> str:
        return str(self.fake.address()).replace("\n", ", ")

    def heading(self, text: str) -> str:
        """A heading in the markup, or a plain capitalised line (many documents have no styles)."""
        style = self.r.random()
        if style < 0.5:
            return f"# {text}"
        if style < 0.75:
            return f"## {text}"
        return text.upper() if style < 0.88 else text

    def para(self, sentences: Sequence[str], low: int, high: int) -> str:
        return " ".join(self.some(sentences, low, high))
