"""Pay amounts as StackOne writes them (strings) -> numbers, percentages and annual amounts."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.services import pay
from chalicelib.services.board import shaping
from chalicelib.services.mapping import AccountInfo, map_compensation, map_posting
from chalicelib.services.pay import ParsedPay, parse_amount

ACCOUNT = AccountInfo(account_id="acc1", employer_id="emp1", company="Acme", provider="greenhouse")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1e5", ParsedPay(100000.0, 100000.0)),
        ("1.2E5", ParsedPay(120000.0, 120000.0)),
        ("50.000", ParsedPay(50000.0, 50000.0)),
        ("50,000", ParsedPay(50000.0, 50000.0)),
        ("50000", ParsedPay(50000.0, 50000.0)),
        ("50 000", ParsedPay(50000.0, 50000.0)),
        ("1.234.567", ParsedPay(1234567.0, 1234567.0)),
        ("1,234,567", ParsedPay(1234567.0, 1234567.0)),
        ("1.234,56", ParsedPay(1234.56, 1234.56)),
        ("1,234.56", ParsedPay(1234.56, 1234.56)),
        ("52.5", ParsedPay(52.5, 52.5)),
        ("52,5", ParsedPay(52.5, 52.5)),
        ("1.500", ParsedPay(1500.0, 1500.0)),
        ("45000 - 55000", ParsedPay(45000.0, 55000.0)),
        ("45000\u201355000", ParsedPay(45000.0, 55000.0)),
        ("45000 \u2013 55000", ParsedPay(45000.0, 55000.0)),
        ("45000 \u2014 55000", ParsedPay(45000.0, 55000.0)),
        ("45000 to 55000", ParsedPay(45000.0, 55000.0)),
        ("55000 - 45000", ParsedPay(45000.0, 55000.0)),
        ("45k-55k", ParsedPay(45000.0, 55000.0)),
        ("45-55k", ParsedPay(45000.0, 55000.0)),
        ("\u00a330,000 - \u00a340,000", ParsedPay(30000.0, 40000.0, currency="GBP")),
        ("10%", ParsedPay(percent=10.0)),
        ("7,5 %", ParsedPay(percent=7.5)),
        ("12.5%", ParsedPay(percent=12.5)),
        ("85k", ParsedPay(85000.0, 85000.0)),
        ("85K", ParsedPay(85000.0, 85000.0)),
        ("52.5k", ParsedPay(52500.0, 52500.0)),
        ("1.2m", ParsedPay(1200000.0, 1200000.0)),
        ("\u20ac50.000", ParsedPay(50000.0, 50000.0, currency="EUR")),
        ("$120K", ParsedPay(120000.0, 120000.0, currency="USD")),
        ("USD 50000", ParsedPay(50000.0, 50000.0, currency="USD")),
        ("50000 EUR", ParsedPay(50000.0, 50000.0, currency="EUR")),
        ("CHF 110'000", ParsedPay(110000.0, 110000.0, currency="CHF")),
        ("competitive", ParsedPay()),
        ("", ParsedPay()),
        ("DOE", ParsedPay()),
        ("up to 10% of base", ParsedPay()),
        ("1e99", ParsedPay()),
        ("12345678901234", ParsedPay()),
    ],
)
def test_amount_strings_are_read_as_written(written: str, expected: ParsedPay) -> None:
    assert parse_amount(written) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (50000, ParsedPay(50000.0, 50000.0)),
        (52.5, ParsedPay(52.5, 52.5)),
        (True, ParsedPay()),
        (None, ParsedPay()),
    ],
)
def test_numbers_from_older_providers_are_taken_as_they_are(raw: Any, expected: ParsedPay) -> None:
    assert parse_amount(raw) == expected


@pytest.mark.parametrize(
    ("amount", "period", "annual"),
    [
        (40.0, "hour", 83200.0),
        (300.0, "day", 78000.0),
        (1000.0, "week", 52000.0),
        (2000.0, "every_two_weeks", 52000.0),
        (2000.0, "twice_a_month", 48000.0),
        (5000.0, "month", 60000.0),
        (10000.0, "every_two_months", 60000.0),
        (15000.0, "quarter", 60000.0),
        (30000.0, "every_six_months", 60000.0),
        (60000.0, "year", 60000.0),
        (60000.0, None, 60000.0),
        (5000.0, "one_off", None),
        (None, "year", None),
    ],
)
def test_annual_amounts_per_period(amount: float | None, period: str | None, annual: float | None) -> None:
    assert pay.annual(amount, period) == annual


def test_the_specs_example_compensation_reads_its_range_and_its_bonus_share() -> None:
    # GIVEN the compensation example of StackOne's JobPosting (amounts are strings)
    base, bonus = (
        map_compensation(raw)
        for raw in (
            {"title": "Base Salary", "type": {"value": "salary"}, "pay_period": {"value": "month"},
             "pay_frequency": {"value": "yearly"}, "currency": "USD", "value": "50000",
             "min_value_range": "45000", "max_value_range": "55000"},
            {"title": "Bonus", "type": {"value": "bonus"}, "pay_frequency": {"value": "quarterly"},
             "currency": "USD", "value": "10%"},
        )
    )  # fmt: skip
    assert base is not None and bonus is not None
    assert (base.min, base.max, base.period, base.currency) == (45000.0, 55000.0, "month", "USD")
    assert (bonus.percent, bonus.min, bonus.max, bonus.kind) == (10.0, None, None, "bonus")


def test_a_range_in_one_string_and_a_currency_sign_are_read() -> None:
    element = map_compensation({"type": {"value": "salary"}, "value": "\u20ac45.000 - \u20ac55.000"})
    assert element is not None
    assert (element.min, element.max, element.currency) == (45000.0, 55000.0, "EUR")


def test_the_card_shows_the_stated_amount_and_period_not_the_annual_figure() -> None:
    # GIVEN an hourly rate, which the pay filter reads as 83,200 a year
    raw = {"id": "p1", "title": "Nurse", "status": {"value": "live"},
           "compensation": [{"type": {"value": "hourly"}, "currency": "USD", "value": "40",
                             "pay_period": {"value": "hour"}}]}  # fmt: skip
    posting = map_posting(raw, ACCOUNT)
    summary = shaping.compensation_summary(posting)
    assert summary is not None
    assert summary["text"] == "USD 40 / hour"
    assert (summary["min"], summary["max"], summary["period"]) == (40.0, 40.0, "hour")


def test_a_posting_with_only_a_bonus_share_shows_the_share() -> None:
    raw = {"id": "p1", "title": "Sales", "status": {"value": "live"},
           "compensation": [{"title": "Bonus", "type": {"value": "bonus"}, "value": "10%"}]}  # fmt: skip
    summary = shaping.compensation_summary(map_posting(raw, ACCOUNT))
    assert summary is not None and summary["text"] == "10% bonus"
