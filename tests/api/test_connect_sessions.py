"""POST /connect-sessions: the server builds the StackOne request from the authenticated employer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chalicelib.api.http_errors import DEFAULT_RETRY_AFTER_SECONDS
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import (
    EmployerApi,
    at,
    connect_session_body,
    linked_account,
    reload_settings,
)


def post_session(api: EmployerApi, body: dict[str, Any] | None = None) -> Any:
    return api.client.http.post(
        "/connect-sessions", headers=api.headers(), body=json.dumps(body) if body is not None else ""
    )


def assert_expires_in(response: Any, seconds: int, *, since: datetime) -> None:
    """`expires_at` is `seconds` after the request on the board's clock (whole seconds, rounded down)."""
    expires_at = at(response.json_body["expires_at"])
    lifetime = timedelta(seconds=seconds)
    assert since.replace(microsecond=0) + lifetime <= expires_at <= datetime.now(UTC) + lifetime


def sent_body(route: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls.last.request.content)
    return body


def test_mints_session_owned_by_the_authenticated_employer(employer_api: EmployerApi) -> None:
    route = employer_api.stackone.post("/connect_sessions").respond(
        201, json=connect_session_body(employer_api.employer_id)
    )

    before = datetime.now(UTC)

    response = post_session(employer_api, {"provider": "Greenhouse", "label": "Main ATS"})

    assert response.status_code == 201, response.body
    assert response.json_body == {
        "token": "cs-token-Very-Secret-123",
        "auth_link_url": "https://hub.stackone.test/connect?token=cs-token-Very-Secret-123",
        "expires_at": response.json_body["expires_at"],
    }
    assert_expires_in(response, 1800, since=before)
    assert sent_body(route) == {
        "origin_owner_id": employer_api.employer_id,
        "origin_owner_name": "Acme Robotics",
        "categories": ["ats"],
        "provider": "greenhouse",
        "label": "Main ATS",
        "expires_in": 1800,
    }
    request = route.calls.last.request
    assert request.headers["Authorization"].startswith("Basic ")


def test_empty_body_lets_the_hub_offer_every_provider(employer_api: EmployerApi) -> None:
    route = employer_api.stackone.post("/connect_sessions").respond(
        201, json={**connect_session_body(employer_api.employer_id), "created_at": None}
    )
    before = datetime.now(UTC)

    response = post_session(employer_api)

    assert response.status_code == 201
    assert "provider" not in sent_body(route)
    assert_expires_in(response, 1800, since=before)


def test_expires_in_comes_from_configuration(
    employer_api: EmployerApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECT_SESSION_EXPIRES_IN", "600")
    reload_settings()
    route = employer_api.stackone.post("/connect_sessions").respond(
        201, json=connect_session_body(employer_api.employer_id)
    )

    before = datetime.now(UTC)

    response = post_session(employer_api)

    assert sent_body(route)["expires_in"] == 600
    assert_expires_in(response, 600, since=before)


def test_provider_outside_the_allow_list_is_rejected_without_calling_stackone(
    employer_api: EmployerApi,
) -> None:
    route = employer_api.stackone.post("/connect_sessions")

    response = post_session(employer_api, {"provider": "salesforce"})

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "provider_not_allowed"
    assert "provider" in response.json_body["error"]["fields"]
    assert not route.called


@pytest.mark.parametrize(
    "body",
    [{"provider": 7}, {"label": "x" * 101}, {"account_id": "acc/../connect_sessions"}, {"provider": ""}],
)
def test_invalid_fields_are_400_with_field_errors(employer_api: EmployerApi, body: dict[str, Any]) -> None:
    route = employer_api.stackone.post("/connect_sessions")

    response = post_session(employer_api, body)

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_request"
    assert set(response.json_body["error"]["fields"]) == set(body)
    assert not route.called


def test_edit_mode_relinks_an_own_account(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts/acc_1").respond(
        200, json=linked_account("acc_1", employer_api.employer_id, provider="ashby", status="expired")
    )
    route = employer_api.stackone.post("/connect_sessions").respond(
        201, json=connect_session_body(employer_api.employer_id)
    )

    response = post_session(employer_api, {"account_id": "acc_1"})

    assert response.status_code == 201
    assert sent_body(route)["account_id"] == "acc_1"
    assert sent_body(route)["provider"] == "ashby"
    assert sent_body(route)["origin_owner_id"] == employer_api.employer_id


def test_edit_mode_with_a_different_provider_is_rejected(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts/acc_1").respond(
        200, json=linked_account("acc_1", employer_api.employer_id, provider="ashby")
    )
    route = employer_api.stackone.post("/connect_sessions")

    response = post_session(employer_api, {"account_id": "acc_1", "provider": "lever"})

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "provider_mismatch"
    assert not route.called


def test_edit_mode_with_an_account_unknown_to_stackone_is_404(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts/acc_gone").respond(404, json={"message": "not found"})
    route = employer_api.stackone.post("/connect_sessions")

    response = post_session(employer_api, {"account_id": "acc_gone"})

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "account_not_found"
    assert not route.called


DEFAULT_RETRY_AFTER = str(DEFAULT_RETRY_AFTER_SECONDS)


@pytest.mark.parametrize(
    ("stackone_response", "status", "code", "retry_after"),
    [
        (httpx.Response(429, headers={"Retry-After": "7"}), 503, "stackone_rate_limited", "7"),
        # Every 503 carries Retry-After: the table's default when StackOne sent none.
        (httpx.Response(500, json={"message": "boom"}), 503, "stackone_unavailable", DEFAULT_RETRY_AFTER),
        (httpx.Response(502), 503, "stackone_unavailable", DEFAULT_RETRY_AFTER),
        (httpx.Response(408), 504, "stackone_timeout", None),
        (httpx.Response(401, json={"message": "bad key"}), 502, "stackone_key_rejected", None),
        (httpx.Response(403), 502, "stackone_key_rejected", None),
        (httpx.Response(400, json={"message": "provider disabled"}), 502, "stackone_rejected_session", None),
        (httpx.ReadTimeout("slow"), 504, "stackone_timeout", None),
        (httpx.ConnectError("refused"), 503, "stackone_unreachable", DEFAULT_RETRY_AFTER),
    ],
)
def test_stackone_failures_map_to_clear_upstream_errors(
    employer_api: EmployerApi, stackone_response: Any, status: int, code: str, retry_after: str | None
) -> None:
    route = employer_api.stackone.post("/connect_sessions")
    if isinstance(stackone_response, Exception):
        route.side_effect = stackone_response
    else:
        route.return_value = stackone_response

    response = post_session(employer_api, {"provider": "greenhouse"})

    assert response.status_code == status
    assert response.json_body["error"]["code"] == code
    assert response.headers.get("Retry-After") == retry_after
    assert "boom" not in response.body.decode() and "bad key" not in response.body.decode()


def test_missing_stackone_secret_is_503(
    client: Any, employer: tuple[str, str], sync_queue: str, stackone_api: Any
) -> None:
    from tests.conftest import bearer

    response = client.http.post(
        "/connect-sessions", headers={**bearer(employer[1]), "Content-Type": "application/json"}, body="{}"
    )

    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "secret_unavailable"
