"""The pages in a real browser: server-rendered from a real store (moto), scripted API calls on top.

`chalice local` renders the board and job pages from postings stored in moto's server (what the sync
would have written). What the pages' scripts then ask the JSON API for is answered by Playwright request
interception, so these tests can pin down behaviour the demo data cannot produce on demand: every question
type, field errors, upstream failures and retries. Each point is checked at desktop (1366x900) and phone
(390x844) sizes; axe checks each page; a pass with JavaScript disabled covers the board and job pages.
The full-stack journeys live in test_full_stack.py.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from chalicelib.aws.posting_items import posting_to_item
from chalicelib.models.posting import (
    Compensation,
    Location,
    Posting,
    Question,
    Questionnaire,
    QuestionOption,
    make_job_id,
)
from local.stack import DEFAULT_REGION
from tests.e2e.conftest import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    Server,
    accessibility_violations,
    chalice_argv,
    free_port,
    open_page,
    start_server,
)

SIZES = {"desktop": DESKTOP, "phone": PHONE}
SERIOUS = ("serious", "critical")
AFTER = ARTIFACTS.parent / "after"

# Northwind Health (Ashby) is a demo employer the bootstrap gives an Embloy client token.
ACCOUNT, EMPLOYER, COMPANY, PROVIDER = (
    "acc_demo_ashby_northwind",
    "emp_demo_northwind",
    "Northwind Health",
    "ashby",
)
JOB_ID = make_job_id(ACCOUNT, "post_platform")
CLOSED_ID = make_job_id(ACCOUNT, "post_closed")
NOW = datetime.now(UTC)
UPLOAD_ID = "0123456789abcdef0123456789abcdef"

QUESTIONS: list[dict[str, Any]] = [
    {"id": "q_text", "text": "Preferred name", "type": "short_text", "required": True},
    {"id": "q_long", "text": "Why us?", "type": "long_text", "required": False},
    {
        "id": "q_single",
        "text": "Work permit?",
        "type": "single_select",
        "required": True,
        "options": [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}],
    },
    {
        "id": "q_when_no",
        "text": "Do you need sponsorship details?",
        "type": "long_text",
        "required": True,
        "condition": {"parent_question_id": "q_single", "option_ids": ["no"], "condition": "equals_to"},
    },
    {
        "id": "q_multi",
        "text": "Languages",
        "type": "multi_select",
        "options": [
            {"id": "py", "text": "Python"},
            {"id": "go", "text": "Go"},
            {"id": "ts", "text": "TypeScript"},
        ],
    },
    {"id": "q_bool", "text": "Open to relocation?", "type": "boolean", "required": True},
    {"id": "q_number", "text": "Years of experience", "type": "number"},
    {"id": "q_date", "text": "Earliest start date", "type": "date"},
    {"id": "q_url", "text": "Portfolio", "type": "url"},
    {"id": "q_file", "text": "Cover letter", "type": "attachment"},
]
DESCRIPTION = (
    "<h3>What you will do</h3><p>Build the <strong>platform</strong> our clinics run on.</p>"
    + "".join(
        f"<p>Responsibility {n}: keep services fast, observable and kind to on-call.</p>" for n in range(12)
    )
    + '<p><a href="https://northwind.example/about">About us</a></p>'
)


def _posting(
    posting_id: str,
    title: str,
    *,
    account_id: str = ACCOUNT,
    company: str = COMPANY,
    employer_id: str = EMPLOYER,
    provider: str = PROVIDER,
    days_ago: float = 1.0,
    remote: bool = False,
    questions: list[dict[str, Any]] | None = None,
    content_html: str = "<p>Join a small team that ships every day.</p>",
    status: str = "live",
) -> Posting:
    posted = NOW - timedelta(days=days_ago)
    return Posting(
        job_id=make_job_id(account_id, posting_id),
        account_id=account_id,
        posting_id=posting_id,
        employer_id=employer_id,
        company=company,
        provider=provider,
        title=title,
        department="Engineering",
        locations=[Location(name="Remote - EU" if remote else "Berlin, Germany")],
        remote=remote,
        employment_type="permanent",
        contract_type="full_time",
        compensation=[
            Compensation(
                kind="salary", label="Base salary", currency="EUR", min=90000, max=120000, period="year"
            )
        ],
        content_html=content_html,
        content_plain=re.sub(r"<[^>]+>", " ", content_html),
        questionnaires=[
            Questionnaire(
                id="qn_1",
                name="Questions",
                questions=[
                    Question(**{**q, "options": [QuestionOption(**o) for o in q.get("options", [])]})
                    for q in (questions or [])
                ],
            )
        ]
        if questions
        else [],
        external_url=f"https://jobs.example/{posting_id}",
        created_at=posted,
        updated_at=posted,
        first_seen_at=posted,
        last_seen_at=posted,
        changed_at=posted,
        status=status,
    )


def _stored_postings() -> list[Posting]:
    """The scripted job, a closed one, and 25 "Engineer N" postings (Engineer 0 newest)."""
    board = [
        _posting(
            f"post_{index}",
            f"Engineer {index}",
            account_id="acc_demo_greenhouse_acme" if index % 2 else "acc_demo_workday_globex",
            company="Acme Robotics" if index % 2 else "Globex",
            employer_id="emp_demo_acme" if index % 2 else "emp_demo_globex",
            provider="greenhouse" if index % 2 else "workday",
            days_ago=0.1 + index,
            remote=index % 2 == 0,
        )
        for index in range(25)
    ]
    job = _posting(
        "post_platform", "Staff Platform Engineer", days_ago=40, questions=QUESTIONS, content_html=DESCRIPTION
    )
    closed = _posting("post_closed", "Night Shift Nurse", days_ago=50, status="closed")
    return [*board, job, closed]


@dataclass
class Site:
    url: str
    moto_url: str
    email_queue_url: str = ""


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    import boto3

    from local.bootstrap import BootstrapNames, bootstrap
    from local.stack import LocalStackConfig, app_environment, local_settings

    moto_port, api_port = free_port(), free_port()
    config = LocalStackConfig(
        moto_port=moto_port,
        stackone_port=free_port(),
        embloy_port=free_port(),
        api_port=api_port,
        state_dir=ARTIFACTS / "pages-stack",
    )
    moto = start_server(
        "pages-moto",
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(moto_port)],
        port=moto_port,
        health_path="/moto-api/",
        env=app_environment(config, sync_queue_url=""),
    )
    api: Server | None = None
    try:
        names = BootstrapNames.from_settings(local_settings(app_environment(config, sync_queue_url="")))
        result = bootstrap(config.moto_url, names=names, stackone_api_key="sandbox-key-unused")
        table = boto3.resource(
            "dynamodb",
            endpoint_url=config.moto_url,
            region_name=config.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).Table(names.table_name)
        with table.batch_writer() as batch:
            for posting in _stored_postings():
                batch.put_item(Item=posting_to_item(posting))
        env = app_environment(
            config,
            sync_queue_url=result.queue_url,
            snapshot_bucket=result.snapshot_bucket,
            email_queue_url=result.email_queue_url,
        )
        env["BOARD_REFRESH_SECONDS"] = "0"
        config.board_dir.mkdir(parents=True, exist_ok=True)
        api = start_server(
            "pages-chalice", chalice_argv(api_port), port=api_port, health_path="/health", env=env
        )
        yield Site(api.url, config.moto_url, result.email_queue_url)
    finally:
        if api is not None:
            api.stop()
        moto.stop()


def _summary(index: int) -> dict[str, Any]:
    return {
        "job_id": f"job{index}",
        "title": f"Engineer {index}",
        "company": "Acme Robotics" if index % 2 else "Globex",
        "provider": "greenhouse",
        "locations": ["Berlin, Germany"],
        "remote": index % 2 == 0,
        "employment_type": "full_time",
        "compensation_summary": {"text": f"EUR {index},000 / year"},
        "posted_at": (NOW - timedelta(days=index + 0.1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


class FakeApi:
    """Answers the JSON API paths the pages' scripts call; records what they sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.application_replies: list[tuple[int, dict[str, Any]]] = []
        self.jobs_failures = 0  # answer this many `GET /jobs` with 503 first
        self.accounts_attention = True
        # Presigned upload forms post to the site's storage endpoint (moto locally), the one origin the
        # job page's Content-Security-Policy allows besides its own.
        self.upload_origin = ""
        self.uploads: list[bytes] = []  # multipart bodies the page posted to the upload bucket
        self.notifications: dict[str, Any] = {
            "email": None,
            "new_applications_digest": False,
            "updated_at": None,
        }

    def upload(self, route: Any) -> None:
        self.uploads.append(route.request.post_data_buffer or b"")
        route.fulfill(status=204, headers={"Access-Control-Allow-Origin": "*"})

    def matches(self, url: str) -> bool:
        if self.upload_origin and url.startswith(self.upload_origin):
            return False
        path = urlparse(url).path
        return not path.startswith("/board") and path not in ("/", "/health", "/robots.txt")

    def route(self, page: Any, upload_origin: str) -> None:
        self.upload_origin = upload_origin
        page.route(self.matches, self.handle)
        page.route(f"{upload_origin}/**", self.upload)

    def handle(self, route: Any) -> None:
        request = route.request
        parsed = urlparse(request.url)
        body = request.post_data
        self.requests.append(
            {
                "method": request.method,
                "path": parsed.path,
                "query": parse_qs(parsed.query),
                "headers": request.headers,
                "json": json.loads(body) if body else None,
            }
        )
        status, payload = self.reply(request.method, parsed.path, parse_qs(parsed.query))
        route.fulfill(status=status, content_type="application/json", body=json.dumps(payload))

    def reply(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "/jobs/suggest":
            typed = (query.get("q") or [""])[0].lower()
            titles = [
                name for name in ("Platform Engineer", "Platform Lead") if name.lower().startswith(typed)
            ]
            companies = [name for name in ("Globex",) if name.lower().startswith(typed.split()[-1])]
            return 200, {
                "titles": [{"text": title, "count": 3} for title in titles],
                "companies": [{"text": name, "count": 13} for name in companies],
                "places": [],
            }
        if path == "/jobs":
            if self.jobs_failures:
                self.jobs_failures -= 1
                return 503, {"error": {"code": "board_unavailable", "message": "Request failed (503)."}}
            start = 20 if query.get("cursor") else 0  # the server's own cursor or the scripted one
            limit = int((query.get("limit") or ["20"])[0])
            count = min(limit, 25 - start)
            return 200, {
                "data": [_summary(i) for i in range(start, start + count)],
                "next_cursor": "page2" if start + count < 25 else None,
                "total": 25,
                "facets": {
                    "company": {"Acme Robotics": 12, "Globex": 13},
                    "remote": {"true": 13, "false": 12},
                    "employment_type": {"full_time": 25},
                    "location": {"Berlin, Germany": 25},
                    "provider": {"greenhouse": 25},
                },
            }
        if path == f"/jobs/{JOB_ID}/resume-uploads" and method == "POST":
            return 201, {
                "upload_id": UPLOAD_ID,
                "url": f"{self.upload_origin}/",
                "fields": {
                    "key": f"resumes/job/{UPLOAD_ID}",
                    "Content-Type": "application/pdf",
                    "policy": "p",
                },
                "max_bytes": 10485760,
                "expires_in": 900,
            }
        if path == f"/jobs/{JOB_ID}/applications" and method == "POST":
            if self.application_replies:
                return self.application_replies.pop(0)
            return 201, {"application_id": "app_123", "status": "created"}
        if path == "/employer":
            return 200, {"employer_id": "emp_demo_acme", "name": "Acme Robotics"}
        if path == "/accounts":
            accounts: list[dict[str, Any]] = [
                {
                    "account_id": "acct_gh",
                    "provider": "greenhouse",
                    "provider_name": "Greenhouse",
                    "status": "active",
                    "status_reasons": [],
                    "sync": {"last_outcome": "succeeded", "live_postings": 7},
                    "needs_attention": False,
                }
            ]
            if self.accounts_attention:
                accounts.append(
                    {
                        "account_id": "acct_wd",
                        "provider": "workday",
                        "status": "error",
                        "status_reasons": [
                            {"code": "invalid_credentials", "description": "Credentials expired"}
                        ],
                        "sync": {
                            "last_outcome": "auth_failed",
                            "live_postings": 0,
                            "last_error": "401 from ATS",
                        },
                        "needs_attention": True,
                        "attention": {
                            "reason": "Reconnect Workday: its credentials expired.",
                            "action": "reconnect",
                        },
                    }
                )
            return 200, {"data": accounts}
        if path == "/connect-sessions" and method == "POST":
            return 201, {
                "token": "cs_token_123",
                "auth_link_url": "https://hub.stackone.test/link?token=cs_token_123",
                "expires_at": "2026-11-22T15:00:00Z",
            }
        if path == "/accounts/acct_gh/sync":
            return 202, {"status": "queued", "account_id": "acct_gh", "run_id": "r1", "mode": "auto"}
        if path == "/employer/notifications":
            if method == "PUT":
                sent = self.requests[-1]["json"] or {}
                if sent.get("email") and "@" not in sent["email"]:
                    fields = {"email": "must be a valid email address"}
                    return 400, {"error": {"code": "invalid_request", "message": "email", "fields": fields}}
                self.notifications = {**sent, "updated_at": "2026-12-07T09:30:00Z"}
            return 200, self.notifications
        if path == "/employer/embloy-token" and method == "GET":
            return 200, {"configured": False, "updated_at": None, "needs_renewal": False}
        return 404, {"error": {"code": "not_found", "message": "No such route."}}


@pytest.fixture
def fake_api(site: Site, page: Any) -> FakeApi:
    api = FakeApi()
    api.route(page, site.moto_url)
    return api


@pytest.fixture(params=list(SIZES))
def sized(request: pytest.FixtureRequest, site: Site, browser: Any) -> Iterator[tuple[str, Any, FakeApi]]:
    """(size name, page, fake API) at desktop and at phone size."""
    context, opened = open_page(browser, SIZES[request.param])
    api = FakeApi()
    api.route(opened, site.moto_url)
    yield request.param, opened, api
    context.close()
    assert opened.js_errors == [], opened.js_errors


def after_shot(page: Any, name: str, *, full_page: bool = False) -> None:
    AFTER.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(AFTER / f"{name}.png"), full_page=full_page)


