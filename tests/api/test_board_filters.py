"""Pay, date-posted and distance filters over HTTP: `GET /jobs`, the feed and the board page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.clock import utcnow
from chalicelib.models.posting import Compensation
from tests.api.board_factories import (
    board_refreshes_every_request,  # noqa: F401  (autouse)
    make_posting,
    put_postings,
)


@pytest.fixture
def client(client: Any) -> Any:
    hourly = make_posting("Nurse", locations=("Potsdam, Germany",), salary=None)
    hourly.compensation = [Compensation(kind="hourly", currency="EUR", min=40, max=40, period="hour")]
    put_postings(
        make_posting(
            "Backend Engineer", locations=("Berlin, Germany",), salary=(60000, 80000, "EUR", "year")
        ),
        hourly,  # 83,200 a year; the card still says 40 an hour
        make_posting("Chef", locations=("München",), salary=None),
        make_posting(
            "Remote Writer", account_id="acc_lever", locations=("Remote - EU",), remote=True, salary=None
        ),
    )
    return client


def titles(body: dict[str, Any]) -> set[str]:
    return {job["title"] for job in body["data"]}


def test_pay_min_compares_annual_pay_and_the_card_keeps_the_stated_pay(client: Any) -> None:
    body = client.http.get("/jobs?pay_min=80000&pay_currency=EUR").json_body
    assert titles(body) == {"Backend Engineer", "Nurse"}
    nurse = next(job for job in body["data"] if job["title"] == "Nurse")
    assert nurse["compensation_summary"]["text"] == "EUR 40 / hour"
    assert titles(client.http.get("/jobs?pay_min=81000&pay_currency=eur").json_body) == {"Nurse"}
    assert titles(client.http.get("/jobs?shows_pay=false").json_body) == {"Chef", "Remote Writer"}


def test_near_with_and_without_remote_jobs(client: Any) -> None:
    assert titles(client.http.get("/jobs?near=Berlin&radius_km=50").json_body) == {
        "Backend Engineer",
        "Nurse",
    }
    assert titles(client.http.get("/jobs?near=Berlin&radius_km=10&remote=true").json_body) == {
        "Backend Engineer",
        "Remote Writer",
    }
    assert titles(client.http.get("/jobs?near=Munich&radius_km=5").json_body) == {"Chef"}


def test_date_posted_counts_back_from_the_time_of_the_request(client: Any) -> None:
    # GIVEN two postings posted hours and days before now (the others are from long ago)
    recent, older = make_posting("Posted this morning"), make_posting("Posted on Monday")
    recent.created_at = utcnow() - timedelta(hours=3)
    older.created_at = utcnow() - timedelta(days=5)
    put_postings(recent, older)
    body = client.http.get("/jobs?posted_within=24h").json_body
    assert titles(body) == {"Posted this morning"}
    assert body["facets"]["posted_within"] == {"24h": 1, "3d": 1, "7d": 2, "30d": 2}
    assert titles(client.http.get("/jobs?posted_within=7d").json_body) == {
        "Posted this morning",
        "Posted on Monday",
    }


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ("near=Atlantis%20Base%207", 422, "unknown_place", "near"),
        ("near=Germany", 422, "unknown_place", "near"),
        ("pay_min=50000", 400, "pay_currency_required", "pay_currency"),
        ("pay_min=1e5&pay_currency=EUR", 400, "invalid_request", "pay_min"),
        ("pay_min=50000&pay_currency=EURO", 400, "invalid_request", "pay_currency"),
        ("shows_pay=maybe", 400, "invalid_request", "shows_pay"),
        ("posted_within=2w", 400, "invalid_request", "posted_within"),
        ("near=Berlin&radius_km=501", 400, "invalid_request", "radius_km"),
        ("near=Berlin&radius_km=0", 400, "invalid_request", "radius_km"),
        ("posted_within=7d&posted_within=3d", 400, "invalid_request", "posted_within"),
    ],
)
def test_bad_filter_values_are_refused_clearly(
    client: Any, query: str, status: int, code: str, field: str
) -> None:
    response = client.http.get(f"/jobs?{query}")
    assert response.status_code == status
    error = response.json_body["error"]
    assert error["code"] == code
    assert field in error.get("fields", {}) or field in error["message"]
    assert "Atlantis" not in error["message"]


def test_the_feed_takes_the_same_filters(client: Any) -> None:
    feed = client.http.get("/feed.xml?near=Munich&radius_km=10").body.decode()
    assert "<title>Chef" in feed and "Backend Engineer" not in feed


def test_the_board_page_form_carries_pay_date_and_distance_without_scripts(client: Any) -> None:
    html = client.http.get(
        "/board?near=Berlin&radius_km=25&pay_min=50000&pay_currency=EUR&posted_within=30d&shows_pay=true"
    ).body.decode()
    assert re.search(r'name="near"[^>]*value="Berlin"', html)
    assert '<option value="25" selected>25 km</option>' in html
    assert re.search(r'name="pay_min"[^>]*value="50000"', html)
    assert re.search(r'name="pay_currency"[^>]*value="EUR"', html)
    assert 'id="shows-pay" name="shows_pay" value="true" checked' in html
    assert 'name="posted_within" value="30d" checked' in html
    # A new search and an alert signup keep these filters.
    assert '<input type="hidden" name="near" value="Berlin">' in html
    assert html.count('<input type="hidden" name="radius_km" value="25">') == 2
    assert 'data-name="near"' in html  # a removable chip


def test_the_board_page_names_an_unknown_city(client: Any) -> None:
    response = client.http.get("/board?near=Atlantis+Base+7")
    assert response.status_code == 400
    assert "know a city of that name" in response.body.decode()


@pytest.mark.parametrize("radius", ["-58800", "0", "501", "ten"])
def test_the_board_page_refuses_a_bad_radius_as_get_jobs_does_even_without_a_place(
    client: Any, radius: str
) -> None:
    assert client.http.get(f"/jobs?radius_km={radius}").status_code == 400
    assert client.http.get(f"/board?radius_km={radius}").status_code == 400


def test_the_board_page_drops_a_valid_radius_without_a_place(client: Any) -> None:
    html = client.http.get("/board?radius_km=25").body.decode()
    assert '<input type="hidden" name="radius_km"' not in html
