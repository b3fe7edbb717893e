"""Response headers: private answers never stored, public ones cached by ETag, HSTS everywhere, HEAD."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app import app
from chalicelib.models.posting import make_job_id
from tests.api.board_factories import (
    board_refreshes_every_request,  # noqa: F401  (autouse)
    make_posting,
    put_postings,
)
from tests.conftest import bearer

HSTS = "max-age=63072000; includeSubDomains"
STRONG_ETAG = re.compile(r'"[0-9a-f]{32}"')
JOB_ID = make_job_id("acc_gh", "post_headers")
UNKNOWN_JOB_ID = make_job_id("acc_gh", "no_such_posting")


def employer_routes() -> list[tuple[str, str]]:
    """Every (method, path) behind the employer authorizer, path parameters filled with a placeholder."""
    found = []
    for path, entries in app.routes.items():
        for method, entry in entries.items():
            if entry.authorizer is not None:
                found.append((method, re.sub(r"\{[^}]+\}", "acc-1", path)))
    return sorted(found)


@pytest.fixture
def client(client: Any) -> Any:
    put_postings(make_posting("Staff Engineer", posting_id="post_headers"))
    return client


def test_every_employer_route_is_no_store_whatever_it_answers(client: Any, employer: tuple[str, str]) -> None:
    routes = employer_routes()
    assert ("GET", "/applications") in routes  # candidates' names and emails

    for method, path in routes:
        for headers in (bearer(employer[1]), bearer("jbk_not_a_key")):
            response = client.http.request(
                method, path, headers={**headers, "Content-Type": "application/json"}, body=b"{}"
            )
            assert response.headers.get("Cache-Control") == "no-store", (method, path, response.status_code)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"/jobs/{JOB_ID}/applications", b"{}"),  # 400: the candidate's own input echoed in field errors
        (f"/jobs/{JOB_ID}/applications", b"{not json"),
        (f"/jobs/{UNKNOWN_JOB_ID}/applications", b"{}"),
        (f"/jobs/{JOB_ID}/apply/embloy", b"{}"),  # 409: the employer has no Embloy token
        (f"/jobs/{JOB_ID}/resume-uploads", b'{"filename": "../cv.pdf"}'),
    ],
)
def test_apply_answers_are_no_store_errors_included(client: Any, path: str, body: bytes) -> None:
    response = client.http.post(path, headers={"Content-Type": "application/json"}, body=body)

    assert response.status_code >= 400
    assert response.headers["Cache-Control"] == "no-store"


PUBLIC = [
    ("/jobs", "public, max-age=30"),
    (f"/jobs/{JOB_ID}", "public, max-age=30"),
    ("/feed.xml", "public, max-age=30"),
    ("/sitemap.xml", "public, max-age=30"),
    ("/board", "public, max-age=30"),
    (f"/board/jobs/{JOB_ID}", "public, max-age=30"),
    ("/robots.txt", "public, max-age=3600"),
    ("/openapi.json", "public, max-age=300"),
]


@pytest.mark.parametrize(("path", "cache_control"), PUBLIC)
def test_public_responses_are_cacheable_with_a_strong_etag_and_answer_304(
    client: Any, path: str, cache_control: str
) -> None:
    response = client.http.get(path)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == cache_control
    etag = response.headers["ETag"]
    assert STRONG_ETAG.fullmatch(etag)
    again = client.http.get(path, headers={"If-None-Match": etag})
    assert (again.status_code, again.body) == (304, b"")
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == cache_control


@pytest.mark.parametrize(("path", "cache_control"), PUBLIC)
def test_head_is_the_get_without_its_body(client: Any, path: str, cache_control: str) -> None:
    get = client.http.get(path)
    head = client.http.request("HEAD", path)

    assert (head.status_code, head.body) == (200, b"")
    for name in ("ETag", "Cache-Control", "Content-Type"):
        assert head.headers[name] == get.headers[name], name


def test_head_on_an_employer_route_is_authenticated_and_no_store(
    client: Any, employer: tuple[str, str]
) -> None:
    anonymous = client.http.request("HEAD", "/applications", headers=bearer("jbk_not_a_key"))
    known = client.http.request("HEAD", "/applications", headers=bearer(employer[1]))

    assert (anonymous.status_code, anonymous.body) == (401, b"")
    assert (known.status_code, known.body) == (200, b"")
    assert known.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/board",
        f"/board/jobs/{JOB_ID}",
        "/board/employer",
        f"/board/jobs/{UNKNOWN_JOB_ID}",
        f"/jobs/{JOB_ID}/apply/embloy",
    ],
)
def test_every_html_page_carries_hsts_and_the_usual_security_headers(client: Any, path: str) -> None:
    response = client.http.get(path)

    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]  # the page's own policy kept


def test_json_answers_carry_hsts_too(client: Any) -> None:
    for response in (client.http.get("/jobs"), client.http.get(f"/jobs/{UNKNOWN_JOB_ID}")):
        assert response.headers["Strict-Transport-Security"] == HSTS
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_errors_of_public_routes_are_not_kept_by_a_cdn(client: Any) -> None:
    bad_query = client.http.get("/jobs?limit=0")
    unknown = client.http.get(f"/jobs/{UNKNOWN_JOB_ID}")

    assert (bad_query.status_code, unknown.status_code) == (400, 404)
    assert bad_query.headers["Cache-Control"] == unknown.headers["Cache-Control"] == "no-store"