def _axe_without_scripts(browser: Any, url: str, viewport: dict[str, int]) -> list[str]:
    """axe on a page as a browser without JavaScript shows it: our scripts are not loaded (axe itself is
    injected by Playwright, which a context with JavaScript disabled would not allow)."""
    context, page = open_page(browser, viewport)
    page.route(re.compile(r".*/board/assets/.*\.js$"), lambda route: route.abort())
    page.goto(url)
    try:
        assert page.evaluate("document.documentElement.classList.contains('js')") is False
        return accessibility_violations(page, impacts=SERIOUS)
    finally:
        context.close()


def _layout_shift(page: Any) -> float:
    """The page's cumulative layout shift so far (layout-shift entries without recent input)."""
    return float(
        page.evaluate(
            """() => new Promise((resolve) => {
                let total = 0;
                new PerformanceObserver((list) => {
                  for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
                }).observe({ type: "layout-shift", buffered: true });
                setTimeout(() => resolve(total), 300);
            })"""
        )
    )


# ---- 1. server-rendered pages, real 404/410 ---------------------------------------------------------
def test_job_page_is_complete_before_any_script_runs(site: Site, sized: tuple[str, Any, FakeApi]) -> None:
    size, page, api = sized
    response = page.goto(f"{site.url}/board/jobs/{JOB_ID}")

    assert response.status == 200
    html = response.text()  # what a crawler gets
    assert '<h1 id="job-title">Staff Platform Engineer</h1>' in html
    assert "Build the <strong>platform</strong>" in html
    ld = json.loads(page.locator('head script[type="application/ld+json"]').text_content() or "{}")
    assert ld["@type"] == "JobPosting" and ld["title"] == "Staff Platform Engineer"
    assert ld["directApply"] is True and ld["identifier"]["value"] == JOB_ID
    assert page.title() == "Staff Platform Engineer at Northwind Health · Unified Job Board"
    assert not any(r["path"].startswith("/jobs") for r in api.requests)  # nothing fetched to show it
    # No layout shift: the description is part of the page, not loaded into it.
    page.get_by_label("First name").wait_for()
    assert _layout_shift(page) < 0.02
    after_shot(page, f"job-{size}")
    after_shot(page, f"job-{size}-full", full_page=True)


