"""Rules for the mentions a pattern finds better than a statistical model.

Emails and phone numbers have a fixed shape, amounts of money a currency sign or
code next to a number, and numeric dates (``2025-03-03``, ``03/03/2025``) are cut
into several tokens by spaCy's tokenizer, which the model then misreads; quarters
and fiscal years (``Q3 2024``, ``FY2025``) are codes the model splits. A rule
match wins over any model span it overlaps (see :mod:`doclane.ai.ner.spacy_ner`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from doclane.schemas.enrichment import EntityLabel

__all__ = ["RuleSpan", "find_rule_spans"]


class RuleSpan(NamedTuple):
    start: int
    end: int
    label: EntityLabel


_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)

# International numbers (+CC or 00CC, then 6-14 more digits in groups), and the national
# forms seen in documents: (555) 123-4567, 555-123-4567, 555.123.4567, 020 7946 0958,
# 030 1234567. Digits around them must not continue (ids, IBANs, amounts).
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d\s)(?:"
    r"(?:\+|00)\d{1,3}(?:[\s.-]?\(0\))?(?:[\s.-]?\(?\d{1,5}\)?){2,5}"
    r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}"
    r"|\d{3}[.-]\d{3}[.-]\d{4}"
    r"|0\d{2,4}[\s-]\d{3,4}[\s-]?\d{3,4}"
    r"|\(0\d{1,4}\)\s?\d{3,4}[\s-]?\d{3,4}"
    r")(?![\w-]|[.,]\d)"
)
# A phone's digits need a group structure; "+2,500" or "+15%" are not numbers to call.
_PHONE_MIN_DIGITS = 7

_CUR_SIGN = r"(?:US\$|CA\$|AU\$|NZ\$|HK\$|S\$|N\$|R\$|A\$|C\$|Rs\.?|[$€£¥₹₦₱₩₺₽₴₪])"
_CUR_CODE = (r"(?:USD|EUR|GBP|CHF|CAD|AUD|JPY|INR|SEK|NOK|DKK|PLN|SGD|NZD|MXN|BRL|ZAR|CNY|HKD|KES|NGN|GHS|"
             r"UGX|TZS|RWF|ETB|EGP|MAD|AED|SAR|QAR|KWD|ILS|TRY|RUB|UAH|CZK|HUF|RON|KRW|THB|IDR|MYR|VND|"
             r"PKR|BDT|LKR|NPR|TWD|ARS|CLP|COP|PEN|XOF|XAF)")
_CUR_WORD = r"(?:dollars|euros?|pounds(?:\s+sterling)?|yen|francs|rupees|naira|shillings|rand)"
# Thousands grouped by commas, points, apostrophes or (thin) spaces, and the Indian lakh/crore
# grouping (1,18,000; 2,36,00,000).
_AMOUNT = (r"\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d{1,2})?(?!\d)"
           r"|\d{1,3}(?:(?:[,.'\s\u202f]\d{3})+)?(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?")
_SCALE = r"(?:\s?(?:k|K|m|M|mm|MM|bn|BN)\b|\s(?:thousand|million|billion|lakhs?|crores?)\b)?"
# The South African rand's "R" is a letter too: only before an amount of at least three
# digits ("R250 000", "R 4 250"), never inside a word ("R2-D2", "R&D").
_RAND = r"R\s?\d{1,3}(?:[\s,]\d{3})+(?:[.,]\d{2})?(?!\d)|R\d{3,}(?:[.,]\d{2})?(?!\d)"
_MONEY = re.compile(
    rf"(?<![\w$€£¥₹])(?:"
    rf"{_CUR_SIGN}\s?(?:{_AMOUNT}){_SCALE}(?:\s?{_CUR_CODE}\b)?"
    rf"|{_CUR_CODE}\s?(?:{_AMOUNT}){_SCALE}"
    rf"|(?:{_AMOUNT}){_SCALE}\s?(?:{_CUR_CODE}|{_CUR_SIGN}|{_CUR_WORD})(?![A-Za-z])"
    rf"|(?:{_RAND})(?:\s(?:thousand|million|billion)\b|\s?(?:m|bn)\b)?"
    rf"|R\s?\d{{1,3}}(?:[.,]\d{{1,2}})?(?:\s(?:million|billion)\b|\s?(?:m|bn)\b)"
    rf")"
)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?:19|20)\d{2}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])([/.])(?:0?[1-9]|[12]\d|3[01])\1(?:19|20)\d{2}"
    rf"|{_MONTH}\s(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?,?\s(?:19|20)\d{{2}}"
    rf"|(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s(?:of\s)?{_MONTH},?\s(?:19|20)\d{{2}}"
    r")(?![\w/-]|\.\d)"
)
# Quarters, halves and fiscal years: "Q3", "Q2 2024", "H1 2025", "FY2024", "FY 24".
_PERIOD = re.compile(r"(?<![\w/-])(?:Q[1-4](?:\s(?:FY\s?)?(?:19|20)\d{2})?|H[12]\s(?:19|20)\d{2}|"
                     r"FY\s?(?:19|20)?\d{2})(?![\w/-])")


def _phones(text: str) -> list[RuleSpan]:
    spans = []
    for m in _PHONE.finditer(text):
        number = m.group(0)
        # "00" then digits without a break is an account number, not a call from abroad.
        if number.startswith("00") and number.isdigit():
            continue
        if sum(c.isdigit() for c in number) >= _PHONE_MIN_DIGITS:
            spans.append(RuleSpan(m.start(), m.end(), EntityLabel.PHONE))
    return spans


def find_rule_spans(text: str) -> list[RuleSpan]:
    """Email, phone, money and full-date mentions in ``text``, sorted, not overlapping.

    Earlier rules win where two overlap: an email's digits are never a phone, a
    phone's digits never an amount.
    """
    found: list[RuleSpan] = []
    taken: list[tuple[int, int]] = []

    def add(spans: list[RuleSpan]) -> None:
        for span in spans:
            if all(span.end <= s or span.start >= e for s, e in taken):
                found.append(span)
                taken.append((span.start, span.end))

    add([RuleSpan(m.start(), m.end(), EntityLabel.EMAIL) for m in _EMAIL.finditer(text)])
    add([RuleSpan(m.start(), m.end(), EntityLabel.DATE) for m in _DATE.finditer(text)])
    add([RuleSpan(m.start(), m.end(), EntityLabel.DATE) for m in _PERIOD.finditer(text)])
    add(_phones(text))
    add([RuleSpan(m.start(), m.end(), EntityLabel.MONEY) for m in _MONEY.finditer(text)])
    return sorted(found)
