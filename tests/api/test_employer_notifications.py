"""GET/PUT /employer/notifications: the employer's notification address and daily digest, on the
employer item (moto), with the OpenAPI document's examples accepted as they are."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.api.openapi import get_document
from tests.conftest import bearer

PATH = "/employer/notifications"


def put(client: Any, api_key: str, body: Any, **headers: str) -> Any:
    return client.http.put(
        PATH,
        body=body if isinstance(body, str) else json.dumps(body),
        headers={**bearer(api_key), "Content-Type": "application/json", **headers},
    )


def profile(employer_id: str) -> dict[str, Any]:
    item = deps.get_table().get_item(Key={"PK": f"EMPLOYER#{employer_id}", "SK": "PROFILE"})["Item"]
    return dict(item)


def test_until_set_there_is_no_address_and_no_digest(client: Any, employer: tuple[str, str]) -> None:
    _, api_key = employer

    response = client.http.get(PATH, headers=bearer(api_key))

    assert response.status_code == 200
    assert response.json_body == {"email": None, "new_applications_digest": False, "updated_at": None}


def test_the_documented_example_is_accepted_stored_on_the_employer_and_read_back(
    client: Any, employer: tuple[str, str]
) -> None:
    employer_id, api_key = employer
    operation = get_document()["paths"][PATH]["put"]
    example = operation["requestBody"]["content"]["application/json"]["example"]

    response = put(client, api_key, example)

    assert response.status_code == 200
    assert response.json_body["email"] == example["email"] == "hiring@acme.example"
    assert response.json_body["new_applications_digest"] is True
    assert response.json_body["updated_at"].endswith("Z")
    stored = profile(employer_id)
    assert stored["notification_email"] == "hiring@acme.example"
    assert stored["new_applications_digest"] is True
    assert stored["name"] == "Acme Robotics"  # updated in place, not overwritten
    assert client.http.get(PATH, headers=bearer(api_key)).json_body == response.json_body
    documented = operation["responses"]["200"]["content"]["application/json"]["example"]
    assert set(documented) == set(response.json_body)


def test_clearing_the_address_turns_every_email_off(client: Any, employer: tuple[str, str]) -> None:
    employer_id, api_key = employer
    put(client, api_key, {"email": "hiring@acme.example", "new_applications_digest": True})

    response = put(client, api_key, {"email": None})

    assert response.status_code == 200
    assert response.json_body["email"] is None
    assert response.json_body["new_applications_digest"] is False
    assert "notification_email" not in profile(employer_id)
    assert deps.get_employers_repository().digest_recipients() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "x" * 250 + "@acme.example"}, "email"),
        ({"email": "hiring@acme.example", "new_applications_digest": "often"}, "new_applications_digest"),
    ],
)
def test_invalid_settings_are_a_400_naming_the_field_and_change_nothing(
    client: Any, employer: tuple[str, str], body: dict[str, Any], field: str
) -> None:
    employer_id, api_key = employer
    put(client, api_key, {"email": "hiring@acme.example"})
    before = profile(employer_id)

    response = put(client, api_key, body)

    assert response.status_code == 400
    assert field in response.json_body["error"]["fields"]
    assert profile(employer_id) == before


def test_an_empty_put_is_refused_and_changes_nothing(client: Any, employer: tuple[str, str]) -> None:
    employer_id, api_key = employer
    put(client, api_key, {"email": "hiring@acme.example", "new_applications_digest": True})
    before = profile(employer_id)

    response = client.http.put("/employer/notifications", body="", headers=bearer(api_key))

    assert response.status_code == 400
    assert "body" in response.json_body["error"]["fields"]
    assert profile(employer_id) == before


def test_a_digest_asked_for_without_an_address_is_accepted_and_stays_off(
    client: Any, employer: tuple[str, str]
) -> None:
    _, api_key = employer

    response = put(client, api_key, {"email": None, "new_applications_digest": True})

    assert response.status_code == 200  # valid as the document says; no address means no email at all
    assert response.json_body["new_applications_digest"] is False
    assert deps.get_employers_repository().digest_recipients() == []


def test_a_body_that_is_not_json_is_refused(client: Any, employer: tuple[str, str]) -> None:
    employer_id, api_key = employer
    response = put(client, api_key, "email=hiring@acme.example", **{"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert put(client, api_key, "{not json").status_code == 400
    assert "notification_email" not in profile(employer_id)


def test_without_a_valid_key_nothing_is_read_or_changed(client: Any, employer: tuple[str, str]) -> None:
    employer_id, _ = employer
    assert client.http.get(PATH, headers=bearer("jbk_" + "x" * 43)).status_code == 401
    response = put(client, "jbk_" + "x" * 43, {"email": "evil@example.com"})
    assert response.status_code == 401
    assert "notification_email" not in profile(employer_id)


def test_each_employer_sees_and_changes_only_their_own_settings(
    client: Any, employer: tuple[str, str]
) -> None:
    first_id, first_key = employer
    _, second_key = deps.get_employer_service().create("Globex")
    put(client, first_key, {"email": "hiring@acme.example", "new_applications_digest": True})

    put(client, second_key, {"email": "jobs@globex.example"})

    assert client.http.get(PATH, headers=bearer(first_key)).json_body["email"] == "hiring@acme.example"
    assert client.http.get(PATH, headers=bearer(second_key)).json_body["email"] == "jobs@globex.example"
    recipients = deps.get_employers_repository().digest_recipients()
    assert [(r.employer_id, r.name, r.email) for r in recipients] == [
        (first_id, "Acme Robotics", "hiring@acme.example")
    ]