@pytest.mark.parametrize(("job_id", "status", "heading"), [
    (make_job_id(ACCOUNT, "post_gone_forever"), 404, "We couldn't find that job"),
    ("not-a-job", 404, "We couldn't find that job"),
    (CLOSED_ID, 410, "This job is no longer open"),
])  # fmt: skip
def test_unknown_and_closed_jobs_answer_404_and_410_with_a_way_on(
    site: Site, sized: tuple[str, Any, FakeApi], job_id: str, status: int, heading: str
) -> None:
    size, page, _ = sized
    response = page.goto(f"{site.url}/board/jobs/{job_id}")

    assert response.status == status
    page.get_by_role("heading", name=heading).wait_for()
    assert page.get_by_role("link", name="Browse all jobs").is_visible()
    assert page.get_by_role("searchbox", name="Search jobs").is_visible()
    if status == 410:
        page.get_by_role("link", name="Other jobs at Northwind Health").click()
        page.wait_for_url(re.compile(r".*/board\?company=Northwind\+Health"))
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    assert accessibility_violations(page, impacts=SERIOUS) == []
    after_shot(page, f"missing-{status}-{size}")


def test_board_first_results_and_pagination_are_in_the_html(
    site: Site, sized: tuple[str, Any, FakeApi]
) -> None:
    size, page, api = sized
    response = page.goto(f"{site.url}/board")

    html = response.text()
    assert html.count('class="job-card"') == 20
    assert 'rel="next"' in html  # "Next page" for browsers without scripts
    assert page.locator("#results > li").count() == 20
    assert not any(r["path"] == "/jobs" for r in api.requests)  # the script reused the server's results
    expect(page.locator("#status")).to_have_text("26 jobs")
    # On a phone the results come first: the first result starts high on the screen.
    first = page.locator("#results > li").first.bounding_box()
    assert first and first["y"] < (420 if size == "phone" else 300)
    posted = page.locator("#results .posted").nth(1).inner_text()  # relative posted dates
    assert re.fullmatch(r"Posted (yesterday|\d+ days ago)", posted), posted
    assert accessibility_violations(page, impacts=SERIOUS) == []
    after_shot(page, f"board-{size}")


