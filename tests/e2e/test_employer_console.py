"""The employer console in Chromium at desktop (1366x900) and phone (390x844) sizes: applications (filters,
paging, CSV), a broken link's deadline and Reconnect, the reason shown once, times with their zone, the
Hub link in view after connecting, and a phone layout without sideways scrolling. Screenshots of each
size are saved under artifacts/after/.

The server-rendered page comes from `chalice local` (the `site` of test_pages_in_browser); the API calls
the console's scripts make are answered by Playwright request interception.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e import test_pages_in_browser as pages
from tests.e2e.conftest import PHONE, accessibility_violations, open_page

site = pages.site  # the module's server stack (moto + chalice local), started once for this module
Site = pages.Site
SIZES = pages.SIZES
SERIOUS = pages.SERIOUS
DEADLINE = "2031-03-04T12:30:00Z"  # a grace deadline still ahead whenever the test runs
CSV_BODY = (
    "submitted_at,job_title,job_id,candidate_name,candidate_email,source,outcome,ats_status,ats_stage,"
    "account_id,application_id\r\n2026-12-07T09:15:00Z,Platform Engineer,job-1,Ada Lovelace,"
    "ada@example.com,native,submitted,interview,,acct_gh,rec-1\r\n"
)


def _application(index: int, *, embloy: bool = False) -> dict[str, Any]:
    return {
        "id": f"rec-{index}",
        "job_id": "job-1" if index % 2 else "job-2",
        "job_title": "Platform Engineer" if index % 2 else "Product Designer",
        "account_id": "acct_gh",
        "provider": "greenhouse",
        "channel": "embloy" if embloy else "native",
        "outcome": "redirected" if embloy else "submitted",
        "error_code": None,
        "candidate_name": None if embloy else f"Candidate {index}",
        "candidate_email": None if embloy else f"candidate{index}@example.com",
        "submitted_at": f"2026-12-0{1 + index % 7}T09:{index:02d}:00Z",
        "stackone_application_id": None,
        "status": {
            "application_status": None if embloy else "interview",
            "stage": None,
            "rejected": None,
            "hired": None,
            "checked_at": None,
            "stale": False,
        },
    }


class ConsoleApi(pages.FakeApi):
    """The page suite's fake API plus the applications, a broken link with its deadline, and sync-now's
    409 on it."""

    def __init__(self) -> None:
        super().__init__()
        self.embloy_configured = False

    def handle(self, route: Any) -> None:
        if urlparse(route.request.url).path == "/applications.csv":
            self.requests.append(
                {
                    "method": route.request.method,
                    "path": "/applications.csv",
                    "query": urlparse(route.request.url).query,
                    "headers": route.request.headers,
                    "json": None,
                }
            )
            route.fulfill(
                status=200,
                headers={
                    "Content-Type": "text/csv; charset=utf-8",
                    "Content-Disposition": 'attachment; filename="applications.csv"',
                    "Cache-Control": "no-store",
                },
                body=CSV_BODY,
            )
            return
        super().handle(route)

    def reply(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "/applications":
            status = (query.get("status") or [""])[0]
            if status == "redirected":
                return 200, {"data": [_application(2, embloy=True)], "next_cursor": None}
            if query.get("cursor") == ["page2"]:
                return 200, {"data": [_application(i) for i in range(25, 28)], "next_cursor": None}
            data = [_application(i, embloy=i == 2) for i in range(25)]
            return 200, {"data": data, "next_cursor": "page2"}
        if path == "/accounts":
            status_code, body = super().reply(method, path, query)
            for account in body["data"]:
                if account["account_id"] == "acct_wd":
                    account["sync"]["live_postings"] = 9
                    account["attention"] = {
                        "reason": "The ATS credentials have expired. Reconnect the account to resume "
                        "syncing. StackOne says: Credentials expired",
                        "action": "reconnect",
                        "since": "2031-03-01T12:30:00Z",
                        "postings_close_at": DEADLINE,
                    }
            return status_code, body
        if path == "/accounts/acct_wd/sync":
            return 409, {"error": {"code": "reconnect_required", "message": "Reconnect first."}}
        if path == "/employer/embloy-token" and method == "GET" and self.embloy_configured:
            return 200, {"configured": True, "updated_at": "2026-12-01T08:00:00Z", "needs_renewal": False}
        return super().reply(method, path, query)


@pytest.fixture(params=list(SIZES))
def console(
    request: pytest.FixtureRequest, site: Site, browser: Any
) -> Iterator[tuple[str, Any, ConsoleApi]]:
    """(size name, page, fake API) at desktop and at phone size."""
    context, opened = open_page(browser, SIZES[request.param])
    api = ConsoleApi()
    api.route(opened, site.moto_url)
    yield request.param, opened, api
    context.close()
    assert opened.js_errors == [], opened.js_errors


def _sign_in(page: Any, site: Site) -> None:
    page.goto(f"{site.url}/board/employer")
    page.get_by_label("Employer API key").fill("emp_secret_key")
    page.get_by_role("button", name="Use key").click()
    page.get_by_role("heading", name="Greenhouse").wait_for()


def _in_view(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(selector) => {
                const box = document.querySelector(selector).getBoundingClientRect();
                return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
            }""",
            selector,
        )
    )


