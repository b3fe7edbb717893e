"""PUT/GET/DELETE /employer/embloy-token: stored in Secrets Manager per employer, never returned."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.settings import get_settings
from tests.api.apply_factories import make_client_token
from tests.conftest import bearer


def put(client: Any, api_key: str, body: Any) -> Any:
    return client.http.put(
        "/employer/embloy-token",
        body=json.dumps(body),
        headers={**bearer(api_key), "Content-Type": "application/json"},
    )


def secret_value(employer_id: str) -> str:
    name = f"{get_settings().embloy_secret_prefix}{employer_id}"
    return deps.get_secrets_client().get_secret_value(SecretId=name)["SecretString"]


def test_put_stores_the_token_under_the_employers_secret_name(client: Any, employer: tuple[str, str]) -> None:
    employer_id, api_key = employer
    token = make_client_token()

    assert put(client, api_key, {"client_token": token}).status_code == 204

    assert secret_value(employer_id) == token
    profile = deps.get_table().get_item(Key={"PK": f"EMPLOYER#{employer_id}", "SK": "PROFILE"})["Item"]
    assert profile["embloy_configured"] is True
    assert profile["embloy_needs_renewal"] is False
    assert profile["name"] == "Acme Robotics"  # the profile was updated, not overwritten
    assert token not in repr(profile)


def test_put_again_updates_the_same_secret(client: Any, employer: tuple[str, str]) -> None:
    employer_id, api_key = employer
    put(client, api_key, {"client_token": make_client_token(marker="one")})
    second = make_client_token(marker="two")

    assert put(client, api_key, {"client_token": second}).status_code == 204

    assert secret_value(employer_id) == second


def test_get_reports_status_without_the_token(client: Any, employer: tuple[str, str]) -> None:
    _, api_key = employer
    assert client.http.get("/employer/embloy-token", headers=bearer(api_key)).json_body == {
        "configured": False,
        "updated_at": None,
        "needs_renewal": False,
    }
    token = make_client_token()
    put(client, api_key, {"client_token": token})

    response = client.http.get("/employer/embloy-token", headers=bearer(api_key))

    assert response.status_code == 200
    assert response.json_body["configured"] is True
    assert response.json_body["updated_at"].endswith("Z")
    assert token not in response.body.decode()


def test_delete_removes_the_secret_and_a_new_put_works(client: Any, employer: tuple[str, str]) -> None:
    employer_id, api_key = employer
    put(client, api_key, {"client_token": make_client_token()})

    assert client.http.delete("/employer/embloy-token", headers=bearer(api_key)).status_code == 204

    names = [s["Name"] for s in deps.get_secrets_client().list_secrets()["SecretList"]]
    assert f"{get_settings().embloy_secret_prefix}{employer_id}" not in names
    assert client.http.get("/employer/embloy-token", headers=bearer(api_key)).json_body["configured"] is False
    assert deps.get_embloy_token_store().get_token(employer_id) is None
    again = make_client_token(marker="again")
    assert put(client, api_key, {"client_token": again}).status_code == 204
    assert deps.get_embloy_token_store().get_token(employer_id) == again


def test_delete_without_a_token_is_fine(client: Any, employer: tuple[str, str]) -> None:
    assert client.http.delete("/employer/embloy-token", headers=bearer(employer[1])).status_code == 204


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"client_token": "not-a-jwt"}, "invalid_client_token"),
        ({"client_token": "a.b.c"}, "invalid_client_token"),
        ({"client_token": "x" * 5000}, "invalid_request"),  # past the documented maxLength (4096)
        ({"client_token": "e30.e30.sig"}, "invalid_client_token"),  # header without alg
        ({"client_token": make_client_token(exp=1600000000)}, "embloy_token_expired"),
        ({"client_token": ""}, "invalid_request"),
        ({"token": make_client_token()}, "invalid_request"),
        ({"client_token": 12345}, "invalid_request"),
    ],
)
def test_put_rejects_what_cannot_be_a_client_token(
    client: Any, employer: tuple[str, str], body: dict[str, Any], code: str
) -> None:
    _employer_id, api_key = employer

    response = put(client, api_key, body)

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == code
    assert (
        "client_token" in json.dumps(response.json_body["error"].get("fields", {}))
        or code == "invalid_request"
    )
    prefix = get_settings().embloy_secret_prefix
    assert [
        s for s in deps.get_secrets_client().list_secrets()["SecretList"] if s["Name"].startswith(prefix)
    ] == []


def test_token_routes_need_an_employer_key(client: Any) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = client.http.request(method, "/employer/embloy-token", headers=bearer("jbk_" + "x" * 43))
        assert response.status_code == 401


@pytest.mark.parametrize("exp", [1e20, float("nan"), float("inf"), -1e20])
def test_put_with_an_out_of_range_exp_is_400_not_500(
    client: Any, employer: tuple[str, str], exp: float
) -> None:
    _employer_id, api_key = employer

    response = put(client, api_key, {"client_token": make_client_token(exp=exp)})

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_client_token"
    assert response.json_body["error"]["fields"] == {
        "client_token": "client_token has an invalid exp (expiry) claim."
    }
    prefix = get_settings().embloy_secret_prefix
    assert [
        s for s in deps.get_secrets_client().list_secrets()["SecretList"] if s["Name"].startswith(prefix)
    ] == []


def test_a_token_the_document_allows_is_never_too_large_however_json_spells_it(
    client: Any, employer: tuple[str, str]
) -> None:
    # Surrounding whitespace is allowed (and trimmed) up to the token's length limit; JSON may escape each
    # such character as six bytes, which once took the body over the generic 16 KiB limit (a 413).
    employer_id, api_key = employer
    from chalicelib.services.embloy_tokens import MAX_TOKEN_LENGTH

    token = make_client_token()
    padded = token + "\u3000" * (MAX_TOKEN_LENGTH - len(token))
    body = json.dumps({"client_token": padded})  # ensure_ascii: each U+3000 is `\u3000`
    assert len(body) > 16 * 1024

    response = client.http.put(
        "/employer/embloy-token", body=body, headers={**bearer(api_key), "Content-Type": "application/json"}
    )

    assert response.status_code == 204, response.json_body
    assert secret_value(employer_id) == token
