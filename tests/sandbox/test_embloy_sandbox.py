"""The Embloy sandbox validates Quicklink token requests like Embloy Core and serves the apply page."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from sandbox.embloy import (
    EmbloySandboxHandle,
    decode_jwt,
    demo_client_token,
    demo_user_id,
    encode_jwt,
    mint_client_token,
)
from sandbox.embloy.server import REQUEST_TOKEN_SECRET, token_fingerprint
from sandbox.embloy.tokens import DEFAULT_CLIENT_TOKEN_SECRET

TOKEN_PATH = "/api/v0/sdk/request/auth/token"
LEVER_SLUG = "bab6e549-d980-4911-a84c-668951c0e65e"


def request_token(
    client: httpx.Client, client_token: str | None, fields: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {"client_token": client_token} if client_token is not None else {}
    data = {"mode": "lever", "job_slug": LEVER_SLUG} if fields is None else fields
    return client.post(TOKEN_PATH, headers=headers, data=data, **kwargs)


def embloy_error(attribute: str, code: str, description: str) -> dict[str, Any]:
    return {attribute: [{"error": code, "description": description}]}


MALFORMED = "Attribute is malformed or unknown"
INVALID_OR_EXPIRED = "Attribute is invalid or expired"
RESTRICTED = "Proceeding is inhibited by an access restriction"


def test_valid_request_returns_only_a_request_token_for_the_prefixed_slug(embloy_http: httpx.Client) -> None:
    client_token = mint_client_token(42)
    response = request_token(
        embloy_http,
        client_token,
        {
            "mode": "lever",
            "job_slug": LEVER_SLUG,
            "success_url": "https://board.test/ok",
            "cancel_url": "https://board.test/back",
        },
    )
    assert response.status_code == 200
    assert list(response.json()) == ["request_token"]
    claims = decode_jwt(response.json()["request_token"], REQUEST_TOKEN_SECRET)
    assert claims["sub"] == 42 and claims["iss"] == "api.embloy.com"
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["session"]["mode"] == "lever"
    assert claims["session"]["job_slug"] == f"lever__{LEVER_SLUG}"
    assert claims["session"]["cancel_url"] == "https://board.test/back"


def test_job_mode_keeps_the_slug_and_json_bodies_work_too(embloy_http: httpx.Client) -> None:
    response = embloy_http.post(
        TOKEN_PATH,
        headers={"client_token": mint_client_token(1)},
        json={"mode": "job", "job_slug": "board-123"},
    )
    assert response.status_code == 200
    assert (
        decode_jwt(response.json()["request_token"], REQUEST_TOKEN_SECRET)["session"]["job_slug"]
        == "board-123"
    )


@pytest.mark.parametrize(
    ("client_token", "status", "body"),
    [
        (None, 400, embloy_error("client token", "ERR_BLANK", "Attribute can't be blank")),
        ("", 400, embloy_error("client token", "ERR_BLANK", "Attribute can't be blank")),
        (":abc", 400, embloy_error("client_token", "ERR_INVALID", MALFORMED)),
        ("garbage", 401, embloy_error("token", "ERR_INVALID", INVALID_OR_EXPIRED)),
        (
            mint_client_token(1, secret="another-secret"),
            401,
            embloy_error("token", "ERR_INVALID", INVALID_OR_EXPIRED),
        ),
        (
            mint_client_token(1, issued_at=int(time.time()) - 100, expires_in=10),
            401,
            embloy_error("token", "ERR_INVALID", INVALID_OR_EXPIRED),
        ),
        (
            encode_jwt(
                {
                    "sub": 1,
                    "typ": "basic",
                    "iat": int(time.time()),
                    "exp": int(time.time()) + 60,
                    "iss": "evil",
                },
                DEFAULT_CLIENT_TOKEN_SECRET,
            ),
            401,
            embloy_error("token", "ERR_INVALID", INVALID_OR_EXPIRED),
        ),
        (
            encode_jwt(
                {"sub": 1, "typ": "basic", "iss": "api.embloy.com", "iat": int(time.time())},
                DEFAULT_CLIENT_TOKEN_SECRET,
            ),
            401,
            embloy_error("token", "ERR_INVALID", INVALID_OR_EXPIRED),
        ),
        (mint_client_token(1, typ="free"), 403, embloy_error("subscription", "ERR_RAC", RESTRICTED)),
    ],
    ids=[
        "missing",
        "empty",
        "colon",
        "garbage",
        "bad-signature",
        "expired",
        "wrong-issuer",
        "no-exp",
        "bad-tier",
    ],
)
def test_client_token_errors_match_embloy(
    embloy_http: httpx.Client, client_token: str | None, status: int, body: dict[str, Any]
) -> None:
    response = request_token(embloy_http, client_token)
    assert (response.status_code, response.json()) == (status, body)


@pytest.mark.parametrize(
    ("fields", "attribute"),
    [
        ({"mode": "lever"}, "job_slug"),
        ({"mode": "lever", "job_slug": "  "}, "job_slug"),
        ({"job_slug": LEVER_SLUG}, "mode"),
        ({"mode": "greenhouse", "job_slug": LEVER_SLUG}, "mode"),
        ({"mode": "Lever", "job_slug": LEVER_SLUG}, "mode"),
    ],
)
def test_body_errors_match_embloy(embloy_http: httpx.Client, fields: dict[str, str], attribute: str) -> None:
    response = request_token(embloy_http, mint_client_token(1), fields)
    assert response.status_code == 400
    assert response.json() == embloy_error(attribute, "ERR_INVALID", MALFORMED)


def test_token_is_checked_before_the_body(embloy_http: httpx.Client) -> None:
    response = request_token(embloy_http, "garbage", {"mode": "greenhouse"})
    assert response.status_code == 401 and "token" in response.json()


def test_expired_and_revoked_tokens_stop_working(embloy_http: httpx.Client) -> None:
    expiring, revoked, other = mint_client_token(1), mint_client_token(2), mint_client_token(3)
    embloy_http.post("/_sandbox/client_tokens/expire", json={"client_token": expiring}).raise_for_status()
    embloy_http.post("/_sandbox/client_tokens/revoke", json={"client_token": revoked}).raise_for_status()
    assert request_token(embloy_http, expiring).status_code == 401
    assert request_token(embloy_http, revoked).status_code == 401
    assert request_token(embloy_http, other).status_code == 200


def test_deleted_and_blocked_employers(embloy_http: httpx.Client) -> None:
    embloy_http.post("/_sandbox/users/11/delete").raise_for_status()
    embloy_http.post("/_sandbox/users/12/block").raise_for_status()
    gone = request_token(embloy_http, mint_client_token(11))
    assert (gone.status_code, gone.json()) == (
        404,
        embloy_error("user", "ERR_INVALID", "Attribute can not be retrieved"),
    )
    blocked = request_token(embloy_http, mint_client_token(12))
    assert (blocked.status_code, blocked.json()) == (403, embloy_error("user", "ERR_RAC", RESTRICTED))


def test_rate_limit_is_a_plain_text_503_with_retry_after(embloy_http: httpx.Client) -> None:
    embloy_http.post("/_sandbox/unavailable", json={"count": 1, "retry_after": 30}).raise_for_status()
    response = request_token(embloy_http, mint_client_token(1))
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.text == "Rate limit exceeded. Please try again later."
    assert request_token(embloy_http, mint_client_token(1)).status_code == 200


def test_requests_are_recorded_without_the_client_token(embloy_http: httpx.Client) -> None:
    client_token = mint_client_token(77)
    request_token(
        embloy_http, client_token, {"mode": "ashby", "job_slug": "abc", "success_url": "https://b.test/s"}
    )
    request_token(embloy_http, None)
    recorded = embloy_http.get("/_sandbox/requests").json()
    assert [(r["status"], r["client_token_sub"]) for r in recorded] == [(200, 77), (400, None)]
    assert recorded[0]["fields"] == {"mode": "ashby", "job_slug": "abc", "success_url": "https://b.test/s"}
    assert recorded[0]["client_token_fingerprint"] == token_fingerprint(client_token)
    assert recorded[0]["content_type"] == "application/x-www-form-urlencoded"
    assert client_token not in embloy_http.get("/_sandbox/requests").text
    embloy_http.delete("/_sandbox/requests").raise_for_status()
    assert embloy_http.get("/_sandbox/requests").json() == []


def test_admin_minted_and_demo_tokens_are_accepted(embloy_http: httpx.Client) -> None:
    minted = embloy_http.post("/_sandbox/client_tokens", json={"sub": 5, "typ": "premium"}).json()[
        "client_token"
    ]
    assert request_token(embloy_http, minted).status_code == 200
    demo = demo_client_token("emp_demo_initech")
    assert decode_jwt(demo, DEFAULT_CLIENT_TOKEN_SECRET)["sub"] == demo_user_id("emp_demo_initech")
    assert request_token(embloy_http, demo).status_code == 200


def test_apply_page_names_the_job(embloy_http: httpx.Client) -> None:
    token = request_token(
        embloy_http,
        mint_client_token(1),
        {"mode": "lever", "job_slug": LEVER_SLUG, "cancel_url": "https://board.test/jobs/1"},
    ).json()["request_token"]
    for path in ("/sdk/apply", "/en-US/sdk/apply"):
        page = embloy_http.get(path, params={"request_token": token})
        assert page.status_code == 200
        assert f'<strong id="job-slug">{LEVER_SLUG}</strong>' in page.text
        assert '<code id="mode">lever</code>' in page.text
        assert 'href="https://board.test/jobs/1"' in page.text


def test_apply_page_escapes_the_slug(embloy_http: httpx.Client) -> None:
    token = request_token(
        embloy_http, mint_client_token(1), {"mode": "job", "job_slug": "<script>x</script>"}
    ).json()
    page = embloy_http.get("/sdk/apply", params={"request_token": token["request_token"]})
    assert "<script>x" not in page.text and "&lt;script&gt;x" in page.text


@pytest.mark.parametrize("params", [{}, {"request_token": "not-a-token"}])
def test_apply_page_rejects_missing_or_unknown_tokens(
    embloy_http: httpx.Client, params: dict[str, str]
) -> None:
    page = embloy_http.get("/sdk/apply", params=params)
    assert page.status_code in (400, 401) and 'role="alert"' in page.text


def test_apply_page_rejects_expired_request_tokens(
    embloy: EmbloySandboxHandle, embloy_http: httpx.Client
) -> None:
    token = request_token(embloy_http, mint_client_token(1)).json()["request_token"]
    embloy.state.clock = lambda: time.time() + 31 * 60
    assert embloy_http.get("/sdk/apply", params={"request_token": token}).status_code == 401
