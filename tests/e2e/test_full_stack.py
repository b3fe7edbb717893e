"""End-to-end journeys in a real browser against the whole local stack (what `make run` starts).

moto's server, the StackOne and Embloy sandboxes, the bootstrap, `chalice local` and the local scheduler
run on free loopback ports for this module; the browser uses only the pages and the public API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, PHONE, ROOT, accessibility_violations, free_port, shot

RESUME_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass
class Stack:
    api_url: str
    stackone_url: str
    embloy_url: str
    app_env: dict[str, str]
    keys: dict[str, str]  # demo employer id -> API key

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        response = httpx.get(self.api_url + path, params=params, headers=headers, timeout=20)
        response.raise_for_status()
        return response.json()

    def run_scheduler_once(self, *, fire_schedule: bool = True) -> None:
        """One tick of the local scheduler: fire the sync schedule (optionally) and drain the queue."""
        argv = [sys.executable, "-m", "local.scheduler", "--once"]
        if not fire_schedule:
            argv.append("--no-schedule")
        completed = subprocess.run(
            argv, cwd=ROOT, env=self.app_env, capture_output=True, timeout=300, check=False
        )
        assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-3000:]


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def wait_for(what: str, check: Callable[[], Any], *, timeout: float = 60.0) -> Any:
    """Poll a real server's state until `check` returns something truthy (the stack is other processes)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    from local.run import LocalStack
    from local.stack import LocalStackConfig, app_environment

    config = LocalStackConfig(
        moto_port=free_port(),
        stackone_port=free_port(),
        embloy_port=free_port(),
        api_port=free_port(),
        # Free ports for the mail catcher too: another stack (a `make run`) may hold the defaults.
        mail_smtp_port=free_port(),
        mail_web_port=free_port(),
        # The scheduler syncs every account once at start; later syncs happen when a test asks for them.
        sync_interval_seconds=3600,
        drain_interval_seconds=1,
        state_dir=ARTIFACTS / "stack",
    )
    local_stack = LocalStack(config, threading.Event())
    patch = pytest.MonkeyPatch()
    # The app trusts an employer's Embloy-token flag for a minute per process; the journeys change it and
    # look at once, so the stack under test keeps it for a second.
    patch.setenv("BOARD_APPLY_FLAGS_MAX_AGE_SECONDS", "1")
    try:
        local_stack.start()
        result = local_stack.bootstrap_result
        assert result is not None
        keys = {access.employer.employer_id: access.api_key for access in result.employers if access.api_key}
        app_env = app_environment(
            config,
            sync_queue_url=result.queue_url,
            snapshot_queue_url=result.snapshot_queue_url,
            snapshot_bucket=result.snapshot_bucket,
            email_queue_url=result.email_queue_url,
        )
        stack = Stack(config.api_url, config.stackone_url, config.embloy_url, app_env, keys)
        stack.run_scheduler_once()
        wait_for("the demo postings on the board", lambda: stack.get("/jobs")["total"] > 0)
        yield stack
    finally:
        local_stack.stop_all()
        patch.undo()


def _open_employer_console(page: Any, stack: Stack, employer_id: str) -> None:
    from sandbox.demo_employers import DEMO_EMPLOYERS

    page.goto(f"{stack.api_url}/board/employer")
    page.evaluate("sessionStorage.clear()")  # sign in afresh, with this employer's key
    page.goto(f"{stack.api_url}/board/employer")
    page.get_by_label("Employer API key").fill(stack.keys[employer_id])
    page.get_by_role("button", name="Use key").click()
    name = next(demo.name for demo in DEMO_EMPLOYERS if demo.employer_id == employer_id)
    expect(page.locator("#signed-in")).to_have_text(f"Signed in as {name}")


def test_search_and_filter_the_board(stack: Stack, page: Any) -> None:
    everything = stack.get("/jobs", limit=100)
    page.goto(f"{stack.api_url}/board")
    page.locator("#results > li").first.wait_for()
    assert page.locator("#status").inner_text() == f"{everything['total']} jobs"
    shot(page, "stack-board")

    # Filter by a company through its facet checkbox: only its jobs remain, and the URL says so.
    company, count = max(everything["facets"]["company"].items(), key=lambda item: item[1])
    page.get_by_role("group", name="Company").get_by_label(f"{company} ({count})").check()
    page.wait_for_url(re.compile(r".*company="))
    expect(page.locator("#status")).to_have_text(f"{count} jobs")
    companies = page.locator("#results .company").all_inner_texts()
    assert companies and set(companies) == {company}
    assert parse_qs(urlparse(page.url).query)["company"] == [company]
    shot(page, "stack-board-filtered")

    # Search for one posting's title: it is found, and the query lands in the URL to share.
    title = everything["data"][0]["title"]
    page.get_by_label("Search jobs").fill(title)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*q="))
    page.get_by_role("link", name=title).first.wait_for()
    query = parse_qs(urlparse(page.url).query)
    assert query["q"] == [title]

    # A shared link restores the same search.
    page.goto(page.url)
    assert page.get_by_label("Search jobs").input_value() == title
    page.get_by_role("link", name=title).first.wait_for()
    shot(page, "stack-board-search")


