"""The employer console's Numbers section and the job page's Apply beacon, in Chromium at desktop and phone
sizes: charts with a text alternative, the tables, one job's numbers, axe, and one beacon per page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import test_pages_in_browser as pages
from tests.e2e.conftest import accessibility_violations, open_page
from tests.e2e.test_pages_in_browser import JOB_ID, SERIOUS, SIZES, FakeApi, Site, _sign_in, after_shot

# The pages' stack (chalice local over moto with stored postings), started once for this module too.
site = pages.site

OTHER_JOB = "YWNjX2RlbW9fZ3JlZW5ob3VzZV9hY21lCnBvc3RfZGF0YQ"


def _series(days: int, scale: int) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date()
    return [
        {
            "day": (today - timedelta(days=days - 1 - offset)).isoformat(),
            "views": scale * (offset % 7),
            "apply_starts": scale * (offset % 3),
            "applications": offset % 2,
            "embloy_clicks": 0,
        }
        for offset in range(days)
    ]


class NumbersApi(FakeApi):
    """The fake API plus GET /employer/numbers and the Apply beacon."""

    def reply(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "/employer/numbers":
            days = int((query.get("days") or ["90"])[0])
            job = (query.get("job_id") or [""])[0] or None
            series = _series(days, 1 if job else 10)
            totals = {key: sum(day[key] for day in series) for key in series[0] if key != "day"}
            jobs = [
                {"job_id": JOB_ID, "title": "Platform Engineer", "totals": totals},
                {"job_id": OTHER_JOB, "title": "Data Engineer", "totals": {**totals, "views": 3}},
            ]
            return 200, {
                "start": series[0]["day"],
                "end": series[-1]["day"],
                "days": days,
                "job_id": job,
                "totals": totals,
                "series": series,
                "jobs": [j for j in jobs if j["job_id"] == job] if job else jobs,
            }
        if path == f"/jobs/{JOB_ID}/events" and method == "POST":
            return 204, None
        return super().reply(method, path, query)


@pytest.fixture(params=list(SIZES))
def numbers_page(
    request: pytest.FixtureRequest, site: Site, browser: Any
) -> Iterator[tuple[str, Any, NumbersApi]]:
    context, opened = open_page(browser, SIZES[request.param])
    api = NumbersApi()
    api.route(opened, site.moto_url)
    yield request.param, opened, api
    context.close()
    assert opened.js_errors == [], opened.js_errors


def test_the_console_charts_each_number_per_day_with_a_text_alternative_and_a_table(
    site: Site,
    numbers_page: tuple[str, Any, NumbersApi],
) -> None:
    size, page, api = numbers_page
    _sign_in(page, site)
    section = page.locator("#numbers")
    section.get_by_role("img", name="Views per day").wait_for()

    charts = section.get_by_role("img")
    expect(charts).to_have_count(4)
    views = section.locator("#numbers-all-views")
    assert views.locator("rect.numbers-bar").count() == 30  # the default period: 30 days
    description = views.locator("desc").text_content() or ""
    expected_views = sum(day["views"] for day in _series(30, 10))
    assert description.startswith(f"{expected_views:,} views from ") and "(UTC)" in description
    expect(section.locator("figure").first.locator("figcaption strong")).to_have_text(f"{expected_views:,}")
    requested = [r for r in api.requests if r["path"] == "/employer/numbers"]
    assert requested[0]["query"] == {"days": ["30"]}
    assert requested[0]["headers"]["authorization"] == "Bearer emp_secret_key"
    per_job = section.get_by_role("table", name="Per job, last 30 days")
    expect(per_job.locator("tbody tr")).to_have_count(2)
    expect(per_job.locator("tbody tr").first.locator("th")).to_have_text("Platform Engineer")
    section.get_by_text("The numbers per day as a table").click()
    expect(section.locator("details table tbody tr")).to_have_count(30)
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    assert accessibility_violations(page, impacts=SERIOUS) == []
    section.scroll_into_view_if_needed()
    after_shot(page, f"employer-numbers-{size}")

    page.get_by_label("Period", exact=True).select_option("90")
    page.get_by_role("region", name="Numbers", exact=True).get_by_label("Job", exact=True).select_option(
        label="Data Engineer"
    )
    section.locator("#numbers-job-views rect.numbers-bar").first.wait_for(state="attached")

    last = [r for r in api.requests if r["path"] == "/employer/numbers"][-1]
    assert last["query"] == {"days": ["90"], "job_id": [OTHER_JOB]}
    assert section.locator("#numbers-job-views rect.numbers-bar").count() == 90
    expect(page.locator("#numbers-status")).to_contain_text("Last 90 days for Data Engineer")
    assert accessibility_violations(page, impacts=SERIOUS) == []


def test_the_job_page_sends_one_apply_start_however_often_apply_is_clicked(
    site: Site,
    numbers_page: tuple[str, Any, NumbersApi],
) -> None:
    _, page, api = numbers_page
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")
    page.get_by_label("First name").wait_for()

    page.locator("a[href='#apply']:visible").first.click()
    page.get_by_label("First name").click()
    page.get_by_label("First name").fill("Ada")
    page.wait_for_timeout(300)  # a beacon is fire-and-forget: give it time to leave

    beacons = [r for r in api.requests if r["path"] == f"/jobs/{JOB_ID}/events"]
    assert [(b["method"], b["json"]) for b in beacons] == [("POST", {"type": "apply_start"})]
