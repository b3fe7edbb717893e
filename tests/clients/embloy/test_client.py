"""EmbloyClient: the exact wire request, and each of Embloy's real answers mapped to a typed error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from chalicelib.clients.embloy.client import REQUEST_TOKEN_PATH, EmbloyClient, portal_url
from chalicelib.clients.embloy.errors import (
    EmbloyBadResponseError,
    EmbloyError,
    EmbloyRateLimitedError,
    EmbloyRequestRejectedError,
    EmbloyTimeoutError,
    EmbloyTokenRejectedError,
    EmbloyUnreachableError,
)
from chalicelib.clients.embloy.models import EmbloySession
from chalicelib.clients.http import build_http_client

BASE = "https://api.embloy.test"
SESSION = EmbloySession(
    mode="ashby",
    job_slug="ok slug&x",
    success_url="https://board.test/jobs/j?applied=embloy",
    cancel_url="https://board.test/jobs/j?cancelled=embloy",
)


@pytest.fixture
def embloy_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


@pytest.fixture
def embloy() -> EmbloyClient:
    return EmbloyClient(build_http_client(BASE, timeout_seconds=2.0))


def test_request_token_sends_client_token_header_and_form_fields(
    embloy_api: respx.MockRouter, embloy: EmbloyClient
) -> None:
    route = embloy_api.post(REQUEST_TOKEN_PATH).respond(200, json={"request_token": "rt.jwt.value"})

    assert embloy.request_token("ct.jwt.secret", SESSION) == "rt.jwt.value"

    request = route.calls.last.request
    assert str(request.url) == f"{BASE}/api/v0/sdk/request/auth/token"
    assert request.method == "POST"
    assert request.headers["client_token"] == "ct.jwt.secret"
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode(), strict_parsing=True) == {
        "mode": ["ashby"],
        "job_slug": ["ok slug&x"],
        "success_url": ["https://board.test/jobs/j?applied=embloy"],
        "cancel_url": ["https://board.test/jobs/j?cancelled=embloy"],
    }


@pytest.mark.parametrize(
    ("status", "body", "error_type", "code"),
    [
        (
            401,
            {"token": [{"error": "ERR_INVALID", "description": "Attribute is invalid or expired"}]},
            EmbloyTokenRejectedError,
            "embloy_token_invalid",
        ),
        (
            403,
            {"user": [{"error": "ERR_RAC", "description": "access restriction"}]},
            EmbloyTokenRejectedError,
            "embloy_token_invalid",
        ),
        (
            403,
            {"subscription": [{"error": "ERR_RAC", "description": "access restriction"}]},
            EmbloyTokenRejectedError,
            "embloy_token_invalid",
        ),
        (
            404,
            {"user": [{"error": "ERR_INVALID", "description": "can not be retrieved"}]},
            EmbloyTokenRejectedError,
            "embloy_token_invalid",
        ),
        (
            400,
            {"mode": [{"error": "ERR_INVALID", "description": "malformed or unknown"}]},
            EmbloyRequestRejectedError,
            "embloy_request_rejected",
        ),
        (500, None, EmbloyError, "embloy_error"),
    ],
)
def test_error_statuses_map_to_typed_errors(
    embloy_api: respx.MockRouter,
    embloy: EmbloyClient,
    status: int,
    body: object,
    error_type: type[EmbloyError],
    code: str,
) -> None:
    embloy_api.post(REQUEST_TOKEN_PATH).respond(status, json=body)
    with pytest.raises(error_type) as caught:
        embloy.request_token("ct.jwt.secret", SESSION)
    assert type(caught.value) is error_type
    assert caught.value.code == code
    assert caught.value.status == status
    assert "ct.jwt.secret" not in str(caught.value)


def test_rate_limit_503_plain_text_is_retryable_with_retry_after(
    embloy_api: respx.MockRouter, embloy: EmbloyClient
) -> None:
    embloy_api.post(REQUEST_TOKEN_PATH).respond(
        503, text="Rate limit exceeded. Please try again later.", headers={"Retry-After": "30"}
    )
    with pytest.raises(EmbloyRateLimitedError) as caught:
        embloy.request_token("ct", SESSION)
    assert caught.value.retry_after == 30


def test_rate_limit_retry_after_as_an_http_date(embloy_api: respx.MockRouter) -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    embloy = EmbloyClient(build_http_client(BASE, timeout_seconds=1.0), now=lambda: now)
    embloy_api.post(REQUEST_TOKEN_PATH).respond(
        503, text="Rate limit exceeded.", headers={"Retry-After": "Sun, 01 Mar 2026 12:00:45 GMT"}
    )
    with pytest.raises(EmbloyRateLimitedError) as caught:
        embloy.request_token("ct", SESSION)
    assert caught.value.retry_after == 45


def test_rate_limit_without_retry_after_defaults_to_a_minute(
    embloy_api: respx.MockRouter, embloy: EmbloyClient
) -> None:
    embloy_api.post(REQUEST_TOKEN_PATH).respond(503, text="Rate limit exceeded. Please try again later.")
    with pytest.raises(EmbloyRateLimitedError) as caught:
        embloy.request_token("ct", SESSION)
    assert caught.value.retry_after == 60


@pytest.mark.parametrize(
    ("exception", "error_type"),
    [
        (httpx.ConnectError("refused"), EmbloyUnreachableError),
        (httpx.ReadTimeout("slow"), EmbloyTimeoutError),
        (httpx.ConnectTimeout("slow"), EmbloyTimeoutError),
    ],
)
def test_transport_failures_become_timeout_family_errors(
    embloy_api: respx.MockRouter, embloy: EmbloyClient, exception: Exception, error_type: type[EmbloyError]
) -> None:
    embloy_api.post(REQUEST_TOKEN_PATH).mock(side_effect=exception)
    with pytest.raises(error_type):
        embloy.request_token("ct", SESSION)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={}),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json=[{"request_token": "rt"}]),
        httpx.Response(200, json={"request_token": None}),
        httpx.Response(200, json={"request_token": 42}),
        httpx.Response(200, json={"request_token": ""}),
        httpx.Response(204),
    ],
    ids=["empty-object", "html", "array", "null-token", "number-token", "empty-token", "no-content"],
)
def test_success_without_request_token_is_a_bad_response(
    embloy_api: respx.MockRouter, embloy: EmbloyClient, response: httpx.Response
) -> None:
    embloy_api.post(REQUEST_TOKEN_PATH).mock(return_value=response)
    with pytest.raises(EmbloyBadResponseError):
        embloy.request_token("ct", SESSION)


def test_portal_url_encodes_the_request_token() -> None:
    assert portal_url("https://embloy.test/", "a.b+c/d=") == (
        "https://embloy.test/sdk/apply?request_token=a.b%2Bc%2Fd%3D"
    )


@pytest.mark.parametrize("slug", ["", "x" * 89])
def test_session_rejects_empty_and_overlong_slugs(slug: str) -> None:
    with pytest.raises(ValueError):
        EmbloySession(mode="lever", job_slug=slug, success_url="https://b", cancel_url="https://c")


def test_session_rejects_modes_embloy_does_not_accept() -> None:
    with pytest.raises(ValueError):
        EmbloySession(mode="greenhouse", job_slug="1", success_url="https://b", cancel_url="https://c")
