"""StackOne answers the spec allows (or that are simply wrong) never become the caller's 400.

A body our models cannot read is 502 `stackone_bad_response`; a 201 without an id is a success with the
id unknown; a 404 on apply takes the posting off the board at once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from chalicelib import deps
from sandbox.demo_employers import DEMO_EMPLOYERS
from sandbox.stackone import start_stackone_sandbox
from sandbox.stackone.seed import is_on_board
from sandbox.stackone.state import Quirks
from tests.api.apply_factories import (
    application_body,
    json_headers,
    make_posting,
    store_posting,
    store_stackone_key,
)
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import (
    STACKONE_API_KEY as SANDBOX_KEY,
)
from tests.api.employers_fixtures import (
    EmployerApi,
    at,
    connect_session_body,
    linked_account,
    reload_settings,
)
from tests.api.test_applications import list_applications, make_record

APPLICATIONS = "/unified/ats/applications"


def submit(client: Any, job_id: str) -> Any:
    return client.http.post(
        f"/jobs/{job_id}/applications", body=json.dumps(application_body()), headers=json_headers()
    )


def test_a_201_with_a_null_id_is_a_success_with_the_id_unknown(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    stackone_api.post(APPLICATIONS).respond(
        201, json={"statusCode": 201, "message": "Record created successfully.", "data": {"id": None}}
    )

    response = submit(apply_client, posting.job_id)

    assert response.status_code == 201, response.body
    assert response.json_body == {"application_id": None}
    records, _ = deps.get_application_records().list_for_employer(
        posting.employer_id, job_id=None, limit=10, start_key=None
    )
    (record,) = records
    assert record.outcome == "submitted" and record.error_code == "stackone_id_unknown"


def test_a_201_whose_body_is_not_json_is_still_a_success(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    stackone_api.post(APPLICATIONS).respond(201, text="Created")

    response = submit(apply_client, posting.job_id)

    assert response.status_code == 201
    assert response.json_body == {"application_id": None}


def test_a_404_on_apply_closes_the_posting_at_once(apply_client: Any, stackone_api: respx.MockRouter) -> None:
    posting = store_posting(make_posting())
    stackone_api.post(APPLICATIONS).respond(
        404, json={"statusCode": 404, "message": "Job posting not found."}
    )

    response = submit(apply_client, posting.job_id)
    again = submit(apply_client, posting.job_id)

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "job_not_found"
    stored = deps.get_apply_postings().get_posting(posting.account_id, posting.posting_id)
    assert stored is not None and stored.status == "closed" and stored.closed_at is not None
    assert again.status_code == 404 and len(stackone_api.calls) == 1  # the next candidate stops here


def test_a_connect_session_id_with_a_fraction_is_accepted(employer_api: EmployerApi) -> None:
    employer_api.stackone.post("/connect_sessions").respond(
        201, json={**connect_session_body(employer_api.employer_id), "id": 4711.5}
    )

    response = employer_api.client.http.post("/connect-sessions", headers=employer_api.headers(), body="{}")

    assert response.status_code == 201, response.body


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"id": 1, "auth_link_url": "https://hub.stackone.test/x"}},  # no token
        {"text": "<html>gateway</html>"},
        {"json": ["not", "an", "object"]},
    ],
)
def test_a_connect_session_stackone_answers_unreadably_is_502(
    employer_api: EmployerApi, answer: dict[str, Any]
) -> None:
    employer_api.stackone.post("/connect_sessions").respond(201, **answer)

    response = employer_api.client.http.post("/connect-sessions", headers=employer_api.headers(), body="{}")

    assert response.status_code == 502
    error = response.json_body["error"]
    assert error["code"] == "stackone_bad_response"
    assert "token" not in error["message"] and "fields" not in error  # no internal field names


@pytest.mark.parametrize(
    "listing",
    [
        {"data": "nope"},
        {"accounts": [{"id": "acc-1"}]},  # an object without `data`: not "no accounts"
        {},
        {"data": None},
        [{"account": "acc-1", "owner": "someone"}],  # accounts listed, not one readable
        "accounts",
    ],
    ids=["data-not-a-list", "other-key", "empty-object", "null-data", "unreadable-items", "a-string"],
)
def test_accounts_listed_in_an_unknown_shape_are_502(employer_api: EmployerApi, listing: Any) -> None:
    employer_api.stackone.get("/accounts").respond(200, json=listing)

    response = employer_api.client.http.get("/accounts", headers=employer_api.headers())

    assert response.status_code == 502, response.body
    assert response.json_body["error"]["code"] == "stackone_bad_response"


def test_an_odd_account_beside_readable_ones_is_left_out(employer_api: EmployerApi) -> None:
    owner = employer_api.employer_id
    employer_api.stackone.get("/accounts").respond(
        200, json=[linked_account("acc-1", owner), {"id": "acc-2", "origin_owner_id": owner}]
    )

    response = employer_api.client.http.get("/accounts", headers=employer_api.headers())

    assert response.status_code == 200
    assert [a["account_id"] for a in response.json_body["data"]] == ["acc-1"]


def test_account_ids_that_arrive_as_numbers_are_strings(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts").respond(
        200, json=[{**linked_account("ignored", employer_api.employer_id), "id": 90817}]
    )

    response = employer_api.client.http.get("/accounts", headers=employer_api.headers())

    assert response.status_code == 200, response.body
    assert [a["account_id"] for a in response.json_body["data"]] == ["90817"]


def test_an_application_whose_id_was_unknown_is_reconciled_on_refresh(
    client: Any, stackone_api: respx.MockRouter
) -> None:
    store_stackone_key()
    employer, api_key = deps.get_employer_service().create("Employer A")
    unknown = {"stackone_application_id": None, "error_code": "stackone_id_unknown"}
    make_record(employer.employer_id, 1, candidate_email="Ada@Example.com", **unknown)
    listing = stackone_api.get("/unified/ats/applications").respond(
        200,
        json={
            "data": [
                {"id": "app-other", "candidate": {"email": "someone@example.com"}},
                {
                    "id": "app-ada",
                    "candidate": {"email": "ada@example.com"},
                    "application_status": {"value": "new"},
                },
            ],
            "next": None,
        },
    )
    stackone_api.get("/unified/ats/applications/app-ada").respond(
        200, json={"data": {"id": "app-ada", "application_status": {"value": "interview"}}}
    )

    first = list_applications(client, api_key, "?refresh=true").json_body["data"][0]
    second = list_applications(client, api_key, "?refresh=true").json_body["data"][0]

    assert first["stackone_application_id"] == "app-ada"
    assert first["status"]["application_status"] == "new" and first["status"]["stale"] is False
    # created since its submission (12:01), less five minutes of clock skew
    assert listing.calls.last.request.url.params["filter[created_after]"] == "2026-11-22T11:56:00.000Z"
    assert second["status"]["application_status"] == "interview"  # read back by id from then on
    assert listing.call_count == 1


CONFLICT = {"statusCode": 409, "message": "Conflict", "timestamp": "2026-11-22T12:00:00.000Z"}


def stored_records(employer_id: str) -> list[Any]:
    records, _ = deps.get_application_records().list_for_employer(
        employer_id, job_id=None, limit=10, start_key=None
    )
    return records


def test_a_409_on_apply_tells_the_candidate_they_already_applied(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    route = stackone_api.post(APPLICATIONS).respond(409, json=CONFLICT)

    response = submit(apply_client, posting.job_id)
    again = submit(apply_client, posting.job_id)

    assert response.status_code == 409, response.body
    error = response.json_body["error"]
    assert error["code"] == "already_applied"
    assert error["message"].startswith("You have already applied to this job")
    (record,) = [r for r in stored_records(posting.employer_id) if r.error_code == "already_applied"]
    assert record.outcome == "duplicate" and record.channel == "native"
    assert record.candidate_email == "ada@example.com"
    # The ATS's answer is final: a resubmission is refused here, without asking StackOne again.
    assert again.status_code == 409
    assert route.call_count == 1


def test_a_409_on_apply_is_replayed_under_the_same_idempotency_key(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    route = stackone_api.post(APPLICATIONS).respond(409, json=CONFLICT)
    headers = {**json_headers(), "Idempotency-Key": "form-1"}
    body = json.dumps(application_body())

    first = apply_client.http.post(f"/jobs/{posting.job_id}/applications", body=body, headers=headers)
    retry = apply_client.http.post(f"/jobs/{posting.job_id}/applications", body=body, headers=headers)

    assert first.status_code == retry.status_code == 409
    assert first.json_body == retry.json_body
    assert retry.json_body["error"]["code"] == "already_applied"
    assert route.call_count == 1  # the stored answer, not a second create
    assert len(stored_records(posting.employer_id)) == 1


def test_a_numeric_application_id_is_stored_as_text_and_read_back_by_id(
    client: Any, stackone_api: respx.MockRouter
) -> None:
    store_stackone_key()
    employer, api_key = deps.get_employer_service().create("Employer A")
    unknown = {"stackone_application_id": None, "error_code": "stackone_id_unknown"}
    make_record(employer.employer_id, 1, candidate_email="ada@example.com", **unknown)
    listing = stackone_api.get("/unified/ats/applications").respond(
        200,
        json={
            "data": [
                {
                    "id": 48213,
                    "candidate": {"email": "ada@example.com"},
                    "application_status": {"value": "new"},
                }
            ],
            "next": None,
        },
    )
    by_id = stackone_api.get("/unified/ats/applications/48213").respond(
        200, json={"data": {"id": 48213, "application_status": {"value": "interview"}}}
    )

    first = list_applications(client, api_key, "?refresh=true").json_body["data"][0]
    second = list_applications(client, api_key, "?refresh=true").json_body["data"][0]

    assert first["stackone_application_id"] == "48213"
    assert second["stackone_application_id"] == "48213"
    assert second["status"]["application_status"] == "interview"
    assert listing.call_count == 1 and by_id.call_count == 1  # reconciled once, then read by id


def test_a_numeric_id_in_a_create_answer_is_stored_as_text(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    stackone_api.post(APPLICATIONS).respond(
        201, json={"statusCode": 201, "message": "Record created successfully.", "data": {"id": 5120}}
    )

    response = submit(apply_client, posting.job_id)

    assert response.status_code == 201
    assert response.json_body == {"application_id": "5120"}
    (record,) = stored_records(posting.employer_id)
    assert record.stackone_application_id == "5120" and record.error_code is None


def test_a_connect_session_expires_by_our_clock_not_stackones(employer_api: EmployerApi) -> None:
    # StackOne's created_at is an hour old (its clock lags, or the value is stale): counting from it
    # would hand the employer a session that has already expired.
    stale = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    employer_api.stackone.post("/connect_sessions").respond(
        201, json={**connect_session_body(employer_api.employer_id), "created_at": stale}
    )
    before = datetime.now(UTC)

    response = employer_api.client.http.post("/connect-sessions", headers=employer_api.headers(), body="{}")

    assert response.status_code == 201, response.body
    expires_at = at(response.json_body["expires_at"])
    lifetime = timedelta(seconds=1800)
    assert before + lifetime - timedelta(seconds=1) <= expires_at <= datetime.now(UTC) + lifetime


def test_a_candidate_the_ats_already_has_is_told_so_through_the_sandbox(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_stackone_sandbox(port=0, api_key=SANDBOX_KEY) as sandbox:
        monkeypatch.setenv("STACKONE_BASE_URL", sandbox.base_url)
        reload_settings()
        store_stackone_key(SANDBOX_KEY)
        sandbox.state.quirks = Quirks(duplicate_applications_conflict=True)
        account_id = DEMO_EMPLOYERS[1].account_id
        raw = next(
            p
            for p in sandbox.state.postings[account_id].values()
            if is_on_board(p) and not p["questionnaires"]
        )
        posting = store_posting(
            make_posting(account_id=account_id, posting_id=raw["id"], stackone_job_id=raw["job_id"])
        )
        # The candidate applied on the employer's own careers site first.
        httpx.post(
            f"{sandbox.base_url}/unified/ats/applications",
            auth=(SANDBOX_KEY, ""),
            headers={"x-account-id": account_id},
            json={"job_posting_id": raw["id"], "candidate": application_body()["candidate"]},
        ).raise_for_status()

        response = submit(client, posting.job_id)

        assert response.status_code == 409, response.body
        assert response.json_body["error"]["code"] == "already_applied"
        assert len(sandbox.state.applications) == 1