def _job_with(stack: Stack, accept: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    cursor = None
    while True:
        page = stack.get("/jobs", limit=100, **({"cursor": cursor} if cursor else {}))
        for summary in page["data"]:
            job: dict[str, Any] = stack.get(f"/jobs/{summary['job_id']}")
            if accept(job):
                return job
        cursor = page.get("next_cursor")
        if not cursor:
            return None


def _question_types(job: dict[str, Any]) -> set[str]:
    return {q["type"] for qn in job.get("questionnaires", []) for q in qn.get("questions", [])}


def _answer(page: Any, question: dict[str, Any]) -> None:
    """Fill one visible question the way a person would (first option, sensible values)."""
    wrapper = page.locator(f'[data-question-id="{question["id"]}"]')
    if wrapper.is_hidden():
        return
    kind = question["type"]
    if kind in ("single_select", "multi_select"):
        options = wrapper.locator("input[type=radio], input[type=checkbox]")
        if options.count():
            options.first.check()
        else:
            select = wrapper.locator("select")
            select.select_option(index=1)
    elif kind == "boolean":
        wrapper.get_by_label("Yes").check()
    elif kind == "long_text":
        wrapper.locator("textarea").fill("I build reliable systems and enjoy working with people.")
    elif kind == "number":
        wrapper.locator("input").fill("7")
    elif kind == "date":
        wrapper.locator("input").fill("2027-02-01")
    elif kind == "url":
        wrapper.locator("input").fill("https://ada.example/portfolio")
    elif kind == "attachment":
        wrapper.locator("input").set_input_files(
            files=[{"name": "cover-letter.txt", "mimeType": "text/plain", "buffer": b"Dear team,\nHello.\n"}]
        )
    else:
        wrapper.locator("input").fill("Ada")


def test_open_a_job_and_apply_natively_into_the_ats(stack: Stack, page: Any) -> None:
    job = _job_with(
        stack,
        lambda job: (
            job["apply"].get("native") is True
            and {"single_select", "multi_select", "boolean"} <= _question_types(job)
        ),
    )
    assert job is not None, "no posting takes native applications with a full questionnaire"
    page.goto(f"{stack.api_url}/board")
    page.locator("#results > li").first.wait_for()
    page.goto(f"{stack.api_url}/board/jobs/{job['job_id']}")
    page.get_by_role("heading", level=1, name=job["title"], exact=True).wait_for()

    # The posting: JSON-LD in the head, the sanitised description in the page itself.
    json_ld = page.locator('head script[type="application/ld+json"]').text_content()
    assert '"JobPosting"' in (json_ld or "")
    assert page.locator("#description").inner_text().strip()
    shot(page, "stack-job")

    email = f"ada.{int(time.time() * 1000)}@example.com"
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Resume").set_input_files(
        files=[{"name": "ada-lovelace.pdf", "mimeType": "application/pdf", "buffer": RESUME_PDF}]
    )
    questions = [q for qn in job["questionnaires"] for q in qn["questions"]]
    for question in questions:  # parents come before the questions that depend on them
        _answer(page, question)
    shot(page, "stack-job-form-filled")
    assert accessibility_violations(page) == []

    page.get_by_role("button", name="Send application").click()

    page.locator("#application-result h3").wait_for()
    assert page.locator("#application-result h3").inner_text() in ("Application sent", "Application received")
    shot(page, "stack-job-applied")

    def arrived() -> Any:
        received = httpx.get(f"{stack.stackone_url}/_sandbox/applications", timeout=10).json()
        return [a for a in received if email in repr(a)]

    application = wait_for("the application in the StackOne sandbox", arrived, timeout=30)[0]
    text = repr(application)
    assert "Lovelace" in text
    assert "ada-lovelace.pdf" in text

    # The README's walkthrough: the employer opens the console with its printed key and finds it there.
    from sandbox.demo_employers import DEMO_EMPLOYERS

    employer_id = next(demo.employer_id for demo in DEMO_EMPLOYERS if demo.name == job["company"])
    _open_employer_console(page, stack, employer_id)
    row = page.locator("#applications-rows tr", has_text=email)
    row.wait_for()
    assert job["title"] in row.inner_text()
    shot(page, "stack-employer-application")