def _fits_the_width(page: Any, size: str) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"])


ZONED = re.compile(r"\d{1,2}:\d{2}\s?[AP]M (UTC|GMT[+-]?\d*|[A-Z]{2,5})$")


def test_applications_list_filters_pages_and_downloads_csv(
    site: Site, console: tuple[str, Any, ConsoleApi]
) -> None:
    size, page, api = console
    _sign_in(page, site)
    rows = page.locator("#applications-rows tr")
    expect(rows).to_have_count(25)

    # every field of a row, the date with its time zone
    first = rows.first
    assert first.locator("[data-label=Job]").inner_text() == "Product Designer"
    expect(first.locator("[data-label=Candidate]")).to_contain_text("Candidate 0")
    expect(first.locator("[data-label=Candidate]")).to_contain_text("candidate0@example.com")
    assert first.locator("[data-label=Source]").inner_text() == "Native application"
    assert first.locator("[data-label='ATS status']").inner_text() == "Interview"
    date = first.locator("[data-label=Date] time")
    assert ZONED.search(date.inner_text()), date.inner_text()
    assert date.get_attribute("datetime") == "2026-12-01T09:00:00Z"
    embloy = page.locator("[data-application-id=rec-2]")
    assert embloy.locator("[data-label=Source]").inner_text() == "Apply with Embloy"
    assert embloy.locator("[data-label='ATS status']").inner_text() == "Sent to Embloy"

    # pages: "Show more" asks for the next page with the API's cursor and appends it
    page.get_by_role("button", name="Show more applications").click()
    expect(rows).to_have_count(28)
    expect(page.get_by_role("button", name="Show more applications")).to_be_hidden()
    listed = [r for r in api.requests if r["path"] == "/applications"]
    assert listed[-1]["query"]["cursor"] == ["page2"] and listed[-1]["query"]["limit"] == ["25"]
    assert all(r["headers"]["authorization"] == "Bearer emp_secret_key" for r in listed)

    # filters: the job filter offers the jobs listed; a status filter asks the API and replaces the list
    job_options = page.locator("#applications-job option").all_inner_texts()
    assert job_options == ["All jobs", "Platform Engineer", "Product Designer"]
    page.get_by_label("Status").select_option("redirected")
    expect(rows).to_have_count(1)
    listed = [r for r in api.requests if r["path"] == "/applications"]
    assert listed[-1]["query"]["status"] == ["redirected"] and "cursor" not in listed[-1]["query"]
    # the response comes after the fake API recorded the request (route.fulfill)
    with page.expect_response(
        lambda response: "/applications?" in response.url and "job_id=job-1" in response.url
    ):
        page.get_by_role("region", name="Applications").get_by_label("Job").select_option(
            label="Platform Engineer"
        )
    listed_by_job = [r for r in api.requests if r["path"] == "/applications" and "job_id" in r["query"]]
    assert listed_by_job[-1]["query"]["job_id"] == ["job-1"]
    assert listed_by_job[-1]["query"]["status"] == ["redirected"]  # the filters combine

    # CSV: the same filters, the key in the Authorization header, a download named applications.csv
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = download.value
    assert saved.suggested_filename == "applications.csv"
    exported = list(csv.DictReader(io.StringIO(Path(saved.path()).read_text(encoding="utf-8"))))
    assert exported[0]["candidate_email"] == "ada@example.com"
    export = next(r for r in api.requests if r["path"] == "/applications.csv")
    assert export["query"] == "job_id=job-1&status=redirected"
    assert export["headers"]["authorization"] == "Bearer emp_secret_key"

    assert _fits_the_width(page, size)
    assert accessibility_violations(page, impacts=SERIOUS) == []
    page.locator("#applications-card").scroll_into_view_if_needed()
    pages.after_shot(page, f"employer-applications-{size}")


