"""The employer authorizer on every employer route: Bearer keys, 401s in the API's shape, rotation."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from chalicelib import deps
from chalicelib.settings import get_settings
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import EmployerApi, linked_account

EMPLOYER_ROUTES = [
    ("POST", "/connect-sessions"),
    ("GET", "/accounts"),
    ("POST", "/accounts/acc_1/sync"),
    ("GET", "/employer"),
]


def call(api: EmployerApi, method: str, path: str, headers: dict[str, str]) -> Any:
    body = "{}" if method == "POST" else None
    return api.client.http.request(method, path, headers=headers, body=body)


@pytest.mark.parametrize(("method", "path"), EMPLOYER_ROUTES)
def test_every_employer_route_requires_a_key(employer_api: EmployerApi, method: str, path: str) -> None:
    # No Authorization header at all: the gateway itself answers 401 before the authorizer runs.
    response = call(employer_api, method, path, {"Content-Type": "application/json"})

    assert response.status_code == 401
    assert not employer_api.stackone.calls


UNAUTHENTICATED = {
    "error": {
        "code": "unauthenticated",
        "message": "A valid employer API key is required (Authorization: Bearer <key>).",
    }
}


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer jbk_short",
        "Bearer jbk_" + "A" * 43,  # well-formed, unknown
        "Bearer sk_live_" + "A" * 43,  # wrong prefix
        "jbk_" + "A" * 43,  # no scheme
    ],
)
def test_bad_credentials_are_401_in_the_api_error_shape(
    employer_api: EmployerApi, authorization: str
) -> None:
    response = call(employer_api, "GET", "/accounts", {"Authorization": authorization})

    assert response.status_code == 401
    assert response.json_body == UNAUTHENTICATED
    assert not employer_api.stackone.calls


@pytest.mark.parametrize(("method", "path"), EMPLOYER_ROUTES)
def test_every_employer_route_rejects_an_unknown_key(
    employer_api: EmployerApi, method: str, path: str
) -> None:
    headers = {"Authorization": "Bearer jbk_" + "B" * 43, "Content-Type": "application/json"}

    response = call(employer_api, method, path, headers)

    assert response.status_code == 401
    assert response.json_body == UNAUTHENTICATED
    assert not employer_api.stackone.calls


def test_bearer_scheme_is_case_insensitive(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts").respond(200, json=[])

    response = employer_api.client.http.get(
        "/accounts", headers={"Authorization": f"bearer {employer_api.api_key}"}
    )

    assert response.status_code == 200


def test_rotation_retires_the_old_key_and_the_new_one_works(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts").respond(
        200, json=[linked_account("acc_1", employer_api.employer_id)]
    )
    new_key = deps.get_employer_service().rotate_key(employer_api.employer_id)

    old = employer_api.client.http.get("/accounts", headers=employer_api.headers())
    new = employer_api.client.http.get("/accounts", headers=employer_api.headers(new_key))

    assert old.status_code == 401
    assert new.status_code == 200
    assert new.json_body["data"][0]["account_id"] == "acc_1"


def test_key_store_outage_is_503_not_a_misleading_401(employer_api: EmployerApi) -> None:
    boto3.client("dynamodb").delete_table(TableName=get_settings().table_name)

    response = employer_api.client.http.get("/accounts", headers=employer_api.headers())

    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "auth_unavailable"
    assert response.headers["Retry-After"] == "5"


def test_get_employer_names_the_company_the_key_belongs_to(employer_api: EmployerApi) -> None:
    response = employer_api.client.http.get("/employer", headers=employer_api.headers())

    assert response.status_code == 200
    assert response.json_body == {"employer_id": employer_api.employer_id, "name": "Acme Robotics"}
    assert not employer_api.stackone.calls  # answered from the board's own table
