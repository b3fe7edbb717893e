"""DynamoDB, Secrets Manager or S3 failing under a route: a 503 in the API's error shape with a code the
frontend can act on, never a 500 with a stack trace. And a ValidationError that is not about the request is
never the caller's 400.

Failures are injected into the app's own boto3 clients through botocore's event hooks (tests/aws_failures.py),
narrowed to the one call under test so authentication and the other reads still work.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from chalicelib import deps
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.request_body import parse_input
from tests.api.apply_factories import (
    application_body,
    json_headers,
    make_client_token,
    make_posting,
    store_posting,
    store_stackone_key,
    store_sync_state,
)
from tests.api.board_factories import make_posting as make_board_posting
from tests.api.board_factories import put_posting
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import EmployerApi, connect_session_body, linked_account
from tests.aws_failures import OUTAGES, fail_calls
from tests.conftest import bearer


def assert_503(response: Any, code: str) -> None:
    assert response.status_code == 503, response.body
    assert response.json_body["error"]["code"] == code
    assert set(response.json_body["error"]) >= {"code", "message"}
    assert "Traceback" not in json.dumps(response.json_body)
    assert "InternalServerError" not in json.dumps(response.json_body)  # AWS's own words stay in the logs


@pytest.mark.parametrize("outage", ["service_error", "read_timeout"])
def test_accounts_listing_is_503_when_sync_state_cannot_be_read(
    employer_api: EmployerApi, outage: str
) -> None:
    employer_api.stackone.get("/accounts").respond(
        200, json=[linked_account("acc_1", employer_api.employer_id)]
    )
    failed = fail_calls(deps.get_table().meta.client, OUTAGES[outage], operations={"BatchGetItem"})

    response = employer_api.client.http.get("/accounts", headers=employer_api.headers())

    assert failed == ["BatchGetItem"]
    assert_503(response, "table_unavailable")


def test_sync_now_is_503_when_its_limiter_cannot_be_written(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts/acc_1").respond(
        200, json=linked_account("acc_1", employer_api.employer_id)
    )
    fail_calls(
        deps.get_table().meta.client, OUTAGES["unreachable"], operations={"PutItem"}, matching="SYNCNOW"
    )

    response = employer_api.client.http.post("/accounts/acc_1/sync", headers=employer_api.headers(), body="")

    assert_503(response, "storage_unavailable")
    assert employer_api.queued_messages() == []  # nothing was queued


def test_embloy_token_status_is_503_when_the_profile_cannot_be_read(
    client: Any, employer: tuple[str, str]
) -> None:
    _, api_key = employer
    failed = fail_calls(
        deps.get_table().meta.client,
        OUTAGES["service_error"],
        operations={"GetItem"},
        matching="embloy_configured",
    )

    response = client.http.get("/employer/embloy-token", headers=bearer(api_key))

    assert failed == ["GetItem"]
    assert_503(response, "table_unavailable")


def test_embloy_token_upload_is_503_when_secrets_manager_fails(
    client: Any, employer: tuple[str, str]
) -> None:
    employer_id, api_key = employer
    fail_calls(deps.get_secrets_client(), OUTAGES["read_timeout"])

    response = client.http.put(
        "/employer/embloy-token",
        body=json.dumps({"client_token": make_client_token()}),
        headers={**bearer(api_key), "Content-Type": "application/json"},
    )

    assert_503(response, "secret_store_unavailable")
    profile = deps.get_table().get_item(Key={"PK": f"EMPLOYER#{employer_id}", "SK": "PROFILE"})["Item"]
    assert "embloy_configured" not in profile  # nothing claims a token that was never stored


def test_connect_session_is_503_when_the_employer_cannot_be_read(employer_api: EmployerApi) -> None:
    route = employer_api.stackone.post("/connect_sessions").respond(
        201, json=connect_session_body(employer_api.employer_id)
    )
    fail_calls(
        deps.get_table().meta.client, OUTAGES["service_error"], operations={"GetItem"}, matching="PROFILE"
    )

    response = employer_api.client.http.post("/connect-sessions", headers=employer_api.headers(), body="{}")

    assert_503(response, "table_unavailable")
    assert not route.called  # no session is minted for an employer we could not read


def test_the_board_is_503_when_its_storage_fails(client: Any) -> None:
    put_posting(make_board_posting())
    fail_calls(deps.get_table().meta.client, OUTAGES["read_timeout"])

    assert_503(client.http.get("/jobs"), "board_unavailable")


def test_native_apply_is_503_when_the_posting_cannot_be_read(client: Any) -> None:
    store_stackone_key()
    posting = store_posting(make_posting())
    failed = fail_calls(
        deps.get_table().meta.client, OUTAGES["service_error"], operations={"GetItem"}, matching="POSTING#"
    )

    response = client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(application_body()), headers=json_headers()
    )

    assert failed == ["GetItem"]
    assert_503(response, "table_unavailable")


def test_embloy_apply_is_503_when_the_client_token_cannot_be_read(client: Any) -> None:
    posting = store_posting(make_posting())
    store_sync_state(posting.account_id)
    provider_client = deps.get_secrets_provider().client
    failed = fail_calls(provider_client, OUTAGES["service_error"], operations={"GetSecretValue"})

    response = client.http.post(f"/jobs/{posting.job_id}/apply/embloy", body="{}", headers=json_headers())

    assert failed == ["GetSecretValue"]
    assert_503(response, "secret_unavailable")


# ValidationError: 400 only for request input ------------------------------------------------------------


def test_a_stored_item_our_models_cannot_read_is_a_500_not_the_callers_400(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts").respond(
        200, json=[linked_account("acc_1", employer_api.employer_id)]
    )
    deps.get_table().put_item(
        Item={
            "PK": "ACCOUNT#acc_1",
            "SK": "SYNC",
            "doc": json.dumps({"account_id": "acc_1", "live_postings": "many"}),
        }
    )

    response = employer_api.client.http.get("/accounts", headers=employer_api.headers())

    assert response.status_code == 500
    assert response.json_body == {
        "error": {"code": "internal_error", "message": "An unexpected error occurred."}
    }


class _Limit(BaseModel):
    limit: int


def _view(source: str) -> Any:
    @handle_errors
    def view() -> Any:
        if source == "request":
            return parse_input(_Limit, {"limit": "lots"}).model_dump()
        return _Limit.model_validate({"limit": "lots"}).model_dump()  # data we read, not the caller's

    return view


def test_validation_errors_are_400_only_when_they_are_about_the_request() -> None:
    from_request = _view("request")()
    elsewhere = _view("upstream")()

    assert from_request.status_code == 400
    assert from_request.body["error"]["code"] == "invalid_request"
    assert set(from_request.body["error"]["fields"]) == {"limit"}
    assert elsewhere.status_code == 500
    assert elsewhere.body["error"]["code"] == "internal_error"
    assert "lots" not in json.dumps(elsewhere.body)
