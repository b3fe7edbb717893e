"""The reference frontend's pages and assets: types, security and caching headers, paths, 304s."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from chalice.app import Request

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
    assert csp["connect-src"] == "connect-src 'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["ETag"])


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
