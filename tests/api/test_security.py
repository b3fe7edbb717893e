"""Attacks on the employer routes that must fail, and no secret in any log line while they run."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chalicelib import deps
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import (
    STACKONE_API_KEY,
    EmployerApi,
    connect_session_body,
    linked_account,
)

SESSION_TOKEN = "cs-token-Very-Secret-123"


def post(api: EmployerApi, path: str, body: str, **headers: str) -> Any:
    return api.client.http.post(path, headers={**api.headers(), **headers}, body=body)


def test_revoked_key_is_refused(employer_api: EmployerApi) -> None:
    deps.get_employer_service().revoke_key(employer_api.employer_id)

    response = employer_api.client.http.get("/accounts", headers=employer_api.headers())

    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "unauthenticated"
    assert not employer_api.stackone.calls


def test_another_employers_key_does_not_open_my_accounts(
    employer_api: EmployerApi, other_employer: tuple[str, str]
) -> None:
    route = employer_api.stackone.get("/accounts").respond(200, json=[])

    employer_api.client.http.get("/accounts", headers=employer_api.headers(other_employer[1]))

    assert route.calls.last.request.url.params["origin_owner_id"] == other_employer[0]


def test_connect_session_for_another_employers_account_is_404(
    employer_api: EmployerApi, other_employer: tuple[str, str]
) -> None:
    employer_api.stackone.get("/accounts/acc_victim").respond(
        200, json=linked_account("acc_victim", other_employer[0], owner_name="Globex Logistics")
    )
    mint = employer_api.stackone.post("/connect_sessions")

    response = post(employer_api, "/connect-sessions", json.dumps({"account_id": "acc_victim"}))

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "account_not_found"
    assert not mint.called


def test_sync_of_another_employers_account_is_404_and_burns_no_slot(
    employer_api: EmployerApi, other_employer: tuple[str, str]
) -> None:
    employer_api.stackone.get("/accounts/acc_victim").respond(
        200, json=linked_account("acc_victim", other_employer[0], owner_name="Globex Logistics")
    )

    attack = post(employer_api, "/accounts/acc_victim/sync", "")
    owner = employer_api.client.http.post(
        "/accounts/acc_victim/sync", headers=employer_api.headers(other_employer[1]), body=""
    )

    assert attack.status_code == 404
    assert attack.json_body["error"]["code"] == "account_not_found"
    assert owner.status_code == 202  # the attack did not use up the owner's rate-limit slot
    assert [json.loads(m)["run_id"] for m in employer_api.queued_messages()] == [owner.json_body["run_id"]]


def test_owner_smuggled_in_the_body_never_reaches_stackone(employer_api: EmployerApi) -> None:
    smuggled = {
        "origin_owner_id": "emp_victim",
        "origin_owner_name": "Victim Corp",
        "categories": ["hris"],
        "expires_in": 999999,
        "multiple": True,
    }
    mint = employer_api.stackone.post("/connect_sessions").respond(
        201, json=connect_session_body(employer_api.employer_id)
    )

    response = post(employer_api, "/connect-sessions", json.dumps({"provider": "lever", **smuggled}))

    assert response.status_code == 201
    sent = json.loads(mint.calls.last.request.content)
    assert sent["origin_owner_id"] == employer_api.employer_id
    assert sent["origin_owner_name"] == "Acme Robotics"
    assert sent["categories"] == ["ats"]
    assert sent["expires_in"] == 1800
    assert "multiple" not in sent
    assert "emp_victim" not in mint.calls.last.request.content.decode()


BAD_BODIES = [
    ('{"label": "' + "x" * 17000 + '"}', {}, 413, "payload_too_large"),
    ("{not json", {}, 400, "invalid_json"),
    ('["provider", "greenhouse"]', {}, 400, "invalid_json"),
    (
        "provider=greenhouse",
        {"Content-Type": "application/x-www-form-urlencoded"},
        400,
        "unsupported_media_type",
    ),
    ('{"provider": "greenhouse"}', {"Content-Type": "text/plain"}, 400, "unsupported_media_type"),
]


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "code"),
    [("/connect-sessions", *bad) for bad in BAD_BODIES]
    + [("/accounts/acc_1/sync", *bad) for bad in (BAD_BODIES[0], BAD_BODIES[1])],
)
def test_oversized_and_non_json_bodies_are_refused_in_the_error_shape(
    employer_api: EmployerApi, path: str, body: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = post(employer_api, path, body, **headers)

    assert response.status_code == status
    assert response.json_body["error"]["code"] == code
    assert not employer_api.stackone.calls
    assert employer_api.queued_messages() == []


@pytest.mark.parametrize("account_id", ["..%2Fconnect_sessions", "acc%3Fpage%3D2", "a" * 129, "acc%20x"])
def test_account_ids_that_could_bend_stackone_urls_are_404_without_a_call(
    employer_api: EmployerApi, account_id: str
) -> None:
    response = post(employer_api, f"/accounts/{account_id}/sync", "")

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "account_not_found"
    assert not employer_api.stackone.calls


@pytest.fixture
def all_output(caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """Everything logged: the app's Powertools JSON lines at DEBUG (stricter than the stages' INFO),
    formatted as in Lambda, and every library logger at INFO."""
    import logging

    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    level = logger.log_level
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.INFO)
    yield lambda: stream.getvalue() + caplog.text
    logger.setLevel(level)
    logging.getLogger(logger.name).removeHandler(handler)


def test_no_key_token_or_stackone_secret_in_logs(
    employer_api: EmployerApi, other_employer: tuple[str, str], all_output: Any
) -> None:
    api = employer_api
    api.stackone.get("/accounts").respond(200, json=[linked_account("acc_1", api.employer_id)])
    api.stackone.get("/accounts/acc_1").respond(200, json=linked_account("acc_1", api.employer_id))
    api.stackone.get("/accounts/acc_victim").respond(
        200, json=linked_account("acc_victim", other_employer[0])
    )
    mint = api.stackone.post("/connect_sessions")
    mint.side_effect = [
        httpx.Response(201, json=connect_session_body(api.employer_id, token=SESSION_TOKEN)),
        httpx.Response(500, json={"message": f"echo {SESSION_TOKEN}"}),
    ]

    statuses = [
        post(api, "/connect-sessions", '{"provider": "greenhouse"}').status_code,
        post(api, "/connect-sessions", '{"provider": "greenhouse"}').status_code,  # StackOne fails
        post(api, "/connect-sessions", '{"account_id": "acc_victim"}').status_code,
        api.client.http.get("/accounts", headers=api.headers()).status_code,
        post(api, "/accounts/acc_1/sync", "").status_code,
        post(api, "/accounts/acc_1/sync", "").status_code,  # throttled
        post(api, "/connect-sessions", "{broken").status_code,
        api.client.http.get("/accounts", headers=api.headers("jbk_" + "Z" * 43)).status_code,
    ]
    deps.get_employer_service().revoke_key(api.employer_id)
    statuses.append(api.client.http.get("/accounts", headers=api.headers()).status_code)

    assert statuses == [201, 503, 404, 200, 202, 429, 400, 401, 401]
    output = all_output()
    assert "connect session minted" in output  # the flows did log, so the check below means something
    for secret in (api.api_key, other_employer[1], SESSION_TOKEN, STACKONE_API_KEY, "jbk_" + "Z" * 43):
        assert secret not in output
