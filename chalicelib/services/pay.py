"""Pay amounts as StackOne sends them (strings), read into numbers, and normalised to a year.

StackOne's compensation amounts are free strings written by employers in their ATS. The rules here read
the forms seen in practice:

- plain and grouped numbers: `50000`, `50,000`, `50.000` (a European thousands dot), `50 000`,
  `1.234,56` / `1,234.56` (the last separator is the decimal one when both appear);
- decimals: `52.5`, `52,5`; a single separator followed by exactly three digits is a thousands separator
  (`1.500` is 1500: pay is never stated to a thousandth);
- scientific notation: `1e5`, `1.2E5`;
- suffixes: `85k`, `$120K`, `52.5k`, `1.2m`;
- currency signs and codes around the number: `€50.000`, `USD 50000`, `50000 EUR`;
- ranges: `45000 - 55000`, `45k-55k` (also with an en or em dash), `45000 to 55000`;
- percentages: `10%` is a share (a bonus), not an amount: it is kept as a percent;
- anything else (prose, "competitive") reads as nothing.

Annual amounts: an amount per `period` (StackOne's pay_period) times periods per year: hour x 2080
(40 h x 52 weeks), day x 260, week x 52, every two weeks x 26, twice a month x 24, month x 12, every two
months x 6, quarter x 4, every six months x 2, year x 1. A one-off amount has no annual figure. An
amount with no period is taken as annual. Currencies are never converted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

PERIODS_PER_YEAR: dict[str, int] = {
    "hour": 2080,
    "day": 260,
    "week": 52,
    "every_two_weeks": 26,
    "twice_a_month": 24,
    "month": 12,
    "every_two_months": 6,
    "quarter": 4,
    "every_six_months": 2,
    "year": 1,
}
CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "₣": "CHF", "₽": "RUB"}
MAX_AMOUNT = 1e9  # above this an "amount" is a misread (a phone number, an id), not pay

_NUMBER = re.compile(
    r"(?P<number>\d+(?:[.,' \u00a0\u202f]\d+)*(?:[eE][+-]?\d+)?)\s*(?P<suffix>[kKmM](?![a-zA-Z]))?"
)
_RANGE_SPLIT = re.compile(r"\s*(?:[\u2013\u2014]|(?<=[\d kKmM€$£¥])-(?=[\s\d€$£¥])|\bto\b)\s*")
_PERCENT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*%\s*$")
_CODE = re.compile(r"\b([A-Z]{3})\b")
_SCIENTIFIC = re.compile(r"^\d+(?:\.\d+)?[eE][+-]?\d+$")


@dataclass(frozen=True, slots=True)
class ParsedPay:
    """What one StackOne amount string says: an amount or a range, or a percent; and a currency sign."""

    low: float | None = None
    high: float | None = None
    percent: float | None = None
    currency: str | None = None  # from a sign or code in the text, when there is one


def _number(text: str) -> float | None:
    """One number with thousands/decimal separators as written (see the module docstring)."""
    compact = re.sub(r"[' \u00a0\u202f]", "", text)
    if _SCIENTIFIC.match(compact):
        return float(compact)
    dots, commas = compact.count("."), compact.count(",")
    if dots and commas:
        decimal = "." if compact.rfind(".") > compact.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        compact = compact.replace(thousands, "").replace(decimal, ".")
    elif dots or commas:
        separator = "." if dots else ","
        groups = compact.split(separator)
        grouped = all(len(group) == 3 for group in groups[1:]) and 1 <= len(groups[0]) <= 3
        if len(groups) > 2 or grouped:
            if not grouped:
                return None
            compact = "".join(groups)
        else:
            compact = compact.replace(",", ".")
    try:
        return float(compact)
    except ValueError:
        return None


def _amount(text: str) -> float | None:
    match = _NUMBER.search(text)
    if match is None:
        return None
    number = _number(match.group("number"))
    if number is None:
        return None
    suffix = (match.group("suffix") or "").lower()
    number *= {"k": 1_000, "m": 1_000_000}.get(suffix, 1)
    if not math.isfinite(number) or number > MAX_AMOUNT:
        return None
    return number


def _currency(text: str) -> str | None:
    for sign, code in CURRENCY_SIGNS.items():
        if sign in text:
            return code
    found = _CODE.search(text)
    return found.group(1) if found else None


def parse_amount(value: object) -> ParsedPay:
    """Read one StackOne amount (a string, or a number from older providers); see the module rules."""
    if isinstance(value, bool) or value is None:
        return ParsedPay()
    if isinstance(value, int | float):
        number = float(value)
        ok = math.isfinite(number) and 0 <= number <= MAX_AMOUNT
        return ParsedPay(low=number, high=number) if ok else ParsedPay()
    text = str(value).strip()
    if not text or len(text) > 100:
        return ParsedPay()
    percent = _PERCENT.match(text)
    if percent:
        return ParsedPay(percent=float(percent.group(1).replace(",", ".")))
    if "%" in text:
        return ParsedPay()
    currency = _currency(text)
    parts = [part for part in _RANGE_SPLIT.split(text) if part.strip()]
    if len(parts) == 2:
        low, high = _amount(parts[0]), _amount(parts[1])
        # "45-55k": the suffix of the high end applies to the low end too.
        suffix = re.search(r"([kKmM])\s*$", parts[1].strip())
        if low is not None and high is not None and suffix and not re.search(r"[kKmM]", parts[0]):
            low *= {"k": 1_000, "m": 1_000_000}[suffix.group(1).lower()]
        if low is not None and high is not None:
            return ParsedPay(low=min(low, high), high=max(low, high), currency=currency)
        return ParsedPay(currency=currency)
    if len(parts) != 1:
        return ParsedPay(currency=currency)
    amount = _amount(parts[0])
    return ParsedPay(low=amount, high=amount, currency=currency) if amount is not None else ParsedPay()


def annual(amount: float | None, period: str | None) -> float | None:
    """`amount` per `period` as a yearly amount (None for one-off pay, or no amount)."""
    if amount is None:
        return None
    if period is None:
        return amount
    per_year = PERIODS_PER_YEAR.get(period)
    return amount * per_year if per_year else None
