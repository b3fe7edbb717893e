"""Hostile request bodies on every body route: a clear 400 `invalid_json` (never a 500) and no change."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.models.posting import make_job_id
from tests.api.apply_factories import application_body, json_headers, make_posting, store_posting
from tests.conftest import bearer

DEEP = b"[" * 2000 + b"]" * 2000
NESTED_IN_OBJECT = b'{"provider": ' + DEEP + b"}"
JOB_ID = make_job_id("acct-ashby-1", "post-1")

HOSTILE = {
    "nested 2000 levels": DEEP,
    "nested inside an object": NESTED_IN_OBJECT,
    "not json": b"{not json",
    "NaN": b'{"label": NaN}',
    "a number beyond float": b'{"label": 1e999}',
    "a lone surrogate": b'{"label": "\\ud800"}',
    "not an object": b'["provider"]',
    "UTF-8 with a byte order mark": b'\xef\xbb\xbf{"label": "x"}',
    "UTF-16": '{"label": "x"}'.encode("utf-16"),
    "UTF-32": '{"label": "x"}'.encode("utf-32"),
}


def routes(employer_key: str) -> list[tuple[str, str, dict[str, str]]]:
    auth = {**bearer(employer_key), "Content-Type": "application/json"}
    return [
        ("POST", f"/jobs/{JOB_ID}/applications", {"Content-Type": "application/json"}),
        ("POST", f"/jobs/{JOB_ID}/events", {"Content-Type": "application/json"}),
        ("POST", "/connect-sessions", auth),
        ("POST", "/accounts/acc-1/sync", auth),
        ("PUT", "/employer/embloy-token", auth),
    ]


@pytest.mark.parametrize("body", HOSTILE.values(), ids=list(HOSTILE))
def test_every_body_route_answers_400_invalid_json(
    client: Any, employer: tuple[str, str], body: bytes
) -> None:
    for method, path, headers in routes(employer[1]):
        response = client.http.request(method, path, headers=headers, body=body)
        assert response.status_code == 400, (path, response.body)
        assert json.loads(response.body)["error"]["code"] == "invalid_json", path


def test_deep_nesting_changes_nothing(client: Any) -> None:
    from chalicelib import deps

    posting = store_posting(make_posting())
    before = deps.get_table().scan()["Items"]
    response = client.http.post(
        f"/jobs/{posting.job_id}/applications", headers=json_headers(), body=NESTED_IN_OBJECT
    )
    assert response.status_code == 400
    assert deps.get_table().scan()["Items"] == before


def test_every_invalid_field_is_named_in_plain_words(client: Any) -> None:
    body = application_body()
    body["candidate"]["email"] = "not-an-address"
    body["candidate"]["phone"] = "call me"
    body["resume"]["filename"] = "../etc/passwd"
    response = client.http.post(f"/jobs/{JOB_ID}/applications", headers=json_headers(), body=json.dumps(body))

    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    assert error["fields"] == {
        "candidate.email": "must be a valid email address",
        "candidate.phone": "must be a phone number (digits, spaces, + ( ) . / -)",
        "resume.filename": "must be a plain file name",
    }
    assert "Value error" not in error["message"]
    assert "3 fields are invalid" in error["message"]