# ---- 4. candidate UX --------------------------------------------------------------------------------
def test_apply_button_is_in_the_job_header_and_sticky_on_phones(
    site: Site, sized: tuple[str, Any, FakeApi]
) -> None:
    size, page, _ = sized
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")

    header_apply = page.locator("#apply-top")
    box = header_apply.bounding_box()
    assert box and box["y"] + box["height"] < SIZES[size]["height"]  # in the first screen
    sticky = page.locator("#sticky-apply")
    if size == "phone":
        page.locator("#description-heading").scroll_into_view_if_needed()
        page.mouse.wheel(0, 400)
        expect(sticky).to_be_visible()
        after_shot(page, "job-phone-sticky-apply")
        sticky.get_by_role("link", name="Apply now").click()
        expect(page.locator("#apply-embloy")).to_be_focused()
        expect(sticky).to_be_hidden()  # out of the way once the apply section is on screen
    else:
        assert sticky.is_hidden()
        header_apply.click()
        expect(page.locator("#apply-embloy")).to_be_focused()
    assert page.locator("#apply-heading").bounding_box()["y"] < SIZES[size]["height"]


def test_filters_sheet_on_a_phone_with_show_n_jobs_and_chips(site: Site, browser: Any) -> None:
    context, page = open_page(browser, PHONE)
    api = FakeApi()
    page.route(api.matches, api.handle)
    page.goto(f"{site.url}/board")

    assert page.locator("#filters").is_hidden()
    toggle = page.get_by_role("link", name="Filters")
    toggle.click()
    sheet = page.locator("#filters")
    expect(sheet).to_be_visible()
    expect(page.locator("#filters-heading")).to_be_focused()
    assert sheet.bounding_box()["height"] >= PHONE["height"] - 1  # a full-screen sheet
    with page.expect_response(lambda r: "company=Globex" in r.url):
        page.get_by_label("Globex (13)").check()
    show = page.get_by_role("button", name="Show 25 jobs")
    expect(show).to_be_visible()
    after_shot(page, "board-phone-filters-sheet")
    show.click()
    expect(sheet).to_be_hidden()
    chip = page.get_by_role("link", name="Remove filter Company: Globex")
    expect(chip).to_be_visible()
    expect(page.get_by_role("link", name="Filters, 1 active")).to_be_visible()
    after_shot(page, "board-phone-chips")
    with page.expect_response(lambda r: r.url.endswith("/jobs?limit=20")):
        chip.click()
    expect(chip).to_be_hidden()
    assert "company" not in parse_qs(urlparse(page.url).query)
    context.close()
    assert page.js_errors == []