def test_apply_with_embloy_lands_on_the_embloy_page_for_the_job(stack: Stack, page: Any) -> None:
    from sandbox.demo_employers import DEMO_EMPLOYERS
    from sandbox.embloy.tokens import demo_client_token

    employer = next(demo for demo in DEMO_EMPLOYERS if demo.provider in ("ashby", "lever"))
    _open_employer_console(page, stack, employer.employer_id)
    page.get_by_label("Embloy client token").fill(demo_client_token(employer.employer_id))
    page.get_by_role("button", name="Save token").click()
    page.get_by_text("An Embloy client token is configured").wait_for()
    shot(page, "stack-employer-embloy")

    job = wait_for(
        "a posting with Apply with Embloy",
        lambda: _job_with(
            stack, lambda job: job["company"] == employer.name and job["apply"].get("embloy") is True
        ),
        timeout=30,
    )
    page.goto(f"{stack.api_url}/board/jobs/{job['job_id']}")
    page.get_by_role("link", name="Apply with Embloy").click()

    page.wait_for_url(re.compile(re.escape(stack.embloy_url) + r"/sdk/apply\?request_token=.+"))
    page.get_by_role("heading", name="Apply with Embloy").wait_for()
    assert page.locator("#mode").inner_text() == employer.provider
    assert page.locator("#job-slug").inner_text().strip()
    shot(page, "stack-embloy-portal")


def test_employer_connects_an_ats_syncs_and_sees_its_postings_on_the_board(stack: Stack, page: Any) -> None:
    from sandbox.demo_employers import DEMO_EMPLOYERS

    employer = DEMO_EMPLOYERS[0]
    new_provider = next(p for p in ("lever", "ashby", "workday", "greenhouse") if p != employer.provider)
    _open_employer_console(page, stack, employer.employer_id)
    page.locator(f'[data-account-id="{employer.account_id}"]').wait_for()
    shot(page, "stack-employer")

    # Connect: the backend mints a connect session; the sandbox's hosted link page opens in a new tab.
    page.get_by_label("ATS (optional)").select_option(new_provider)
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Connect your ATS").click()
    hub = popup_info.value
    hub.wait_for_load_state()
    assert hub.url.startswith(stack.stackone_url)
    shot(hub, "stack-stackone-hub")
    hub.get_by_role("button", name="Link account").click()
    hub.get_by_role("heading", name="Account linked").wait_for()
    account_id = hub.locator("#account-id").get_attribute("data-account-id")
    shot(hub, "stack-stackone-hub-linked")
    hub.close()

    page.get_by_role("button", name="refresh your accounts").click()
    account = page.locator(f'[data-account-id="{account_id}"]')
    account.wait_for()
    # Listing the just-linked account queued its first sync: "Sync now" is not needed (and within the
    # sync-now interval it says a sync was just requested).
    account.get_by_role("button", name=re.compile(r"^Sync .* now$")).click()
    account.get_by_text("A sync was requested moments ago").wait_for()
    # Drain the queue now, without firing the schedule (the stack's own scheduler may get there first:
    # either way the queued first sync runs).
    stack.run_scheduler_once(fire_schedule=False)

    def synced() -> Any:
        accounts = stack.get("/accounts", headers=bearer(stack.keys[employer.employer_id]))["data"]
        mine = next(a for a in accounts if a["account_id"] == account_id)
        finished = mine["sync"].get("last_run_finished_at") and mine["sync"].get("last_outcome")
        return mine["sync"]["live_postings"] if finished else 0

    total = wait_for("the new account's sync to finish", synced, timeout=90)

    def on_board() -> bool:
        return bool(stack.get("/jobs", provider=new_provider, company=employer.name)["total"] == total)

    wait_for("the new account's postings on the board", on_board, timeout=60)
    page.goto(f"{stack.api_url}/board?company={employer.name}&provider={new_provider}")
    expect(page.locator("#status")).to_have_text(f"{total} jobs")
    assert set(page.locator("#results .company").all_inner_texts()) == {employer.name}
    shot(page, "stack-board-new-account")

    # The console shows the account's sync health once the sync has run.
    _open_employer_console(page, stack, employer.employer_id)
    live = page.locator(f'[data-account-id="{account_id}"] .live-postings')
    assert int(live.inner_text()) == total
    assert accessibility_violations(page) == []
    shot(page, "stack-employer-synced")


