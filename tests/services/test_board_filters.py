"""The board's pay, date-posted and distance filters, in the engine and as `GET /jobs` parameters parse."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyroaring import BitMap

from chalicelib.aws.posting_items import content_hash
from chalicelib.clock import isoformat
from chalicelib.errors import InvalidRequestError, UnprocessableError
from chalicelib.models.posting import Compensation, Posting
from chalicelib.services.board.engine import BoardDocument, BoardEngine, Page, board_document
from chalicelib.services.board.query import BoardQuery
from tests.api.board_factories import BASE_TIME, make_posting

_directories = itertools.count()


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def document(posting: Posting) -> BoardDocument:
    assert posting.changed_at is not None
    return board_document(
        posting,
        content_hash=content_hash(posting),
        changed_key=f"{isoformat(posting.changed_at)}#{posting.job_id}",
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(BASE_TIME)


@pytest.fixture
def index_of(tmp_path: Path, clock: FakeClock) -> Callable[..., BoardEngine]:
    def build(*postings: Posting) -> BoardEngine:
        directory = tmp_path / f"index-{next(_directories)}"
        fingerprint = BoardEngine.create(directory, [document(p) for p in postings])
        return BoardEngine(directory, fingerprint=fingerprint, clock=clock)

    return build


def search(index: BoardEngine, **params: Any) -> Page:
    query = BoardQuery.from_params({k: v if isinstance(v, list) else [str(v)] for k, v in params.items()})
    return index.search(query.plan(), after=None, limit=query.limit)


def titles(page: Page) -> set[str]:
    return {hit.summary["title"] for hit in page.hits}


def paid(
    title: str, low: float | None, high: float | None, currency: str | None, period: str | None
) -> Posting:
    posting = make_posting(title, salary=None)
    posting.compensation = [Compensation(kind="salary", currency=currency, min=low, max=high, period=period)]
    return posting


@pytest.fixture
def paying(index_of: Callable[..., BoardEngine]) -> BoardEngine:
    return index_of(
        paid("Yearly 70k EUR", 50000, 70000, "EUR", "year"),
        paid("Monthly 5k EUR", 5000, None, "EUR", "month"),  # 60,000 a year
        paid("Hourly 40 USD", 40, 40, "USD", "hour"),  # 83,200 a year
        paid("Yearly 90k USD", 90000, None, "USD", None),  # no period: taken as a year
        paid("One-off EUR", 100000, None, "EUR", "one_off"),
        make_posting("No pay", salary=None),
        paid("No currency", 99000, None, None, "year"),
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"pay_min": 60000, "pay_currency": "EUR"}, {"Yearly 70k EUR", "Monthly 5k EUR"}),
        ({"pay_min": 60001, "pay_currency": "eur"}, {"Yearly 70k EUR"}),
        ({"pay_min": 70000, "pay_currency": "EUR"}, {"Yearly 70k EUR"}),  # the max decides, not the min
        ({"pay_min": 70001, "pay_currency": "EUR"}, set()),
        ({"pay_min": 80000, "pay_currency": "USD"}, {"Hourly 40 USD", "Yearly 90k USD"}),
        ({"pay_min": 85000, "pay_currency": "USD"}, {"Yearly 90k USD"}),
        ({"pay_min": 0, "pay_currency": "USD"}, {"Hourly 40 USD", "Yearly 90k USD"}),
        ({"pay_currency": "GBP"}, set()),  # no conversion between currencies
        ({"shows_pay": "true"}, {"Yearly 70k EUR", "Monthly 5k EUR", "Hourly 40 USD", "Yearly 90k USD",
                                 "One-off EUR", "No currency"}),
        ({"shows_pay": "false"}, {"No pay"}),
    ],
)  # fmt: skip
def test_pay_filters_read_the_annual_amount_in_the_posting_currency(
    paying: BoardEngine, params: dict[str, Any], expected: set[str]
) -> None:
    page = search(paying, **params)
    assert titles(page) == expected
    assert page.total == len(expected)


def test_pay_min_with_words_and_relevance_agrees_with_the_newest_order(paying: BoardEngine) -> None:
    by_relevance = search(paying, q="yearly", pay_min=60000, pay_currency="EUR", sort="relevance")
    by_newest = search(paying, q="yearly", pay_min=60000, pay_currency="EUR", sort="newest")
    assert titles(by_relevance) == titles(by_newest) == {"Yearly 70k EUR"}


def test_pay_thresholds_across_many_postings_match_a_plain_scan(index_of: Callable[..., BoardEngine]) -> None:
    # GIVEN more postings than one stored tail holds, with amounts in a known order
    amounts = [(n * 7919) % 5000 * 100 for n in range(5000)]
    engine = index_of(*(paid(f"Job {n}", a, None, "EUR", "year") for n, a in enumerate(amounts)))
    for threshold in (0, 1, 123_400, 250_000, 250_001, 499_900, 500_000):
        page = search(engine, pay_min=threshold, pay_currency="EUR", limit=1)
        assert page.total == sum(1 for a in amounts if a >= threshold)


def test_pay_of_postings_added_after_the_snapshot_is_filtered_too(paying: BoardEngine) -> None:
    paying.upsert(document(paid("Added 200k EUR", 200000, None, "EUR", "year")))
    paying.commit()
    assert titles(search(paying, pay_min=150000, pay_currency="EUR")) == {"Added 200k EUR"}


def test_pay_min_needs_a_currency_and_amounts_are_whole_numbers() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        BoardQuery.from_params({"pay_min": ["50000"]}).plan()
    assert refused.value.code == "pay_currency_required"
    for bad in ({"pay_min": ["1e5"], "pay_currency": ["EUR"]}, {"pay_min": ["-1"], "pay_currency": ["EUR"]},
                {"pay_min": ["100000001"], "pay_currency": ["EUR"]}, {"pay_currency": ["EURO"]},
                {"shows_pay": ["yes"]}):  # fmt: skip
        with pytest.raises(ValueError):  # pydantic's ValidationError: the API's 400
            BoardQuery.from_params(bad)


# ---- posted_within ------------------------------------------------------------------------------------
@pytest.fixture
def dated(index_of: Callable[..., BoardEngine]) -> BoardEngine:
    return index_of(
        *(make_posting(f"Posted {days} days ago", posted_days_ago=days) for days in (0.5, 2, 5, 6.9, 20, 45))
    )


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [("24h", 1), ("3d", 2), ("7d", 4), ("30d", 5)],
)
def test_posted_within_counts_back_from_now(dated: BoardEngine, bucket: str, expected: int) -> None:
    assert search(dated, posted_within=bucket).total == expected


def test_the_posted_within_facet_counts_each_bucket_for_the_query(dated: BoardEngine) -> None:
    assert search(dated).facets["posted_within"] == {"24h": 1, "3d": 2, "7d": 4, "30d": 5}
    # Its own filter does not narrow its counts (like every facet); other filters do.
    assert search(dated, posted_within="24h").facets["posted_within"] == {
        "24h": 1,
        "3d": 2,
        "7d": 4,
        "30d": 5,
    }
    assert search(dated, q="ago", location="Nowhere").facets["posted_within"] == {}


def test_posted_within_follows_the_clock_after_the_snapshot_was_built(
    dated: BoardEngine, clock: FakeClock
) -> None:
    # GIVEN the same snapshot, served a day and a half later (and its counts cached meanwhile)
    before = search(dated, posted_within="3d")
    assert before.total == 2 and before.facets["posted_within"]["7d"] == 4
    state = dated.time_state()
    clock.now = BASE_TIME + timedelta(days=1.5)
    after = search(dated, posted_within="3d")
    assert titles(after) == {"Posted 0.5 days ago"}
    assert after.facets["posted_within"] == {"3d": 1, "7d": 3, "30d": 5}
    assert dated.time_state() != state  # so ETags change with the answers


def test_postings_added_after_the_snapshot_are_dated_too(dated: BoardEngine) -> None:
    dated.upsert(document(make_posting("Just now", posted_days_ago=0.01)))
    dated.commit()
    assert titles(search(dated, posted_within="24h")) == {"Just now", "Posted 0.5 days ago"}


# ---- near -----------------------------------------------------------------------------------------------
@pytest.fixture
def placed(index_of: Callable[..., BoardEngine]) -> BoardEngine:
    return index_of(
        make_posting("Berlin office", locations=("Berlin, Germany",)),
        make_posting("Potsdam office", locations=("Potsdam, Germany",)),  # ~27 km from Berlin
        make_posting("Leipzig office", locations=("Leipzig, Germany",)),  # ~150 km
        make_posting("Munich office", locations=("München",)),  # ~500 km
        make_posting("Remote EU", locations=("Remote - EU",), remote=True),
        make_posting("Berlin or remote", locations=("Berlin, Germany", "Remote - EU"), remote=True),
        make_posting("Unknown place", locations=("Atlantis Base 7",)),
        make_posting("San Francisco office", locations=("San Francisco, CA",)),
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"near": "Berlin", "radius_km": 10}, {"Berlin office", "Berlin or remote"}),
        ({"near": "Berlin, Germany", "radius_km": 50},
         {"Berlin office", "Berlin or remote", "Potsdam office"}),
        ({"near": "berlin", "radius_km": 200},
         {"Berlin office", "Berlin or remote", "Potsdam office", "Leipzig office"}),
        ({"near": "Munich"}, {"Munich office"}),  # the default radius, 50 km
        ({"near": "München", "radius_km": 1}, {"Munich office"}),
        # With near, remote postings are in only when remote=true; remote=false leaves them all out.
        ({"near": "Berlin", "radius_km": 10, "remote": "true"},
         {"Berlin office", "Berlin or remote", "Remote EU"}),
        ({"near": "Berlin", "radius_km": 10, "remote": "false"}, {"Berlin office"}),
        ({"near": "San Francisco, CA", "radius_km": 20}, {"San Francisco office"}),
        ({"near": "Oakland, CA", "radius_km": 20}, {"San Francisco office"}),
    ],
)  # fmt: skip
def test_near_finds_postings_placed_within_the_radius(
    placed: BoardEngine, params: dict[str, Any], expected: set[str]
) -> None:
    page = search(placed, **params)
    assert titles(page) == expected and page.total == len(expected)


def test_near_combines_with_words_and_other_filters(placed: BoardEngine) -> None:
    assert titles(search(placed, q="office", near="Berlin", radius_km=200, location="Leipzig")) == {
        "Leipzig office"
    }
    ranked = search(placed, q="office", near="Berlin", radius_km=30, sort="relevance")
    assert titles(ranked) == {"Berlin office", "Potsdam office"}


@pytest.mark.parametrize("near", ["Atlantis Base 7", "Germany", "Remote", "Texas"])
def test_near_an_unknown_place_or_a_region_is_refused_without_echoing_it(near: str) -> None:
    with pytest.raises(UnprocessableError) as refused:
        BoardQuery.from_params({"near": [near]}).plan()
    assert refused.value.code == "unknown_place"
    assert near not in str(refused.value)


@pytest.mark.parametrize("radius", ["0", "501", "5.5", "ten"])
def test_radius_is_a_whole_number_of_kilometres_from_1_to_500(radius: str) -> None:
    with pytest.raises(ValueError):
        BoardQuery.from_params({"near": ["Berlin"], "radius_km": [radius]})


def test_job_alerts_match_the_new_filters_as_the_board_does(placed: BoardEngine) -> None:
    # GIVEN a part of the board (what an alert matches new postings against)
    part = placed.part(BitMap(range(8)))
    for params in ({"near": ["Berlin"], "radius_km": ["30"]}, {"shows_pay": ["true"], "near": ["Munich"]},
                   {"pay_min": ["65000"], "pay_currency": ["EUR"]}, {"posted_within": ["3d"]}):  # fmt: skip
        plan = BoardQuery.from_params(params).plan()
        board = placed.search(plan, after=None, limit=100, facets=False)
        assert {hit.job_id for hit in placed.hits(list(part.results(plan)))} == {
            hit.job_id for hit in board.hits
        }
