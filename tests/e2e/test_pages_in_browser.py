"""The pages in a real browser against a scripted API (Playwright request interception).

The full-stack journeys live in test_full_stack.py; these pin down behaviour the demo data cannot
exercise exhaustively: every question type, conditional questions, field errors next to fields,
JSON-LD, facet/URL state, the employer key's storage, and the phone-width layout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    PHONE,
    Server,
    accessibility_violations,
    base_env,
    chalice_argv,
    free_port,
    shot,
    start_server,
)

JOB_ID = "YWNjdF8xCnBvc3RfMQ"
# Where the local stage's presigned upload forms post (no endpoint override: the bucket's regional URL);
# the job page's Content-Security-Policy allows exactly this origin.
UPLOAD_ORIGIN = "https://job-board-resume-uploads.s3.eu-central-1.amazonaws.com"
UPLOAD_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def site() -> Iterator[Server]:
    port = free_port()
    server = start_server(
        "pages-chalice", chalice_argv(port), port=port, health_path="/health", env=base_env()
    )
    yield server
    server.stop()


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

JOB: dict[str, Any] = {
    "job_id": JOB_ID,
    "title": "Staff Platform Engineer",
    "company": "Acme Robotics",
    "provider": "ashby",
    "locations": ["Berlin, Germany"],
    "remote": True,
    "employment_type": "full_time",
    "department": "Engineering",
    "posted_at": "2026-11-01T09:00:00Z",
    "compensation_summary": {"text": "EUR 90,000\u2013120,000 / year"},
    "compensation": [
        {
            "kind": "salary",
            "label": "Base salary",
            "currency": "EUR",
            "min": 90000,
            "max": 120000,
            "period": "year",
        }
    ],
    "content_html": "<h3>What you will do</h3><p>Build the <strong>platform</strong>.</p>"
    '<p><a href="https://acme.example/about">About us</a></p>',
    "content_plain": "What you will do. Build the platform.",
    "questionnaires": [{"id": "qn_1", "name": "Acme questions", "questions": QUESTIONS}],
    "apply": {"embloy": True, "native": True, "external_url": "https://acme.example/jobs/1"},
    "json_ld": {"@context": "https://schema.org", "@type": "JobPosting", "title": "Staff Platform Engineer"},
}


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
        "posted_at": "2026-11-01T09:00:00Z",
    }


class FakeApi:
    """Answers the JSON API paths in the browser; records what the page sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.application_reply: tuple[int, dict[str, Any]] = (201, {"application_id": "app_123"})
        self.uploads: list[bytes] = []  # multipart bodies the page posted to the upload bucket

    def upload(self, route: Any) -> None:
        self.uploads.append(route.request.post_data_buffer or b"")
        route.fulfill(status=204, headers={"Access-Control-Allow-Origin": "*"})

    def matches(self, url: str) -> bool:
        parsed = urlparse(url)
        if url.startswith(UPLOAD_ORIGIN):
            return False
        return not parsed.path.startswith("/board") and parsed.path not in ("/", "/health")

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
        if path == "/jobs":
            start = 20 if query.get("cursor") == ["page2"] else 0
            count = 20 if start == 0 else 5
            return 200, {
                "data": [_summary(i) for i in range(start, start + count)],
                "next_cursor": "page2" if start == 0 else None,
                "total": 25,
                "facets": {
                    "company": {"Acme Robotics": 12, "Globex": 13},
                    "remote": {"true": 13, "false": 12},
                    "employment_type": {"full_time": 25},
                    "location": {"Berlin, Germany": 25},
                    "provider": {"greenhouse": 25},
                },
            }
        if path == f"/jobs/{JOB_ID}" and method == "GET":
            return 200, JOB
        if path == f"/jobs/{JOB_ID}/resume-uploads" and method == "POST":
            return 201, {
                "upload_id": UPLOAD_ID,
                "url": f"{UPLOAD_ORIGIN}/",
                "fields": {
                    "key": f"resumes/job/{UPLOAD_ID}",
                    "Content-Type": "application/pdf",
                    "policy": "p",
                },
                "max_bytes": 10485760,
                "expires_in": 900,
            }
        if path == f"/jobs/{JOB_ID}/applications" and method == "POST":
            return self.application_reply
        if path == "/accounts":
            return 200, {
                "data": [
                    {
                        "account_id": "acct_gh",
                        "provider": "greenhouse",
                        "provider_name": "Greenhouse",
                        "status": "active",
                        "status_reasons": [],
                        "sync": {"last_outcome": "succeeded", "live_postings": 7},
                        "needs_attention": False,
                    },
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
                    },
                ]
            }
        if path == "/connect-sessions" and method == "POST":
            return 201, {
                "token": "cs_token_123",
                "auth_link_url": "https://hub.stackone.test/link?token=cs_token_123",
                "expires_at": "2026-11-22T15:00:00Z",
            }
        if path == "/accounts/acct_gh/sync":
            return 202, {"status": "queued", "account_id": "acct_gh", "run_id": "r1", "mode": "auto"}
        if path == "/employer/embloy-token" and method == "GET":
            return 200, {"configured": False, "updated_at": None}
        return 404, {"error": {"code": "not_found", "message": "No such route."}}


