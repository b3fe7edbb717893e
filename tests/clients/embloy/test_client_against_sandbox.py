"""The product's EmbloyClient, and the whole Embloy apply route, against the in-process Embloy sandbox.

The sandbox validates requests like Embloy Core (header name, form fields, modes, token claims) and
answers with Embloy's real statuses and bodies, so this checks the wire format end to end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from chalicelib import deps
from chalicelib.clients.embloy.client import EmbloyClient
from chalicelib.clients.embloy.errors import (
    EmbloyError,
    EmbloyRateLimitedError,
    EmbloyRequestRejectedError,
    EmbloyTokenRejectedError,
    EmbloyUnreachableError,
)
from chalicelib.clients.embloy.models import EmbloySession
from chalicelib.clients.http import build_http_client
from chalicelib.settings import get_settings
from sandbox.embloy import EmbloySandboxHandle, mint_client_token, start_embloy_sandbox
from sandbox.embloy.server import token_fingerprint
from tests.api.apply_factories import make_posting, store_posting
from tests.conftest import bearer

SESSION = EmbloySession(
    mode="ashby",
    job_slug="0a1b2c3d-ashby-posting",
    success_url="https://board.test/jobs/j?applied=embloy",
    cancel_url="https://board.test/jobs/j?cancelled=embloy",
)


@pytest.fixture
def embloy_sandbox() -> Iterator[EmbloySandboxHandle]:
    handle = start_embloy_sandbox()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def embloy(embloy_sandbox: EmbloySandboxHandle) -> Iterator[EmbloyClient]:
    http = build_http_client(embloy_sandbox.base_url, timeout_seconds=5)
    with http:
        yield EmbloyClient(http)


def test_request_token_is_accepted_with_the_exact_wire_format(
    embloy_sandbox: EmbloySandboxHandle, embloy: EmbloyClient
) -> None:
    client_token = mint_client_token(7)

    request_token = embloy.request_token(client_token, SESSION)

    assert request_token.count(".") == 2
    (recorded,) = embloy_sandbox.state.requests
    assert recorded["status"] == 200
    assert recorded["content_type"] == "application/x-www-form-urlencoded"
    assert recorded["client_token_fingerprint"] == token_fingerprint(client_token)
    assert recorded["fields"] == SESSION.model_dump()


@pytest.mark.parametrize(
    ("arrange", "error_type", "status"),
    [
        (lambda state, token: state.expire(token), EmbloyTokenRejectedError, 401),
        (lambda state, token: state.revoke(token), EmbloyTokenRejectedError, 401),
        (lambda state, token: state.deleted_users.add(7), EmbloyTokenRejectedError, 404),
        (lambda state, token: state.blocked_users.add(7), EmbloyTokenRejectedError, 403),
        (lambda state, token: state.make_unavailable(1, retry_after=42), EmbloyRateLimitedError, 503),
    ],
)
def test_sandbox_failures_map_to_typed_errors(
    embloy_sandbox: EmbloySandboxHandle,
    embloy: EmbloyClient,
    arrange: Any,
    error_type: type[EmbloyError],
    status: int,
) -> None:
    client_token = mint_client_token(7)
    arrange(embloy_sandbox.state, client_token)

    with pytest.raises(error_type) as caught:
        embloy.request_token(client_token, SESSION)

    assert caught.value.status == status
    if status == 503:
        assert isinstance(caught.value, EmbloyRateLimitedError)
        assert caught.value.retry_after == 42


def test_token_from_another_embloy_server_is_rejected(embloy: EmbloyClient) -> None:
    foreign = mint_client_token(7, secret="some-other-embloy-secret")
    with pytest.raises(EmbloyTokenRejectedError):
        embloy.request_token(foreign, SESSION)


@pytest.mark.parametrize("token", ["", ":malformed"])
def test_blank_or_malformed_token_is_a_rejected_request(embloy: EmbloyClient, token: str) -> None:
    with pytest.raises(EmbloyRequestRejectedError) as caught:
        embloy.request_token(token, SESSION)
    assert caught.value.status == 400


def test_stopped_sandbox_is_unreachable(embloy_sandbox: EmbloySandboxHandle, embloy: EmbloyClient) -> None:
    embloy_sandbox.stop()
    with pytest.raises(EmbloyUnreachableError):
        embloy.request_token(mint_client_token(7), SESSION)


def test_apply_route_redirects_to_a_working_sandbox_portal_page(
    embloy_sandbox: EmbloySandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    client: Any,
    employer: tuple[str, str],
) -> None:
    monkeypatch.setenv("EMBLOY_API_URL", embloy_sandbox.base_url)
    monkeypatch.setenv("EMBLOY_PORTAL_URL", embloy_sandbox.portal_url)
    deps.reset_dependencies()  # also forgets the cached settings
    # Read the settings now, with the sandbox URLs, before the first request builds the services.
    assert get_settings().embloy_api_url == embloy_sandbox.base_url
    employer_id, api_key = employer
    client_token = mint_client_token(11)
    upload = client.http.put(
        "/employer/embloy-token",
        body=json.dumps({"client_token": client_token}),
        headers={**bearer(api_key), "Content-Type": "application/json"},
    )
    assert upload.status_code == 204
    posting = store_posting(make_posting(employer_id=employer_id, provider="lever", remote_id="bab6e549"))

    response = client.http.post(
        f"/jobs/{posting.job_id}/apply/embloy",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"",
    )

    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(f"{embloy_sandbox.portal_url}/sdk/apply?request_token=")
    assert urlparse(location).hostname == "127.0.0.1"
    with httpx.Client(timeout=5) as browser:
        page = browser.get(location)
    assert page.status_code == 200
    assert 'id="job-slug">bab6e549<' in page.text
    assert 'id="mode">lever<' in page.text
    assert f"/jobs/{posting.job_id}?cancelled=embloy" in page.text
    (recorded,) = embloy_sandbox.state.requests
    assert recorded["client_token_fingerprint"] == token_fingerprint(client_token)