@pytest.mark.parametrize("page_name", ["board", "job", "employer"])
def test_real_pages_fit_a_phone_screen(stack: Stack, page: Any, page_name: str) -> None:
    path = {
        "board": "/board",
        "job": f"/board/jobs/{stack.get('/jobs')['data'][0]['job_id']}",
        "employer": "/board/employer",
    }[page_name]
    page.set_viewport_size(PHONE)
    page.goto(stack.api_url + path)
    page.locator("main").wait_for()
    if page_name == "board":
        page.locator("#results > li").first.wait_for()
    if page_name == "job":
        page.locator("#job").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, f"stack-phone-{page_name}")


def _api_answers(job: dict[str, Any]) -> list[dict[str, Any]]:
    """An answer to every question (answers to questions whose condition does not hold are dropped)."""
    cover = base64.b64encode(b"Dear team,\nHello.\n").decode()
    values: dict[str, Any] = {
        "boolean": True,
        "number": 7,
        "date": "2027-02-01",
        "url": "https://ada.example/portfolio",
        "attachment": {"filename": "cover-letter.txt", "content_base64": cover},
    }
    answers = []
    for questionnaire in job["questionnaires"]:
        for question in questionnaire["questions"]:
            options = [option["id"] for option in question.get("options", [])]
            if question["type"] == "single_select":
                value: Any = options[0]
            elif question["type"] == "multi_select":
                value = options[:1]
            else:
                value = values.get(question["type"], "Ada")
            answers.append(
                {"questionnaire_id": questionnaire["id"], "question_id": question["id"], "value": value}
            )
    return answers


def test_a_nine_megabyte_resume_goes_through_s3_into_the_ats(stack: Stack) -> None:
    """Presigned POST to moto's S3, the application naming the upload, the apply path reading it from S3
    and forwarding it to the StackOne sandbox: far beyond what a JSON body can carry to Lambda."""
    job = _job_with(stack, lambda job: job["apply"].get("native") is True)
    assert job is not None, "no posting takes native applications"
    resume = b"%PDF-1.4\n" + bytes(range(256)) * (9 * 1024 * 1024 // 256) + b"\n%%EOF\n"
    assert len(resume) > 9 * 1024 * 1024

    created = httpx.post(
        f"{stack.api_url}/jobs/{job['job_id']}/resume-uploads", json={"filename": "ada-9mb.pdf"}, timeout=20
    )
    assert created.status_code == 201, created.text
    form = created.json()
    assert form["max_bytes"] >= len(resume)
    # What the browser does: the policy's fields, then the file, as one multipart form straight to S3.
    posted = httpx.post(
        form["url"],
        data=form["fields"],
        files={"file": ("ada-9mb.pdf", resume, form["fields"]["Content-Type"])},
        timeout=60,
    )
    assert posted.status_code in (200, 201, 204), posted.text

    email = f"ada.9mb.{int(time.time() * 1000)}@example.com"
    body = {
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": email},
        "answers": _api_answers(job),
        "resume": {"filename": "ada-9mb.pdf", "upload_id": form["upload_id"]},
    }
    applied = httpx.post(f"{stack.api_url}/jobs/{job['job_id']}/applications", json=body, timeout=120)
    assert applied.status_code == 201, applied.text
    assert len(applied.content) < 1000  # the JSON request and answer stayed small

    def arrived() -> Any:
        received = httpx.get(f"{stack.stackone_url}/_sandbox/applications", timeout=60).json()
        return [a for a in received if email in json.dumps(a)]

    application = wait_for("the application in the StackOne sandbox", arrived, timeout=60)[0]
    documents = [d for d in _find_documents(application) if d.get("name") == "ada-9mb.pdf"]
    assert len(documents) == 1
    assert (
        hashlib.sha256(base64.b64decode(documents[0]["content"])).digest() == hashlib.sha256(resume).digest()
    )


def _find_documents(value: Any) -> list[dict[str, Any]]:
    """Every `documents` entry anywhere in the sandbox's record of an application."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "documents" and isinstance(item, list):
                found.extend(entry for entry in item if isinstance(entry, dict))
            else:
                found.extend(_find_documents(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_find_documents(item))
    return found
