"""What the StackOne sandbox answers conforms to StackOne's published OpenAPI specs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI

from sandbox.demo_employers import DEMO_EMPLOYERS
from sandbox.stackone import FailureRule, StackOneSandboxHandle
from sandbox.stackone.seed import is_on_board
from sandbox.stackone.state import Quirks
from tests.contract.oas import validate_response


def with_legacy_internal_as_string(response: httpx.Response) -> httpx.Response:
    """The seed deliberately serves a few postings in an older shape with a boolean `internal` (the board
    must tolerate it); the current spec types it as a string. Convert exactly those, so every other field
    is still validated, and fail if a boolean shows up anywhere else."""
    body = response.json()
    postings = body["data"] if isinstance(body["data"], list) else [body["data"]]
    for posting in postings:
        if isinstance(posting.get("internal"), bool):
            assert "remote_job_posting_id" in posting, "boolean internal outside the legacy-shaped postings"
            posting["internal"] = str(posting["internal"]).lower()
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=json.dumps(body).encode(),
        request=response.request,
    )


def test_accounts_list_get_and_meta(platform_spec: OpenAPI, stackone_http: httpx.Client) -> None:
    responses = [
        stackone_http.get("/accounts"),
        stackone_http.get(
            "/accounts", params=[("providers", "lever"), ("status", "active"), ("page_size", 2)]
        ),
        stackone_http.get(f"/accounts/{DEMO_EMPLOYERS[0].account_id}"),
        stackone_http.get(f"/accounts/{DEMO_EMPLOYERS[0].account_id}/meta"),
        stackone_http.get("/accounts/acc_unknown"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404]
    for response in responses:
        validate_response(platform_spec, response)


def test_expired_account_still_validates(
    platform_spec: OpenAPI, stackone: StackOneSandboxHandle, stackone_http: httpx.Client
) -> None:
    stackone.state.expire_account(DEMO_EMPLOYERS[1].account_id)
    response = stackone_http.get(f"/accounts/{DEMO_EMPLOYERS[1].account_id}")
    assert response.json()["status_reasons"]
    validate_response(platform_spec, response)


def test_connect_session_created_and_rejected(platform_spec: OpenAPI, stackone_http: httpx.Client) -> None:
    created = stackone_http.post(
        "/connect_sessions",
        json={
            "origin_owner_id": "emp_1",
            "origin_owner_name": "Acme",
            "categories": ["ats"],
            "provider": "lever",
        },
    )
    edit = stackone_http.post(
        "/connect_sessions",
        json={
            "origin_owner_id": DEMO_EMPLOYERS[0].employer_id,
            "origin_owner_name": DEMO_EMPLOYERS[0].name,
            "account_id": DEMO_EMPLOYERS[0].account_id,
        },
    )
    rejected = stackone_http.post("/connect_sessions", json={"origin_owner_id": "emp_1"})
    assert [created.status_code, edit.status_code, rejected.status_code] == [201, 201, 400]
    for response in (created, edit, rejected):
        validate_response(platform_spec, response)


@pytest.mark.parametrize("employer", DEMO_EMPLOYERS, ids=lambda e: e.provider)
def test_job_postings_pages_with_questionnaires(
    ats_spec: OpenAPI, stackone_http: httpx.Client, employer: Any
) -> None:
    headers = {"x-account-id": employer.account_id}
    params: dict[str, str] = {"page_size": "5", "include": "questionnaires"}
    seen = 0
    while True:
        response = stackone_http.get("/unified/ats/job_postings", params=params, headers=headers)
        assert response.status_code == 200
        validate_response(ats_spec, with_legacy_internal_as_string(response))
        body = response.json()
        seen += len(body["data"])
        if not body["next"]:
            break
        params["next"] = body["next"]
    assert seen == 12


def test_job_postings_delta_and_empty_pages(
    ats_spec: OpenAPI, stackone: StackOneSandboxHandle, stackone_http: httpx.Client
) -> None:
    stackone.state.set_pagination(short_page_size=1, empty_pages=True)
    headers = {"x-account-id": DEMO_EMPLOYERS[0].account_id}
    empty = stackone_http.get(
        "/unified/ats/job_postings",
        params={"filter[updated_after]": "2020-01-01T00:00:00.000Z"},
        headers=headers,
    )
    assert empty.json()["data"] == [] and empty.json()["next"]
    validate_response(ats_spec, empty)


def test_job_posting_get_with_and_without_questionnaires(
    ats_spec: OpenAPI, stackone: StackOneSandboxHandle, stackone_http: httpx.Client
) -> None:
    account_id = DEMO_EMPLOYERS[0].account_id
    headers = {"x-account-id": account_id}
    postings = list(stackone.state.postings[account_id].values())
    # one of each shape: full questionnaire, hostile HTML, legacy field names, legacy + boolean internal
    for posting, params in [
        (postings[0], {"include": "questionnaires"}),
        (postings[1], {}),
        (postings[2], {"include": "questionnaires"}),
        (postings[6], {"include": "questionnaires"}),
    ]:
        response = stackone_http.get(
            f"/unified/ats/job_postings/{posting['id']}", params=params, headers=headers
        )
        assert response.status_code == 200
        validate_response(ats_spec, with_legacy_internal_as_string(response))


def test_application_created_and_read_back(
    ats_spec: OpenAPI, stackone: StackOneSandboxHandle, stackone_http: httpx.Client
) -> None:
    employer = DEMO_EMPLOYERS[3]
    posting = next(
        p
        for p in stackone.state.postings[employer.account_id].values()
        if is_on_board(p) and not p["questionnaires"]
    )
    headers = {"x-account-id": employer.account_id}
    created = stackone_http.post(
        "/unified/ats/applications",
        json={
            "job_posting_id": posting["id"],
            "job_id": posting["job_id"],
            "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
            "source": {"name": "Board"},
        },
        headers=headers,
    )
    assert created.status_code == 201
    validate_response(ats_spec, created)
    application_id = created.json()["data"]["id"]
    stackone.state.set_application_status(application_id, "interview")
    fetched = stackone_http.get(f"/unified/ats/applications/{application_id}", headers=headers)
    assert fetched.status_code == 200
    validate_response(ats_spec, fetched)
    missing = stackone_http.get("/unified/ats/applications/nope", headers=headers)
    assert missing.status_code == 404
    validate_response(ats_spec, missing)


def test_a_repeated_application_is_a_conflict_response(
    ats_spec: OpenAPI, stackone: StackOneSandboxHandle, stackone_http: httpx.Client
) -> None:
    stackone.state.quirks = Quirks(duplicate_applications_conflict=True)
    employer = DEMO_EMPLOYERS[3]
    posting = next(
        p
        for p in stackone.state.postings[employer.account_id].values()
        if is_on_board(p) and not p["questionnaires"]
    )
    body = {
        "job_posting_id": posting["id"],
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
    }
    headers = {"x-account-id": employer.account_id}
    created = stackone_http.post("/unified/ats/applications", json=body, headers=headers)
    repeated = stackone_http.post("/unified/ats/applications", json=body, headers=headers)

    assert (created.status_code, repeated.status_code) == (201, 409)
    validate_response(ats_spec, repeated)


@pytest.mark.parametrize("status", [429, 408, 500, 502, 401, 412, 501])
def test_injected_error_bodies(
    ats_spec: OpenAPI, stackone: StackOneSandboxHandle, stackone_http: httpx.Client, status: int
) -> None:
    stackone.state.add_failure(FailureRule(status=status, count=1, retry_after=5))
    response = stackone_http.get(
        "/unified/ats/job_postings", headers={"x-account-id": DEMO_EMPLOYERS[0].account_id}
    )
    assert response.status_code == status
    validate_response(ats_spec, response)


def test_auth_and_account_errors(
    ats_spec: OpenAPI, platform_spec: OpenAPI, stackone: StackOneSandboxHandle, stackone_http: httpx.Client
) -> None:
    with httpx.Client(base_url=stackone.base_url, verify=False) as anonymous:
        unauthorised_accounts = anonymous.get("/accounts")
        unauthorised_postings = anonymous.get("/unified/ats/job_postings", headers={"x-account-id": "x"})
    unknown_account = stackone_http.get("/unified/ats/job_postings", headers={"x-account-id": "acc_unknown"})
    stackone.state.expire_account(DEMO_EMPLOYERS[2].account_id)
    expired = stackone_http.get(
        "/unified/ats/job_postings", headers={"x-account-id": DEMO_EMPLOYERS[2].account_id}
    )
    assert [
        r.status_code for r in (unauthorised_accounts, unauthorised_postings, unknown_account, expired)
    ] == [
        401,
        401,
        404,
        401,
    ]
    validate_response(platform_spec, unauthorised_accounts)
    for response in (unauthorised_postings, unknown_account, expired):
        validate_response(ats_spec, response)