def test_desktop_filters_apply_at_once_with_chips_and_focus_kept(
    site: Site, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board?q=engineer")

    assert page.get_by_label("Search jobs").input_value() == "engineer"
    with page.expect_response(lambda response: "company=Globex" in response.url):
        page.get_by_label("Globex (13)").check()
    assert parse_qs(urlparse(page.url).query) == {"q": ["engineer"], "company": ["Globex"]}
    expect(page.get_by_label("Globex (13)")).to_be_focused()  # re-rendered with new counts, focus kept
    expect(page.get_by_role("link", name="Remove filter Company: Globex")).to_be_visible()
    assert page.locator("#show-results").is_hidden()  # filters apply at once; no submit button needed
    with page.expect_response(lambda response: "sort=newest" in response.url):
        page.get_by_label("Sort by").select_option("newest")
    assert parse_qs(urlparse(page.url).query)["sort"] == ["newest"]
    after_shot(page, "board-desktop-filtered")


def test_the_alert_form_follows_the_search_as_filters_change_in_place(
    site: Site, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board?q=engineer")

    def alert_fields() -> list[tuple[str, str]]:
        return sorted(
            (str(field.get_attribute("name")), str(field.get_attribute("value")))
            for field in page.locator("#alert-search input").all()
        )

    assert alert_fields() == [("q", "engineer")]
    with page.expect_response(lambda response: "company=Globex" in response.url):
        page.get_by_label("Globex (13)").check()

    assert alert_fields() == [("company", "Globex"), ("q", "engineer")]
    expect(page.get_by_role("button", name="Email me new jobs")).to_be_visible()


def test_back_from_a_job_restores_the_page_and_scroll(site: Site, sized: tuple[str, Any, FakeApi]) -> None:
    _, page, _ = sized
    page.goto(f"{site.url}/board")
    with page.expect_response(lambda response: "cursor=" in response.url):
        page.get_by_role("button", name="Load more").click()
    page.locator("#results > li").nth(24).wait_for()
    assert parse_qs(urlparse(page.url).query)["page"] == ["2"]  # the page count is in the URL
    expect(page.get_by_role("link", name="Engineer 20")).to_be_focused()
    target = page.get_by_role("link", name="Engineer 24")
    target.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 200

    # The scripted summaries link to ids the store does not have: the job page answers 404, which is fine.
    target.click()
    page.wait_for_url(re.compile(r".*/board/jobs/job24"))
    page.go_back()
    page.wait_for_url(re.compile(r".*/board\?page=2"))
    page.locator("#results > li").nth(24).wait_for()
    assert page.locator("#results > li").count() >= 25
    assert abs(page.evaluate("window.scrollY") - scrolled) < 80


def test_board_failures_read_as_people_speak_and_can_be_retried(
    site: Site, sized: tuple[str, Any, FakeApi]
) -> None:
    size, page, api = sized
    page.goto(f"{site.url}/board")
    api.jobs_failures = 1

    if size == "phone":
        page.get_by_role("link", name="Filters").click()
    with page.expect_response(lambda response: response.status == 503):
        page.get_by_label("Globex (13)").check()
    if size == "phone":
        page.get_by_role("link", name="Close").click()
    status = page.locator("#status")
    expect(status).to_contain_text("We couldn't load jobs.")
    assert "503" not in status.inner_text() and "Request failed" not in status.inner_text()
    after_shot(page, f"board-{size}-error-retry")
    with page.expect_response(lambda response: response.status == 200 and "/jobs?" in response.url):
        page.get_by_role("button", name="Retry").click()
    expect(status).to_have_text("25 jobs")


# ---- the application form ---------------------------------------------------------------------------
def _fill_application(page: Any) -> None:
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Resume").set_input_files(
        files=[{"name": "resume.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% resume\n"}]
    )
    page.get_by_label("Preferred name").fill("Ada")
    page.get_by_role("group", name="Work permit?").get_by_label("No").check()
    page.get_by_label("Do you need sponsorship details?").fill("Yes, a Blue Card.")
    page.get_by_role("group", name="Languages").get_by_label("Python").check()
    page.get_by_role("group", name="Languages").get_by_label("Go").check()
    page.get_by_role("group", name="Open to relocation?").get_by_label("Yes").check()
    page.get_by_label("Years of experience").fill("12")
    page.get_by_label("Earliest start date").fill("2027-01-15")
    page.get_by_label("Portfolio").fill("https://ada.example")


def test_every_question_type_gets_its_control(site: Site, page: Any, fake_api: FakeApi) -> None:
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")

    assert (
        page.get_by_role("link", name="Apply with Embloy").get_attribute("href")
        == f"/jobs/{JOB_ID}/apply/embloy"
    )
    assert page.get_by_label("Preferred name").get_attribute("type") == "text"
    assert page.get_by_label("Preferred name").get_attribute("aria-required") == "true"
    assert page.get_by_label("Why us?").evaluate("el => el.tagName") == "TEXTAREA"
    assert page.get_by_role("group", name="Work permit?").get_by_role("radio").count() == 2
    assert page.get_by_role("group", name="Languages").get_by_role("checkbox").count() == 3
    assert page.get_by_role("group", name="Open to relocation?").get_by_role("radio").count() == 2
    assert page.get_by_label("Years of experience").get_attribute("type") == "number"
    assert page.get_by_label("Earliest start date").get_attribute("type") == "date"
    assert page.get_by_label("Portfolio").get_attribute("type") == "url"
    assert page.get_by_label("Cover letter").get_attribute("type") == "file"
    conditional = page.get_by_label("Do you need sponsorship details?")
    assert conditional.is_hidden()
    page.get_by_role("group", name="Work permit?").get_by_label("No").check()
    assert conditional.is_visible()
    page.get_by_role("group", name="Work permit?").get_by_label("Yes").check()
    assert conditional.is_hidden()


def test_after_applying_the_options_give_way_to_the_confirmation_and_next_steps(
    site: Site, sized: tuple[str, Any, FakeApi]
) -> None:
    size, page, api = sized
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")
    _fill_application(page)

    page.get_by_role("button", name="Send application").click()

    page.get_by_role("heading", name="Application sent").wait_for()
    sent = api.requests[-1]
    assert sent["method"] == "POST" and sent["path"] == f"/jobs/{JOB_ID}/applications"
    body = sent["json"]
    assert body["candidate"] == {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
    # The resume went to the upload bucket first (form fields, then the file), and the body names it.
    (created,) = [r for r in api.requests if r["path"] == f"/jobs/{JOB_ID}/resume-uploads"]
    assert created["json"] == {"filename": "resume.pdf"}
    (posted,) = api.uploads
    assert posted.index(b'name="key"') < posted.index(b'name="file"')
    assert b"%PDF-1.4\n% resume\n" in posted
    assert body["resume"] == {"filename": "resume.pdf", "upload_id": UPLOAD_ID}
    answers = {a["question_id"]: a["value"] for a in body["answers"]}
    assert answers["q_multi"] == ["py", "go"] and answers["q_bool"] is True and answers["q_number"] == 12
    result = page.locator("#application-result")
    expect(result.get_by_role("heading", name="What happens next")).to_be_visible()
    assert "contact you at ada@example.com" in result.inner_text()
    assert "app_123" in result.inner_text()
    assert page.get_by_role("link", name="Apply with Embloy").count() == 0
    assert page.locator("#application-form").count() == 0
    assert page.locator("#apply-top").is_hidden() and page.locator("#sticky-apply").is_hidden()
    expect(result.get_by_role("link", name="More jobs at Northwind Health")).to_be_visible()
    after_shot(page, f"job-{size}-applied")


def test_application_errors_are_human_and_a_failed_send_can_be_retried(
    site: Site, sized: tuple[str, Any, FakeApi]
) -> None:
    size, page, api = sized
    api.application_replies = [
        (
            400,
            {
                "error": {
                    "code": "invalid_application",
                    "message": "candidate.email: Value error, must be a valid email address",
                    "fields": {"candidate.email": "Value error, must be a valid email address"},
                }
            },
        ),
        (503, {"error": {"code": "ats_unavailable", "message": "Request failed (503)."}}),
    ]
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")
    _fill_application(page)

    page.get_by_role("button", name="Send application").click()
    email = page.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    errors = page.locator("#form-errors")
    expect(errors).to_have_text("Please correct the marked fields.")
    assert page.get_by_text("Must be a valid email address", exact=True).is_visible()
    assert "Value error" not in page.locator("#apply").inner_text()
    expect(email).to_be_focused()

    page.get_by_role("button", name="Send application").click()
    expect(errors).to_contain_text("Something went wrong on our side. Please try again in a moment.")
    assert "503" not in errors.inner_text()
    after_shot(page, f"job-{size}-send-failed-retry")
    first_key = api.requests[-1]["headers"]["idempotency-key"]
    page.get_by_role("button", name="Retry").click()
    page.get_by_role("heading", name="Application sent").wait_for()
    assert api.requests[-1]["headers"]["idempotency-key"] == first_key  # the same attempt, not a new one


def test_missing_required_answers_are_flagged_before_sending(
    site: Site, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")

    page.get_by_role("button", name="Send application").click()

    assert page.get_by_label("First name").get_attribute("aria-invalid") == "true"
    assert (
        page.get_by_role("group", name="Open to relocation?")
        .get_by_text("Please answer this question.")
        .is_visible()
    )
    assert not any(r["path"].endswith("/applications") for r in fake_api.requests)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("applied=embloy", "Your application through Embloy was sent."),
        ("cancelled=embloy", "You left Embloy"),
    ],
)
def test_return_from_embloy_is_acknowledged(
    site: Site, page: Any, fake_api: FakeApi, query: str, message: str
) -> None:
    page.goto(f"{site.url}/board/jobs/{JOB_ID}?{query}")

    expect(page.locator("#status")).to_contain_text(message)


# ---- 5. employer page -------------------------------------------------------------------------------
def _sign_in(page: Any, site: Site) -> None:
    page.goto(f"{site.url}/board/employer")
    page.get_by_label("Employer API key").fill("emp_secret_key")
    page.get_by_role("button", name="Use key").click()
    page.get_by_role("heading", name="Greenhouse").wait_for()


def test_employer_page_names_the_company_and_puts_reconnect_first(
    site: Site, sized: tuple[str, Any, FakeApi]
) -> None:
    size, page, api = sized
    _sign_in(page, site)

    expect(page.locator("#signed-in")).to_have_text("Signed in as Acme Robotics")
    expect(page.get_by_label("Employer API key")).to_be_hidden()
    assert api.requests[0]["headers"]["authorization"] == "Bearer emp_secret_key"
    storage = page.evaluate(
        "() => ({local: {...localStorage}, session: {...sessionStorage}, cookie: document.cookie})"
    )
    assert storage["local"] == {} and storage["cookie"] == ""
    assert list(storage["session"].values()) == ["emp_secret_key"]
    workday = page.locator("[data-account-id=acct_wd]")
    assert "Reconnect Workday" in workday.inner_text()
    buttons = workday.locator(".button-row button")
    assert buttons.nth(0).inner_text() == "Reconnect"
    assert "secondary" not in (buttons.nth(0).get_attribute("class") or "")  # the primary action
    assert "secondary" in (buttons.nth(1).get_attribute("class") or "")  # "Sync now" steps back
    healthy = page.locator("[data-account-id=acct_gh] .button-row button")
    assert healthy.count() == 1 and "secondary" not in (healthy.first.get_attribute("class") or "")
    assert accessibility_violations(page, impacts=SERIOUS) == []
    after_shot(page, f"employer-{size}")

    page.get_by_role("button", name="Sync Greenhouse account now").click()
    page.get_by_text("Sync queued").wait_for()
    page.get_by_role("button", name="Sign out (forget key)").click()
    expect(page.get_by_label("Employer API key")).to_be_visible()


def test_the_employer_sets_the_notification_address_and_the_daily_digest(
    site: Site, sized: tuple[str, Any, FakeApi]
) -> None:
    size, page, api = sized
    _sign_in(page, site)
    state = page.locator("#notifications-state")
    expect(state).to_have_text("No notification address: the board sends you no emails.")

    page.get_by_label("Notification address").fill("nope")
    page.get_by_role("button", name="Save notifications").click()
    expect(page.locator("#notification-email-error")).to_have_text("Address must be a valid email address")
    assert page.get_by_label("Notification address").get_attribute("aria-invalid") == "true"

    page.get_by_label("Notification address").fill("")
    page.get_by_label("Daily digest of new applications").check()
    page.get_by_role("button", name="Save notifications").click()
    expect(page.locator("#notification-digest-error")).to_be_visible()  # refused before any request

    page.get_by_label("Notification address").fill("hiring@acme.example")
    page.get_by_role("button", name="Save notifications").click()
    expect(state).to_contain_text("Saved. We email hiring@acme.example")
    expect(state).to_contain_text("and a daily digest of new applications")
    puts = [r for r in api.requests if r["path"] == "/employer/notifications" and r["method"] == "PUT"]
    assert [r["json"] for r in puts] == [
        {"email": "nope", "new_applications_digest": False},
        {"email": "hiring@acme.example", "new_applications_digest": True},
    ]
    assert puts[-1]["headers"]["authorization"] == "Bearer emp_secret_key"
    expect(page.locator("#notification-email-error")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    assert accessibility_violations(page, impacts=SERIOUS) == []
    page.locator("#notifications-form").scroll_into_view_if_needed()
    after_shot(page, f"employer-notifications-{size}")


def test_connect_opens_the_hub_without_a_false_blocked_tab_message(
    site: Site, page: Any, fake_api: FakeApi
) -> None:
    _sign_in(page, site)
    page.context.route("https://hub.stackone.test/**", lambda route: route.fulfill(body="<h1>Hub</h1>"))

    with page.expect_popup() as popup:
        page.get_by_role("button", name="Connect your ATS").click()

    assert popup.value.url == "https://hub.stackone.test/link?token=cs_token_123"
    container = page.locator("#hub-container")
    expect(container).to_contain_text("opens in a new tab")
    assert "blocked" not in container.inner_text()
    assert page.get_by_role("link", name="Open the StackOne Hub").get_attribute("href") == popup.value.url


def test_reconnect_starts_an_edit_session_for_that_account(site: Site, page: Any, fake_api: FakeApi) -> None:
    _sign_in(page, site)
    page.context.route("https://hub.stackone.test/**", lambda route: route.fulfill(body="<h1>Hub</h1>"))

    with page.expect_popup():
        page.get_by_role("button", name="Reconnect Workday").click()

    connect = next(r for r in fake_api.requests if r["path"] == "/connect-sessions")
    assert connect["json"] == {"provider": "workday", "account_id": "acct_wd"}


def test_connect_uses_the_stackone_hub_web_component_when_the_page_has_it(
    site: Site, page: Any, fake_api: FakeApi
) -> None:
    page.add_init_script(
        "customElements.define('stackone-hub', class extends HTMLElement {"
        " connectedCallback() { window.hubToken = this.getAttribute('token'); } });"
    )
    _sign_in(page, site)
    page.get_by_label("ATS (optional)").select_option("lever")
    page.get_by_role("button", name="Connect your ATS").click()

    page.locator("stackone-hub").wait_for(state="attached")
    assert page.evaluate("window.hubToken") == "cs_token_123"
    accounts_calls = sum(1 for r in fake_api.requests if r["path"] == "/accounts")
    page.locator("stackone-hub").dispatch_event("success")
    expect(page.get_by_text("Your ATS is connected.")).to_be_visible()
    assert sum(1 for r in fake_api.requests if r["path"] == "/accounts") == accounts_calls + 1


# ---- 6. accessibility, keyboard, phone width, and without JavaScript ---------------------------------
@pytest.mark.parametrize("path", ["/board", f"/board/jobs/{JOB_ID}", "/board/employer"])
def test_pages_fit_the_screen_and_pass_axe(site: Site, sized: tuple[str, Any, FakeApi], path: str) -> None:
    size, page, _ = sized
    page.goto(site.url + path)
    page.locator("main").wait_for()
    if path.startswith("/board/jobs"):
        page.get_by_label("First name").wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    assert accessibility_violations(page, impacts=SERIOUS) == []


def test_the_board_works_with_the_keyboard_alone(site: Site, page: Any, fake_api: FakeApi) -> None:
    page.goto(f"{site.url}/board")

    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Search jobs").focus()
    page.keyboard.type("platform")
    with page.expect_response(lambda response: "q=platform" in response.url):
        page.keyboard.press("Enter")
    page.get_by_label("Globex (13)").focus()
    with page.expect_response(lambda response: "company=Globex" in response.url):
        page.keyboard.press("Space")
    assert parse_qs(urlparse(page.url).query) == {"q": ["platform"], "company": ["Globex"]}
    page.get_by_role("button", name="Load more").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Engineer 20")).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"


def test_search_suggestions_are_a_keyboard_combobox(site: Site, page: Any, fake_api: FakeApi) -> None:
    page.goto(f"{site.url}/board")
    box = page.get_by_role("combobox", name="Search jobs")
    box.focus()
    page.keyboard.type("plat")
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    assert accessibility_violations(page, impacts=SERIOUS) == []

    page.keyboard.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id") or "")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # past the last: back to the first
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowUp")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_be_focused()  # the focus stays in the box throughout

    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("plat")

    page.keyboard.press("ArrowDown")  # opens the list again
    expect(listbox).to_be_visible()
    page.keyboard.press("ArrowDown")
    with page.expect_response(lambda response: "q=Platform+Engineer" in response.url):
        page.keyboard.press("Enter")
    assert parse_qs(urlparse(page.url).query) == {"q": ["Platform Engineer"]}
    expect(listbox).to_be_hidden()
    queries = [request["query"] for request in fake_api.requests if request["path"] == "/jobs/suggest"]
    assert queries and all(query["q"][0].startswith("pla") for query in queries)


def test_a_company_suggestion_becomes_a_filter(site: Site, page: Any, fake_api: FakeApi) -> None:
    page.goto(f"{site.url}/board")
    page.get_by_role("combobox", name="Search jobs").focus()
    page.keyboard.type("platform glob")
    expect(page.get_by_role("option", name="Globex Company")).to_be_visible()
    with page.expect_response(lambda response: "company=Globex" in response.url):
        page.get_by_role("option", name="Globex Company").click()
    assert parse_qs(urlparse(page.url).query) == {"q": ["platform"], "company": ["Globex"]}


@pytest.mark.parametrize("size", list(SIZES))
def test_without_javascript_the_board_searches_filters_and_pages(site: Site, browser: Any, size: str) -> None:
    context, page = open_page(browser, SIZES[size], javascript=False)
    page.goto(f"{site.url}/board")

    assert page.locator("#results > li").count() == 20
    if size == "phone":
        page.get_by_role("link", name="Filters").click()  # the sheet opens with CSS alone (:target)
        expect(page.locator("#filters")).to_be_visible()
        after_shot(page, "nojs-board-phone-filters")
    page.get_by_label(re.compile(r"^Globex \(\d+\)$")).check()
    page.get_by_role("button", name=re.compile(r"^Show \d+ jobs$")).click()
    page.wait_for_url(re.compile(r".*company=Globex"))
    companies = set(page.locator("#results .company").all_inner_texts())
    assert companies == {"Globex"}
    expect(page.get_by_role("link", name="Remove filter Company: Globex")).to_be_visible()
    page.get_by_label("Search jobs").fill("engineer")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r".*q=engineer.*company=Globex|.*company=Globex.*q=engineer"))
    page.get_by_role("link", name="Remove filter Company: Globex").click()
    page.wait_for_url(re.compile(r".*/board\?q=engineer$"))
    page.get_by_role("link", name="Next page").click()
    page.locator("#results > li").first.wait_for()
    assert page.locator("#results > li").count() == 6  # 26 postings: 20 + 6
    assert page.get_by_role("link", name="First page").is_visible()
    assert _axe_without_scripts(browser, page.url, SIZES[size]) == []
    after_shot(page, f"nojs-board-{size}")
    context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_without_javascript_the_job_page_reads_and_offers_ways_to_apply(
    site: Site, browser: Any, size: str
) -> None:
    context, page = open_page(browser, SIZES[size], javascript=False)
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")

    page.get_by_role("heading", name="Staff Platform Engineer").wait_for()
    assert page.locator("#description").get_by_role("heading", name="What you will do").is_visible()
    assert page.get_by_role("link", name="Apply with Embloy").is_visible()
    assert "needs JavaScript" in page.locator("#apply").inner_text()
    assert page.locator("#application-form").is_hidden()
    assert "EUR 90,000\u2013120,000 / year" in page.locator(".job-header").inner_text()
    page.get_by_role("link", name="Apply now").first.click()
    assert page.url.endswith("#apply")
    assert _axe_without_scripts(browser, page.url, SIZES[size]) == []
    after_shot(page, f"nojs-job-{size}")
    context.close()