@pytest.fixture
def fake_api(page: Any) -> FakeApi:
    api = FakeApi()
    page.route(api.matches, api.handle)
    page.route(f"{UPLOAD_ORIGIN}/**", api.upload)
    return api


def test_board_filters_are_reflected_in_the_url_and_load_more_appends(
    site: Server, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board?q=engineer")

    page.get_by_role("heading", name="Engineer 0").wait_for()
    assert page.get_by_label("Search jobs").input_value() == "engineer"
    assert page.locator("#results > li").count() == 20
    expect(page.locator("#status")).to_have_text("25 jobs")
    assert page.get_by_label("Globex (13)").is_visible()

    with page.expect_response(lambda response: "company=Globex" in response.url):
        page.get_by_label("Globex (13)").check()
    assert parse_qs(urlparse(page.url).query) == {"q": ["engineer"], "company": ["Globex"]}
    last = fake_api.requests[-1]
    assert (
        last["path"] == "/jobs"
        and last["query"]["company"] == ["Globex"]
        and last["query"]["q"] == ["engineer"]
    )
    # The list re-renders with new counts; keyboard focus stays on the checkbox just toggled.
    expect(page.get_by_label("Globex (13)")).to_be_focused()

    with page.expect_response(lambda response: "sort=newest" in response.url):
        page.get_by_label("Sort by").select_option("newest")
    assert parse_qs(urlparse(page.url).query)["sort"] == ["newest"]

    with page.expect_response(lambda response: "cursor=page2" in response.url):
        page.get_by_role("button", name="Load more").click()
    assert fake_api.requests[-1]["query"]["sort"] == ["newest"]
    page.locator("#results > li").nth(24).wait_for()
    assert fake_api.requests[-1]["query"]["cursor"] == ["page2"]
    assert page.get_by_role("button", name="Load more").is_hidden()
    first = page.locator("#results > li").first
    assert "Acme Robotics" in first.inner_text() or "Globex" in first.inner_text()
    assert "EUR 0,000 / year" in first.inner_text()
    shot(page, "board-scripted")


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/board", "Engineer 0"),
        (f"/board/jobs/{JOB_ID}", "Staff Platform Engineer"),
        ("/board/employer", "Employer console"),
    ],
)
def test_pages_fit_a_phone_screen(site: Server, page: Any, fake_api: FakeApi, path: str, ready: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(site.url + path)
    page.get_by_role("heading", name=ready).wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if path == "/board":
        # Results come first on a phone; the filters fold into a disclosure the keyboard can open.
        assert page.get_by_label("Globex (13)").is_hidden()
        page.locator("#filters summary").focus()
        page.keyboard.press("Enter")
        assert page.get_by_label("Globex (13)").is_visible()
    shot(page, "phone" + path.replace("/", "-"))


def test_job_page_renders_posting_jsonld_embloy_and_every_question_type(
    site: Server, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")

    page.get_by_role("heading", name="Staff Platform Engineer").wait_for()
    assert page.title().startswith("Staff Platform Engineer at Acme Robotics")
    ld = page.locator('head script[type="application/ld+json"]').text_content()
    assert json.loads(ld or "{}")["@type"] == "JobPosting"
    description = page.frame_locator("#description")
    description.get_by_role("heading", name="What you will do").wait_for()
    assert description.get_by_role("link", name="About us").get_attribute("target") == "_blank"
    assert page.locator("#description").get_attribute("sandbox") == (
        "allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    )
    assert "EUR 90,000\u2013120,000 / year" in page.locator("#pay").inner_text()
    embloy = page.get_by_role("link", name="Apply with Embloy")
    assert embloy.get_attribute("href") == f"/jobs/{JOB_ID}/apply/embloy"

    # Every question type gets its control; required ones are marked.
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

    # A conditional question appears only for the parent answer it depends on.
    conditional = page.get_by_label("Do you need sponsorship details?")
    assert conditional.is_hidden()
    page.get_by_role("group", name="Work permit?").get_by_label("No").check()
    assert conditional.is_visible()
    page.get_by_role("group", name="Work permit?").get_by_label("Yes").check()
    assert conditional.is_hidden()
    shot(page, "job-scripted")


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


def test_application_uploads_the_resume_then_sends_answers_naming_it(
    site: Server, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")
    page.get_by_label("First name").wait_for()
    _fill_application(page)

    page.get_by_role("button", name="Send application").click()

    page.get_by_role("heading", name="Application sent").wait_for()
    sent = fake_api.requests[-1]
    assert sent["method"] == "POST" and sent["path"] == f"/jobs/{JOB_ID}/applications"
    assert sent["headers"]["idempotency-key"]
    body = sent["json"]
    assert body["candidate"] == {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
    # The resume went to the upload bucket first (form fields, then the file), and the body names it.
    (created,) = [r for r in fake_api.requests if r["path"] == f"/jobs/{JOB_ID}/resume-uploads"]
    assert created["json"] == {"filename": "resume.pdf"}
    (posted,) = fake_api.uploads
    assert posted.index(b'name="key"') < posted.index(b'name="file"')
    assert b"%PDF-1.4\n% resume\n" in posted
    assert body["resume"] == {"filename": "resume.pdf", "upload_id": UPLOAD_ID}
    assert {a["questionnaire_id"] for a in body["answers"]} == {"qn_1"}
    answers = {a["question_id"]: a["value"] for a in body["answers"]}
    assert answers == {
        "q_text": "Ada",
        "q_single": "no",
        "q_when_no": "Yes, a Blue Card.",
        "q_multi": ["py", "go"],
        "q_bool": True,
        "q_number": 12,
        "q_date": "2027-01-15",
        "q_url": "https://ada.example",
    }
    shot(page, "job-applied-scripted")


def test_api_field_errors_are_shown_next_to_their_fields(site: Server, page: Any, fake_api: FakeApi) -> None:
    fake_api.application_reply = (
        400,
        {
            "error": {
                "code": "invalid_application",
                "message": "Some answers are invalid.",
                "fields": {"candidate.email": "is not deliverable", "answers.5.value": "must be at most 60"},
            }
        },
    )
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")
    page.get_by_label("First name").wait_for()
    _fill_application(page)

    page.get_by_role("button", name="Send application").click()

    page.get_by_text("is not deliverable").wait_for()
    email = page.get_by_label("Email")
    assert email.get_attribute("aria-invalid") == "true"
    assert (
        "is not deliverable"
        in page.locator(f"#{email.get_attribute('aria-describedby').split()[-1]}").inner_text()
    )
    assert page.get_by_label("Years of experience").get_attribute("aria-invalid") == "true"
    assert page.get_by_text("must be at most 60").is_visible()
    assert email.evaluate("el => el === document.activeElement")
    assert page.locator("#form-errors").inner_text().strip() == "Some answers are invalid."
    shot(page, "job-field-errors-scripted")


def test_missing_required_answers_are_flagged_before_sending(
    site: Server, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board/jobs/{JOB_ID}")
    page.get_by_label("First name").wait_for()

    page.get_by_role("button", name="Send application").click()

    assert page.get_by_label("First name").get_attribute("aria-invalid") == "true"
    assert (
        page.get_by_role("group", name="Open to relocation?")
        .get_by_text("Please answer this question.")
        .is_visible()
    )
    assert not any(r["path"].endswith("/applications") for r in fake_api.requests)


def test_employer_key_stays_in_session_storage_and_accounts_show_health(
    site: Server, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board/employer")
    page.get_by_label("Employer API key").fill("emp_secret_key")
    page.get_by_role("button", name="Use key").click()

    page.get_by_role("heading", name="Greenhouse").wait_for()
    assert fake_api.requests[0]["headers"]["authorization"] == "Bearer emp_secret_key"
    storage = page.evaluate(
        "() => ({local: {...localStorage}, session: {...sessionStorage}, cookie: document.cookie})"
    )
    assert storage["local"] == {} and storage["cookie"] == ""
    assert list(storage["session"].values()) == ["emp_secret_key"]
    workday = page.locator("[data-account-id=acct_wd]")
    assert "Needs attention" in workday.inner_text()
    assert "Reconnect Workday" in workday.inner_text()
    assert workday.get_by_role("button", name="Reconnect").is_visible()

    page.get_by_role("button", name="Sync Greenhouse account now").click()
    page.get_by_text("Sync queued").wait_for()
    assert (
        fake_api.requests[-1]["method"] == "POST"
        and fake_api.requests[-1]["path"] == "/accounts/acct_gh/sync"
    )
    expect(page.get_by_text("No Embloy client token yet")).to_be_visible()
    shot(page, "employer-scripted")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("applied=embloy", "Your application through Embloy was sent."),
        ("cancelled=embloy", "You left Embloy"),
    ],
)
def test_return_from_embloy_is_acknowledged(
    site: Server, page: Any, fake_api: FakeApi, query: str, message: str
) -> None:
    page.goto(f"{site.url}/board/jobs/{JOB_ID}?{query}")

    page.get_by_role("heading", name="Staff Platform Engineer").wait_for()
    assert message in page.locator("#status").inner_text()


def test_question_descriptions_that_repeat_the_question_are_not_shown(
    site: Server, page: Any, fake_api: FakeApi
) -> None:
    QUESTIONS[0]["description"] = "Preferred name?"
    QUESTIONS[1]["description"] = "Tell us what draws you to Acme."
    try:
        page.goto(f"{site.url}/board/jobs/{JOB_ID}")
        page.get_by_label("Preferred name").wait_for()
        assert page.locator('[data-question-id="q_text"] .hint').count() == 0
        assert (
            page.locator('[data-question-id="q_long"] .hint').inner_text()
            == "Tell us what draws you to Acme."
        )
        describedby = page.get_by_label("Why us?").get_attribute("aria-describedby")
        assert describedby and describedby.split()[0].startswith("hint-")
    finally:
        QUESTIONS[0].pop("description")
        QUESTIONS[1].pop("description")


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/board", "Engineer 0"),
        (f"/board/jobs/{JOB_ID}", "Staff Platform Engineer"),
        ("/board/employer", None),
    ],
)
def test_pages_pass_automated_accessibility_checks(
    site: Server, page: Any, fake_api: FakeApi, path: str, ready: str | None
) -> None:
    page.goto(site.url + path)
    if ready:
        page.get_by_role("heading", name=ready).wait_for()
    else:
        page.get_by_label("Employer API key").fill("emp_secret_key")
        page.get_by_role("button", name="Use key").click()
        page.get_by_role("heading", name="Greenhouse").wait_for()

    assert accessibility_violations(page) == []


def test_connect_uses_the_stackone_hub_web_component_when_the_page_has_it(
    site: Server, page: Any, fake_api: FakeApi
) -> None:
    # Stand-in for the @stackone/hub bundle: a custom element that records its token.
    page.add_init_script(
        "customElements.define('stackone-hub', class extends HTMLElement {"
        " connectedCallback() { window.hubToken = this.getAttribute('token'); } });"
    )
    page.goto(f"{site.url}/board/employer")
    page.get_by_label("Employer API key").fill("emp_secret_key")
    page.get_by_role("button", name="Use key").click()
    page.get_by_role("heading", name="Greenhouse").wait_for()

    page.get_by_label("ATS (optional)").select_option("lever")
    page.get_by_role("button", name="Connect your ATS").click()

    page.locator("stackone-hub").wait_for(state="attached")
    assert page.evaluate("window.hubToken") == "cs_token_123"
    connect = next(r for r in fake_api.requests if r["path"] == "/connect-sessions")
    assert connect["json"] == {"provider": "lever"}
    accounts_calls = sum(1 for r in fake_api.requests if r["path"] == "/accounts")
    page.locator("stackone-hub").dispatch_event("success")
    expect(page.get_by_text("Your ATS is connected.")).to_be_visible()
    assert sum(1 for r in fake_api.requests if r["path"] == "/accounts") == accounts_calls + 1


def test_connect_without_the_web_component_opens_the_hosted_link_page(
    site: Server, page: Any, fake_api: FakeApi
) -> None:
    page.goto(f"{site.url}/board/employer")
    page.get_by_label("Employer API key").fill("emp_secret_key")
    page.get_by_role("button", name="Use key").click()
    page.get_by_role("heading", name="Greenhouse").wait_for()
    page.context.route("https://hub.stackone.test/**", lambda route: route.fulfill(body="<h1>Hub</h1>"))

    with page.expect_popup() as popup:
        page.get_by_role("button", name="Connect your ATS").click()

    assert popup.value.url == "https://hub.stackone.test/link?token=cs_token_123"
    assert page.get_by_role("link", name="Open the StackOne Hub").get_attribute("href") == popup.value.url


def test_the_board_works_with_the_keyboard_alone(site: Server, page: Any, fake_api: FakeApi) -> None:
    page.goto(f"{site.url}/board")
    page.get_by_role("heading", name="Engineer 0").wait_for()

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
    # Focus moves to the first newly loaded result, so reading continues where the list grew.
    expect(page.get_by_role("link", name="Engineer 20")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
