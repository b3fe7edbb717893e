"""The reference frontend's pages and assets: types, security and caching headers, paths, 304s."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from chalice.app import Request

from chalicelib import deps
from chalicelib.api.frontend import ASSETS_DIR, STATIC_DIR, path_prefix
from chalicelib.models.posting import make_job_id
from tests.api.board_factories import (
    board_refreshes_every_request,  # noqa: F401  (autouse)
    make_posting,
    put_postings,
)

JOB_ID = make_job_id("acc_gh", "post_page")
PAGES = ["/board", f"/board/jobs/{JOB_ID}", "/board/employer"]


@pytest.fixture
def client(client: Any) -> Any:
    """The app's test client with one live posting on the board (the job page's)."""
    put_postings(make_posting("Staff Engineer", posting_id="post_page"))
    return client


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_html_with_a_strict_policy_and_revalidated(client: Any, path: str) -> None:
    response = client.http.get(path)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.body.decode().startswith("<!doctype html>")
    csp = _csp(response)
    assert csp["default-src"] == "default-src 'none'"
    assert csp["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    # The job page's form posts the resume to the upload bucket too (tests/api/test_resume_uploads.py).
    uploads = " " + deps.get_resume_uploads().origin() if "/jobs/" in path else ""
    assert csp["connect-src"] == f"connect-src 'self'{uploads}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The board's pages are as public as its JSON (a CDN may keep them); the console always revalidates.
    expected = "no-cache" if path == "/board/employer" else "public, max-age=30"
    assert response.headers["Cache-Control"] == expected
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["ETag"])
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    revalidated = client.http.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert (revalidated.status_code, revalidated.body) == (304, b"")


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_and_every_local_reference_is_served(client: Any, path: str) -> None:
    html = client.http.get(path).body.decode()

    assert "{{" not in html and "{%" not in html
    # Executable scripts come from our origin only; inline elements are data (JSON-LD, the job's data).
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert any('type="module"' in attrs for attrs, _ in scripts)
    for attrs, body in scripts:
        if body.strip():
            assert re.search(r'type="application/(ld\+)?json"', attrs), attrs
        else:
            assert 'type="module"' in attrs and "src=" in attrs
    references = re.findall(r'(?:src|href)="(/board/assets/[^"]+)"', html)
    assert any(ref.endswith(".js") for ref in references)
    for reference in references:
        # Browsers send Accept: */* (or image/*, */*) for subresources; Chalice needs it for binary types.
        assert client.http.get(reference, headers={"Accept": "*/*"}).status_code == 200, reference


def test_every_page_has_a_language_viewport_and_main_landmark(client: Any) -> None:
    for path in PAGES:
        html = client.http.get(path).body.decode()
        assert '<html lang="en"' in html
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
        assert '<main id="main"' in html
        assert 'class="skip-link" href="#main"' in html


def test_page_answers_304_when_the_client_copy_is_current(client: Any) -> None:
    etag = client.http.get("/board").headers["ETag"]

    response = client.http.get("/board", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.body == b""
    assert response.headers["ETag"] == etag


def test_page_is_sent_again_when_the_client_copy_is_stale(client: Any) -> None:
    response = client.http.get("/board", headers={"If-None-Match": '"0000"'})

    assert response.status_code == 200
    assert b"<main" in response.body


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.css", "text/css; charset=utf-8"),
        ("board.js", "text/javascript; charset=utf-8"),
        ("job.js", "text/javascript; charset=utf-8"),
        ("employer.js", "text/javascript; charset=utf-8"),
        ("favicon.svg", "image/svg+xml; charset=utf-8"),
    ],
)
def test_text_assets_are_served_byte_for_byte_with_their_type(
    client: Any, name: str, content_type: str
) -> None:
    response = client.http.get(f"/board/assets/{name}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "public, max-age=300, must-revalidate"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.body == (ASSETS_DIR / name).read_bytes()


def test_binary_asset_is_base64_encoded_for_api_gateway_and_decodes_to_the_file(aws: None) -> None:
    from app import app

    expected = (ASSETS_DIR / "touch-icon.png").read_bytes()
    raw = app(_api_gateway_event("/board/assets/touch-icon.png"), _context())

    assert raw["statusCode"] == 200
    assert raw["headers"]["Content-Type"] == "image/png"
    assert raw["isBase64Encoded"] is True
    assert base64.b64decode(raw["body"]) == expected


def _context() -> Any:
    from chalice.local import LambdaContext

    return LambdaContext("api_handler", 256)


def _api_gateway_event(path: str, *, stage_path: str | None = None) -> dict[str, Any]:
    name = path.rsplit("/", 1)[-1]
    return {
        "resource": "/board/assets/{name}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Accept": "image/png"},
        "multiValueHeaders": {"Accept": ["image/png"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"name": name},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/board/assets/{name}",
            "httpMethod": "GET",
            "path": stage_path or path,
            "stage": "api",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_asset_answers_304_for_a_matching_etag(client: Any) -> None:
    etag = client.http.get("/board/assets/app.css").headers["ETag"]

    response = client.http.get("/board/assets/app.css", headers={"If-None-Match": f'W/{etag}, "other"'})

    assert response.status_code == 304


@pytest.mark.parametrize(
    "name", ["missing.js", "app.py", ".env", "APP.CSS", "board.html", "app.css.map", "x"]
)
def test_unknown_or_unlisted_assets_are_404_in_the_error_shape(client: Any, name: str) -> None:
    response = client.http.get(f"/board/assets/{name}")

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "asset_not_found"


def test_templates_are_not_reachable_as_assets() -> None:
    # The HTML templates sit outside the assets folder, so only the page routes can render them.
    assert not list(ASSETS_DIR.glob("*.html"))
    assert sorted(p.name for p in STATIC_DIR.glob("*.html")) == [
        "_layout.html",
        "alerts.html",
        "board.html",
        "employer.html",
        "job.html",
        "missing.html",
    ]


def test_root_redirects_to_the_board(client: Any) -> None:
    response = client.http.get("/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/board"


def test_pages_behind_an_api_gateway_stage_use_the_stage_prefix(aws: None) -> None:
    from app import app

    event = _api_gateway_event("/board/employer", stage_path="/api/board/employer")
    event.update(resource="/board/employer", pathParameters=None)
    event["requestContext"]["resourcePath"] = "/board/employer"
    event["headers"] = event["multiValueHeaders"] = {}

    raw = app(event, _context())

    assert raw["statusCode"] == 200
    assert 'data-base="/api"' in raw["body"]
    assert 'src="/api/board/assets/employer.js"' in raw["body"]


def _request(context_path: str) -> Request:
    return Request(
        {
            "multiValueQueryStringParameters": None,
            "headers": {},
            "pathParameters": None,
            "requestContext": {"httpMethod": "GET", "resourcePath": "/board", "path": context_path},
            "body": None,
            "isBase64Encoded": False,
            "stageVariables": None,
        }
    )


@pytest.mark.parametrize(
    ("context_path", "expected"),
    [
        ("/board", ""),
        ("/api/board", "/api"),
        ("/v1/jobs-site/board", "/v1/jobs-site"),
        ('/"><script>/board', ""),  # never echo anything odd into the page
        ("/elsewhere", ""),
    ],
)
def test_path_prefix_is_the_part_before_our_route(context_path: str, expected: str) -> None:
    assert path_prefix(_request(context_path), "/board") == expected


def test_scripts_import_only_modules_that_exist() -> None:
    for script in ASSETS_DIR.glob("*.js"):
        for target in re.findall(r'from\s+"\./([^"]+)"', script.read_text()):
            assert (ASSETS_DIR / target).is_file(), f"{script.name} imports missing {target}"


def test_the_employer_key_never_goes_to_local_storage_or_cookies() -> None:
    for script in ASSETS_DIR.glob("*.js"):
        source = script.read_text()
        assert "localStorage" not in source, script.name
        assert "document.cookie" not in source, script.name


def test_the_frontend_calls_only_the_public_api_paths() -> None:
    paths: set[str] = set()
    for script in ASSETS_DIR.glob("*.js"):
        paths.update(re.findall(r"(?:api|employerApi)\(\s*`?\"?(/[a-z-]+)", Path(script).read_text()))
    assert paths <= {"/jobs", "/accounts", "/connect-sessions", "/employer"}
    assert {"/jobs", "/accounts", "/connect-sessions", "/employer"} <= paths


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/board/feed.xml", "/feed.xml"),
        (
            "/board/feed.xml?company=Acme&company=Globex&q=data",
            "/feed.xml?company=Acme&company=Globex&q=data",
        ),
        ("/board/sitemap.xml", "/sitemap.xml"),
    ],
)
def test_feed_urls_under_the_frontend_redirect_to_the_api_feeds(
    client: Any, path: str, location: str
) -> None:
    # URLs built as {PUBLIC_BASE_URL}/feed.xml (PUBLIC_BASE_URL ends in /board) still reach the feed.
    response = client.http.get(path)

    assert response.status_code == 301
    assert response.headers["Location"] == location


def test_board_page_advertises_the_rss_feed(client: Any) -> None:
    html = client.http.get("/board").body.decode()

    assert '<link rel="alternate" type="application/rss+xml" title="New jobs" href="/feed.xml">' in html


def test_employer_page_loads_no_hub_bundle_unless_one_is_deployed(client: Any) -> None:
    response = client.http.get("/board/employer")

    html = response.body.decode()
    assert "stackone-hub.js" not in html
    assert "stackone.com" not in response.headers["Content-Security-Policy"]


def test_with_the_hub_bundle_the_employer_page_loads_it_and_allows_only_stackone_besides_itself() -> None:
    from chalicelib.api.frontend import render_page

    page = render_page("employer", "/api", with_hub=True)

    html = page.body.decode()
    assert '<script type="module" src="/api/board/assets/stackone-hub.js"></script>' in html
    policy = dict(part.split(" ", 1) for part in page.content_security_policy.split("; "))
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self' https://*.stackone.com"
    assert policy["frame-src"] == "'self' https://*.stackone.com"
    assert policy["frame-ancestors"] == "'none'"


# ---- server-rendered pages ----------------------------------------------------------------------------
def _ld(html: str) -> Any:
    import json

    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S)
    assert match, "no JSON-LD in the page"
    return json.loads(match.group(1))


def test_job_page_html_carries_the_posting_meta_tags_and_json_ld(client: Any) -> None:
    (posting,) = put_postings(
        make_posting("Data Engineer", content="Build pipelines & dashboards for our logistics team.")
    )

    response = client.http.get(f"/board/jobs/{posting.job_id}")

    assert response.status_code == 200
    html = response.body.decode()
    assert "<title>Data Engineer at Acme Robotics · Unified Job Board</title>" in html
    assert '<h1 id="job-title">Data Engineer</h1>' in html
    assert '<div id="description" class="description"><p>Build pipelines' in html  # the (sanitised) HTML
    assert (
        '<meta name="description" content="Acme Robotics: Build pipelines &amp; dashboards for our '
        'logistics team.">' in html
    )
    url = f"https://board.test/jobs/{posting.job_id}"
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    assert '<meta property="og:title" content="Data Engineer at Acme Robotics">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    api_document = client.http.get(f"/jobs/{posting.job_id}").json_body["json_ld"]
    assert _ld(html) == api_document
    assert _ld(html)["jobLocation"][0]["address"]["addressCountry"] == "DE"
    assert 'id="apply-top" href="#apply">Apply now</a>' in html
    assert 'class="sticky-apply"' in html
    assert "EUR 60,000\u201380,000 / year" in html
    assert "Posted <time datetime=" in html


def test_job_page_embeds_the_form_data_for_its_script(client: Any) -> None:
    import json

    (posting,) = put_postings(make_posting())
    html = client.http.get(f"/board/jobs/{posting.job_id}").body.decode()

    match = re.search(r'<script type="application/json" id="job-data">(.*?)</script>', html, flags=re.S)
    assert match
    data = json.loads(match.group(1))
    assert data["job_id"] == posting.job_id
    assert data["apply"]["native"] is True
    assert data["questionnaires"][0]["questions"][0]["id"] == "q1"


def test_text_that_closes_a_script_cannot_escape_the_json_in_the_page(client: Any) -> None:
    title = "Chef </script><script>alert(1)</script> <!-- & co"
    (posting,) = put_postings(make_posting(title))

    html = client.http.get(f"/board/jobs/{posting.job_id}").body.decode()

    assert "<script>alert(1)" not in html
    assert html.count("</script>") == html.count("<script")
    assert _ld(html)["title"] == title


def test_unknown_job_page_is_a_404_with_a_way_on(client: Any) -> None:
    for job_id in (make_job_id("acc_gh", "never_synced"), "not-a-board-id"):
        response = client.http.get(f"/board/jobs/{job_id}")

        assert response.status_code == 404
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        html = response.body.decode()
        assert "We couldn&#39;t find that job" in html
        assert '<meta name="robots" content="noindex">' in html
        assert 'action="/board"' in html and 'href="/board"' in html  # search and browse
        assert "application/ld+json" not in html


def test_closed_job_page_is_a_410_that_points_to_the_company_s_open_jobs(client: Any) -> None:
    from tests.api.board_factories import close_posting

    (posting,) = put_postings(make_posting("Night Nurse", account_id="acc_lever"))
    close_posting(posting)

    response = client.http.get(f"/board/jobs/{posting.job_id}")

    assert response.status_code == 410
    html = response.body.decode()
    assert "This job is no longer open" in html
    assert "Night Nurse at Initech Software has closed" in html
    assert 'href="/board?company=Initech+Software">Other jobs at Initech Software</a>' in html


def test_job_page_acknowledges_the_return_from_embloy(client: Any) -> None:
    (posting,) = put_postings(make_posting())

    html = client.http.get(f"/board/jobs/{posting.job_id}?applied=embloy").body.decode()

    assert "Your application through Embloy was sent." in html


def test_board_page_html_has_the_first_results_filters_and_a_next_page_link(client: Any) -> None:
    put_postings(
        *(make_posting(f"Engineer {i}", posted_days_ago=i, account_id="acc_gh") for i in range(1, 24)),
        make_posting("Writer", posted_days_ago=30, account_id="acc_lever"),
    )

    html = client.http.get("/board").body.decode()

    assert html.count('class="job-card"') == 20
    assert ">Engineer 1</a>" in html and ">Engineer 20</a>" not in html  # newest first, one page
    assert '<p id="status" role="status" aria-live="polite">25 jobs</p>' in html  # with the fixture's
    assert 'name="company" value="Initech Software"' in html  # a filter checkbox, in a GET form
    assert "Show 25 jobs" in html
    assert '<link rel="canonical" href="https://board.test">' in html
    assert re.search(
        r'class="posted">Posted <time datetime="2026-10-31T09:00:00.000Z" title="Oct 31, 2026">', html
    )
    next_link = re.search(r'id="next-page" class="button secondary" rel="next" href="([^"]+)"', html)
    assert next_link
    second = client.http.get(next_link.group(1).replace("&amp;", "&")).body.decode()
    assert second.count('class="job-card"') == 5
    assert ">Writer</a>" in second and 'id="first-page"' in second


def test_board_page_renders_several_pages_for_page_in_the_url(client: Any) -> None:
    put_postings(*(make_posting(f"Engineer {i}", posted_days_ago=i) for i in range(1, 26)))

    html = client.http.get("/board?page=2").body.decode()

    assert html.count('class="job-card"') == 26  # two pages of 20, all 26 postings
    assert 'data-page="2"' in html


def test_board_page_applies_filters_from_the_url_and_shows_removable_chips(client: Any) -> None:
    put_postings(
        make_posting("Backend Engineer", account_id="acc_gh"),
        make_posting("Remote Writer", account_id="acc_lever", remote=True),
    )

    html = client.http.get("/board?q=writer&company=Initech+Software&remote=true").body.decode()

    assert html.count('class="job-card"') == 1 and ">Remote Writer</a>" in html
    assert 'value="Initech Software" checked' in html
    chip = re.search(r'<a class="chip" href="([^"]+)" data-name="company"', html)
    assert chip and chip.group(1).replace("&amp;", "&") == "/board?q=writer&remote=true"
    assert '<input type="hidden" name="company" value="Initech Software">' in html  # kept by a new search
    assert '<meta name="robots" content="noindex, follow">' in html  # filtered lists are not canonical
    assert 'aria-label="Filters, 2 active"' in html


def test_board_page_with_invalid_settings_says_so_with_a_400(client: Any) -> None:
    response = client.http.get("/board?remote=maybe")

    assert response.status_code == 400
    assert "Some search settings in this link are not valid" in response.body.decode()


def test_pages_say_the_board_is_unavailable_with_a_retry(client: Any) -> None:
    import boto3

    from chalicelib.settings import get_settings

    boto3.client("dynamodb").delete_table(TableName=get_settings().table_name)

    board = client.http.get("/board?q=nurse")
    job = client.http.get(f"/board/jobs/{JOB_ID}")

    assert board.status_code >= 500 and job.status_code == 503
    assert 'id="retry" href="/board?q=nurse">Retry</a>' in board.body.decode()
    assert f'href="/board/jobs/{JOB_ID}">Try again</a>' in job.body.decode()
    assert "Traceback" not in board.body.decode() + job.body.decode()


@pytest.mark.parametrize(
    ("posted", "expected"),
    [
        ("2026-12-01T08:00:00Z", "today"),
        ("2026-11-30T23:59:00Z", "yesterday"),
        ("2026-11-27T12:00:00Z", "4 days ago"),
        ("2026-11-24T12:00:00Z", "1 week ago"),
        ("2026-11-10T12:00:00Z", "3 weeks ago"),
        ("2026-10-01T12:00:00Z", "on Oct 1, 2026"),
        ("not a date", ""),
    ],
)
def test_posted_dates_read_relative_to_now(posted: str, expected: str) -> None:
    from datetime import UTC, datetime

    from chalicelib.api.pages import relative_date

    assert relative_date(posted, datetime(2026, 12, 1, 10, 0, tzinfo=UTC)) == expected


def test_board_page_reads_any_page_parameter_as_a_page_count(client: Any) -> None:
    # "¹" passes str.isdigit() but not int(), and 5,000 digits exceed int()'s limit: both were 500s.
    for query in ("page=%C2%B9", "page=" + "9" * 5000, "page=abc", "page=3"):
        response = client.http.get(f"/board?{query}")

        assert response.status_code == 200, (query, response.body[:200])