def _queued_emails(site: Site) -> list[dict[str, Any]]:
    """The emails the app queued (bodies of the email queue's messages in moto's server)."""
    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=site.moto_url,
        region_name=DEFAULT_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    found = sqs.receive_message(QueueUrl=site.email_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(message["Body"]) for message in found.get("Messages", [])]


def _unsubscribe_url(site: Site, confirm_url: str) -> str:
    """The unsubscribe link a digest email would carry, for the alert of a confirm link (signed with the
    key the app derives from the stack's cursor secret)."""
    import hashlib
    import hmac
    from urllib.parse import unquote

    import boto3

    from chalicelib.services.alert_links import AlertLinks

    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=site.moto_url,
        region_name=DEFAULT_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    [name] = [
        entry["Name"]
        for entry in secrets.list_secrets()["SecretList"]
        if entry["Name"].endswith("cursor-signing-key")
    ]
    secret = secrets.get_secret_value(SecretId=name)["SecretString"]
    key = hmac.new(secret.encode(), b"alert-links", hashlib.sha256).digest()
    base, _, token = confirm_url.partition("/alerts/confirm?token=")
    links = AlertLinks(key, pages_base_url=base)
    return links.url("unsubscribe", links.alert_id("confirm", unquote(token)))


@pytest.mark.parametrize("size", list(SIZES))
def test_without_javascript_an_alert_is_signed_up_confirmed_managed_and_unsubscribed(
    site: Site, browser: Any, size: str
) -> None:
    context, page = open_page(browser, SIZES[size], javascript=False)
    page.goto(f"{site.url}/board?q=engineer&company=Globex")
    address = f"alert-{size}@example.org"

    page.get_by_label("Email address").fill(address)
    page.get_by_label("How often").select_option("weekly")
    page.get_by_role("button", name="Email me new jobs").click()
    page.wait_for_url(re.compile(r".*/board/alerts/subscribed$"))
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    assert _axe_without_scripts(browser, page.url, SIZES[size]) == []
    [email] = [message for message in _queued_emails(site) if message["to"] == address]
    assert email["context"]["search_url"].endswith("/board?q=engineer&company=Globex")

    page.goto(email["context"]["confirm_url"])
    expect(page.get_by_role("heading", name="Your job alert is on")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    assert _axe_without_scripts(browser, page.url, SIZES[size]) == []
    after_shot(page, f"alert-confirmed-{size}")
    page.get_by_role("link", name="Manage this alert").click()
    page.get_by_label("Once a day").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator(".account-details")).to_contain_text("Once a day")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    assert _axe_without_scripts(browser, page.url, SIZES[size]) == []
    after_shot(page, f"alert-manage-{size}")

    page.goto(_unsubscribe_url(site, email["context"]["confirm_url"]))
    expect(page.get_by_role("heading", name="Unsubscribe from this job alert?")).to_be_visible()
    assert _axe_without_scripts(browser, page.url, SIZES[size]) == []
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
    page.goto(page.url.replace("/alerts/unsubscribe?", "/alerts/manage?"))
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    assert _axe_without_scripts(browser, page.url, SIZES[size]) == []
    context.close()