def test_a_broken_link_shows_its_deadline_the_reason_once_and_refuses_sync_now(
    site: Site, console: tuple[str, Any, ConsoleApi]
) -> None:
    size, page, _ = console
    _sign_in(page, site)
    workday = page.locator("[data-account-id=acct_wd]")

    assert workday.inner_text().count("Credentials expired") == 1  # once, in the reason
    grace = workday.locator(".grace")
    expect(grace).to_contain_text("Your 9 postings stay on the board until")
    deadline = grace.locator("strong").inner_text()
    assert deadline.startswith("Mar 4, 2031") and ZONED.search(deadline), deadline
    for time_shown in page.locator(".account-details dd").all_inner_texts():
        assert (
            time_shown in ("never", "unknown")
            or not re.search(r"\d:\d\d", time_shown)
            or ZONED.search(time_shown)
        ), time_shown
    expect(workday.get_by_role("button", name="Reconnect Workday")).to_be_visible()

    workday.get_by_role("button", name="Sync Workday account now").click()
    expect(workday.locator(".sync-result")).to_have_text(
        "Reconnect this account first: your ATS refuses the board's access until you do."
    )
    assert accessibility_violations(page, impacts=SERIOUS) == []
    workday.scroll_into_view_if_needed()
    pages.after_shot(page, f"employer-broken-link-{size}")


def test_after_connect_the_status_and_hub_link_are_in_view_and_focused(
    site: Site, console: tuple[str, Any, ConsoleApi]
) -> None:
    size, page, _ = console
    _sign_in(page, site)
    page.context.route("https://hub.stackone.test/**", lambda route: route.fulfill(body="<h1>Hub</h1>"))
    page.evaluate("window.scrollTo(0, 0)")

    with page.expect_popup():
        page.get_by_role("button", name="Connect your ATS").click()

    link = page.get_by_role("link", name="Open the StackOne Hub")
    expect(link).to_be_focused()
    expect(page.locator("#connect-status")).to_contain_text("This link works until")
    assert ZONED.search(page.locator("#connect-status").inner_text().rstrip("."))
    assert _in_view(page, "#hub-link") and _in_view(page, "#connect-status")
    pages.after_shot(page, f"employer-connect-{size}")


def test_remove_token_shows_only_when_a_token_is_set(
    site: Site, console: tuple[str, Any, ConsoleApi]
) -> None:
    _, page, api = console
    _sign_in(page, site)
    expect(page.locator("#embloy-state")).to_contain_text("No Embloy client token yet")
    expect(page.get_by_role("button", name="Remove token")).to_be_hidden()

    api.embloy_configured = True
    page.reload()
    page.get_by_role("heading", name="Greenhouse").wait_for()
    expect(page.locator("#embloy-state")).to_contain_text("An Embloy client token is configured")
    expect(page.get_by_role("button", name="Remove token")).to_be_visible()


def test_the_phone_layout_has_no_sideways_scroll_and_the_key_controls_in_reach(
    site: Site, browser: Any
) -> None:
    context, page = open_page(browser, PHONE)
    api = ConsoleApi()
    api.route(page, site.moto_url)
    try:
        _sign_in(page, site)
        expect(page.locator("#applications-rows tr")).to_have_count(25)
        assert _fits_the_width(page, "phone")
        for control in (
            page.get_by_role("button", name="Reconnect Workday"),
            page.get_by_role("button", name="Sync Greenhouse account now"),
            page.get_by_role("button", name="Connect your ATS"),
            page.get_by_label("Status"),
            page.get_by_role("button", name="Download CSV"),
            page.get_by_role("button", name="Save notifications"),
            page.get_by_role("button", name="Sign out (forget key)"),
        ):
            control.scroll_into_view_if_needed()
            expect(control).to_be_visible()
            box = control.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] >= 24  # a tap target, not a sliver
        # an application reads as a labelled card on a phone, each field on its own line
        first = page.locator("#applications-rows tr").first
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.applications-table thead')).display")
            == "none"
        )
        assert first.bounding_box()["width"] <= PHONE["width"]
        assert accessibility_violations(page, impacts=SERIOUS) == []
        pages.after_shot(page, "employer-console-phone", full_page=True)
    finally:
        context.close()
    assert page.js_errors == [], page.js_errors
