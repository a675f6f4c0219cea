"""Normalised values of entity mentions: ISO dates, amounts with currency, plain phones.

Each function takes the mention's text and returns the value stored in
``Entity.value``. They never fail: a mention they cannot read (a relative date,
an amount without digits) keeps its tidied text, so a value is always present.
"""

from __future__ import annotations

import re
from datetime import date

from doclane.schemas.enrichment import EntityLabel

__all__ = ["normalise", "normalise_date", "normalise_money", "normalise_phone", "tidy"]

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH_RE = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY_RE = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR_RE = r"(?P<year>\d{4})"
_WEEKDAY_RE = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"

#: Full dates a reader can resolve to one day; anything else stays text.
_DATE_FORMS = [
    re.compile(rf"^{_YEAR_RE}-(?P<month_n>\d{{1,2}})-(?P<day>\d{{1,2}})$"),
    re.compile(rf"^{_WEEKDAY_RE}{_MONTH_RE}\s+{_DAY_RE},?\s+{_YEAR_RE}$", re.I),
    re.compile(rf"^{_WEEKDAY_RE}(?:the\s+)?{_DAY_RE}\s+(?:of\s+)?{_MONTH_RE},?\s+{_YEAR_RE}$", re.I),
]
_NUMERIC_DATE = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})$")

_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = " \t\n\r.,;:!?\"'()[]{}<>«»“”‘’"


def tidy(text: str) -> str:
    """One space between words, no quotes or punctuation hanging at either end."""
    return _SPACE.sub(" ", text).strip(_EDGE_PUNCT) or text.strip()


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def normalise_date(text: str) -> str:
    """``2025-03-03`` for a date naming one day; relative or partial dates stay text.

    Numeric dates: ``dd.mm.yyyy`` is read day first (the European form with dots);
    with slashes the American month-first reading is used unless the first number
    cannot be a month (``25/03/2025``).
    """
    cleaned = tidy(text)
    for form in _DATE_FORMS:
        m = form.match(cleaned)
        if m is None:
            continue
        groups = m.groupdict()
        month = int(groups["month_n"]) if groups.get("month_n") else _MONTHS[groups["month"][:3].lower()]
        iso = _iso(int(groups["year"]), month, int(groups["day"]))
        return iso or cleaned
    m = _NUMERIC_DATE.match(cleaned)
    if m is not None:
        a, b, year = int(m["a"]), int(m["b"]), int(m["year"])
        if year < 100:
            year += 2000 if year < 70 else 1900
        day, month = (a, b) if m["sep"] == "." or a > 12 else (b, a)
        return _iso(year, month, day) or cleaned
    return cleaned


_CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
                     "A$": "AUD", "C$": "CAD", "CA$": "CAD", "AU$": "AUD", "CHF": "CHF", "Fr.": "CHF",
                     "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "N$": "NAD", "R$": "BRL", "₦": "NGN",
                     "₱": "PHP", "₩": "KRW", "₺": "TRY", "₽": "RUB", "₴": "UAH", "₪": "ILS"}
_CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "usd": "USD", "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "sterling": "GBP", "yen": "JPY", "jpy": "JPY",
    "chf": "CHF", "francs": "CHF", "cad": "CAD", "aud": "AUD", "inr": "INR", "rupees": "INR",
    "sek": "SEK", "nok": "NOK", "dkk": "DKK", "pln": "PLN", "sgd": "SGD", "nzd": "NZD",
    "mxn": "MXN", "brl": "BRL", "zar": "ZAR", "cny": "CNY", "hkd": "HKD", "rs": "INR", "rand": "ZAR",
    "naira": "NGN", "shillings": "KES", "r": "ZAR",
    **{code.lower(): code for code in (
        "KES", "NGN", "GHS", "UGX", "TZS", "RWF", "ETB", "EGP", "MAD", "AED", "SAR", "QAR", "KWD", "ILS",
        "TRY", "RUB", "UAH", "CZK", "HUF", "RON", "KRW", "THB", "IDR", "MYR", "VND", "PKR", "BDT", "LKR",
        "NPR", "TWD", "ARS", "CLP", "COP", "PEN", "XOF", "XAF")},
}
_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mm": 1_000_000, "mn": 1_000_000,
                "million": 1_000_000, "bn": 1_000_000_000, "b": 1_000_000_000,
                "billion": 1_000_000_000, "lakh": 100_000, "lakhs": 100_000, "crore": 10_000_000,
                "crores": 10_000_000}
_NUMBER = re.compile(r"\d[\d.,'\s]*\d|\d")
_MULTIPLIER_AFTER = re.compile(r"^\s*(k|mm|mn|m|bn|b|thousand|million|billion|lakhs?|crores?)\b", re.I)


def _currency(text: str) -> str | None:
    for symbol in sorted(_CURRENCY_SYMBOLS, key=len, reverse=True):
        if symbol in text:
            return _CURRENCY_SYMBOLS[symbol]
    for word in re.findall(r"[A-Za-z]+", text):
        code = _CURRENCY_WORDS.get(word.lower())
        if code is not None:
            return code
    return None


def _amount(number: str) -> float | None:
    """The value of ``1,250.00``, ``1.250,00``, ``1 250`` or ``12'500``.

    The last separator is the decimal point when it has one or two digits after
    it, or when both ``.`` and ``,`` occur; a lone separator before three digits
    groups thousands.
    """
    digits = re.sub(r"[\s']", "", number)
    seps = [i for i, c in enumerate(digits) if c in ".,"]
    if not seps:
        return float(digits)
    last = seps[-1]
    after = len(digits) - last - 1
    both = "." in digits and "," in digits
    if both or after in (1, 2) or (after != 3):
        whole = re.sub(r"[.,]", "", digits[:last])
        frac = digits[last + 1:]
        try:
            return float(f"{whole or 0}.{frac or 0}")
        except ValueError:
            return None
    try:
        return float(re.sub(r"[.,]", "", digits))
    except ValueError:
        return None


def normalise_money(text: str) -> str:
    """``1250.00 USD``; the amount alone when no currency is named; else the text."""
    cleaned = tidy(text)
    m = _NUMBER.search(cleaned)
    if m is None:
        return cleaned
    amount = _amount(m.group(0))
    if amount is None:
        return cleaned
    mult = _MULTIPLIER_AFTER.match(cleaned[m.end():])
    if mult is not None:
        amount *= _MULTIPLIERS[mult.group(1).lower()]
    currency = _currency(cleaned[: m.start()] + " " + cleaned[m.end():])
    value = f"{amount:.2f}"
    return f"{value} {currency}" if currency else value


def normalise_phone(text: str) -> str:
    """Digits only, with a leading ``+`` when the number is international.

    ``+44 (0)20 7946 0958`` drops the ``(0)`` a caller from abroad skips; a
    ``00`` prefix is the international ``+``.
    """
    cleaned = text.strip()
    international = cleaned.startswith(("+", "00"))
    if international:
        cleaned = cleaned.replace("(0)", "")
    digits = re.sub(r"\D", "", cleaned)
    if cleaned.startswith("00"):
        digits = digits[2:]
    return f"+{digits}" if international else digits


def normalise(label: EntityLabel, text: str) -> str:
    """The normalised value of a mention of ``label``."""
    if label is EntityLabel.DATE:
        return normalise_date(text)
    if label is EntityLabel.MONEY:
        return normalise_money(text)
    if label is EntityLabel.EMAIL:
        return text.strip().lower()
    if label is EntityLabel.PHONE:
        return normalise_phone(text)
    return tidy(text)
