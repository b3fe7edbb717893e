"""GET /applications: every delivered application recorded for its employer, paged, refreshed, isolated."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import respx

from chalicelib import deps
from chalicelib.models.applications import ApplicationRecord
from chalicelib.settings import get_settings
from tests.api.apply_factories import (
    NOW,
    application_body,
    json_headers,
    make_client_token,
    make_posting,
    store_posting,
    store_stackone_key,
)
from tests.conftest import bearer

CREATED = {
    "statusCode": 201,
    "message": "ok",
    "timestamp": "2026-11-22T12:00:00.000Z",
    "data": {"id": "app-1"},
}


@pytest.fixture
def two_employers(client: Any) -> tuple[tuple[str, str], tuple[str, str]]:
    store_stackone_key()
    service = deps.get_employer_service()
    a, key_a = service.create("Employer A")
    b, key_b = service.create("Employer B")
    return (a.employer_id, key_a), (b.employer_id, key_b)


def make_record(employer_id: str, index: int, **overrides: Any) -> ApplicationRecord:
    fields: dict[str, Any] = {
        "record_id": f"rec-{index:02d}",
        "employer_id": employer_id,
        "job_id": overrides.pop("job_id", "job-x"),
        "account_id": "acct-1",
        "posting_id": "post-1",
        "job_title": "Engineer",
        "channel": "native",
        "outcome": "submitted",
        "candidate_name": f"Candidate {index}",
        "candidate_email": f"c{index}@example.com",
        "submitted_at": NOW + timedelta(minutes=index),
        "stackone_application_id": f"app-{index}",
        "expires_at": 4102444800,
    }
    fields.update(overrides)
    record = ApplicationRecord.model_validate(fields)
    deps.get_application_records().put(record)
    return record


def list_applications(client: Any, api_key: str, query: str = "") -> Any:
    return client.http.get(f"/applications{query}", headers=bearer(api_key))


def test_native_and_embloy_applications_are_recorded_for_the_employer(
    client: Any, two_employers: Any, stackone_api: respx.MockRouter
) -> None:
    (employer_id, api_key), _ = two_employers
    posting = store_posting(make_posting(employer_id=employer_id))
    stackone_api.post("/unified/ats/applications").respond(201, json=CREATED)
    client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(application_body()), headers=json_headers()
    )
    client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(application_body()), headers=json_headers()
    )
    client.http.put(
        "/employer/embloy-token",
        body=json.dumps({"client_token": make_client_token()}),
        headers={**bearer(api_key), "Content-Type": "application/json"},
    )
    with respx.mock(base_url="https://api.embloy.test") as embloy_api:
        embloy_api.post("/api/v0/sdk/request/auth/token").respond(200, json={"request_token": "rt"})
        assert (
            client.http.post(
                f"/jobs/{posting.job_id}/apply/embloy",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                body=b"",
            ).status_code
            == 303
        )

    response = list_applications(client, api_key)

    assert response.status_code == 200
    records = response.json_body["data"]
    # Newest first (records made within the same millisecond may tie, so compare as a set too).
    assert records == sorted(records, key=lambda r: r["submitted_at"], reverse=True)
    assert sorted((r["channel"], r["outcome"]) for r in records) == [
        ("embloy", "redirected"),
        ("native", "duplicate"),
        ("native", "submitted"),
    ]
    submitted = next(r for r in records if r["outcome"] == "submitted")
    assert submitted["candidate_name"] == "Ada Lovelace"
    assert submitted["candidate_email"] == "ada@example.com"
    assert submitted["stackone_application_id"] == "app-1"
    assert submitted["job_id"] == posting.job_id
    assert submitted["job_title"] == "Robot Whisperer"
    duplicate = next(r for r in records if r["outcome"] == "duplicate")
    assert duplicate["error_code"] == "duplicate_application"


def test_records_expire_after_the_retention_period(
    client: Any, two_employers: Any, stackone_api: respx.MockRouter
) -> None:
    (employer_id, _), _ = two_employers
    posting = store_posting(make_posting(employer_id=employer_id))
    stackone_api.post("/unified/ats/applications").respond(201, json=CREATED)
    client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(application_body()), headers=json_headers()
    )

    items = deps.get_table().query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={":pk": f"EMPLOYER#{employer_id}", ":p": "APPLICATION#"},
    )["Items"]

    (item,) = items
    assert isinstance(item["expires_at"], Decimal)
    record = ApplicationRecord.model_validate({**item, "expires_at": int(item["expires_at"])})
    retention = timedelta(days=get_settings().application_retention_days).total_seconds()
    assert int(item["expires_at"]) == int(record.submitted_at.timestamp() + retention)
    assert item["GSI1PK"] == f"JOBAPPS#{posting.job_id}"


def test_pages_are_newest_first_and_chain_to_the_end(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    for index in range(5):
        make_record(employer_id, index)

    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        body = list_applications(client, api_key, f"?limit=2{cursor}").json_body
        seen.extend(r["id"] for r in body["data"])
        if not body["next_cursor"]:
            break
        cursor = f"&cursor={body['next_cursor']}"

    assert seen == ["rec-04", "rec-03", "rec-02", "rec-01", "rec-00"]


def test_filter_by_job(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), _ = two_employers
    make_record(employer_id, 1, job_id="job-a")
    make_record(employer_id, 2, job_id="job-b")
    make_record(employer_id, 3, job_id="job-a")

    body = list_applications(client, api_key, "?job_id=job-a&limit=1").json_body
    page_two = list_applications(
        client, api_key, f"?job_id=job-a&limit=1&cursor={body['next_cursor']}"
    ).json_body

    assert [r["id"] for r in body["data"] + page_two["data"]] == ["rec-03", "rec-01"]


def test_tampered_or_foreign_cursors_are_refused(client: Any, two_employers: Any) -> None:
    (employer_a, key_a), (_, key_b) = two_employers
    for index in range(3):
        make_record(employer_a, index)
    cursor = list_applications(client, key_a, "?limit=1").json_body["next_cursor"]
    payload, mac = cursor.split(".")
    forged_position = json.dumps({"PK": f"EMPLOYER#{employer_a}", "SK": "APPLICATION#9999"})
    forged = base64.urlsafe_b64encode(forged_position.encode()).decode().rstrip("=") + "." + mac
    tampered_mac = ("y" if mac[0] == "x" else "x") + mac[1:]  # always differs from the real signature

    for key, bad in (
        (key_a, forged),
        (key_a, f"{payload}.{tampered_mac}"),
        (key_a, "garbage"),
        (key_b, cursor),
    ):
        response = list_applications(client, key, f"?cursor={bad}")
        assert response.status_code == 400
        assert response.json_body["error"]["code"] == "invalid_cursor"
    assert list_applications(client, key_a, f"?cursor={cursor}&job_id=job-x").status_code == 400


def test_another_employers_applications_are_never_visible(client: Any, two_employers: Any) -> None:
    (employer_a, key_a), (employer_b, key_b) = two_employers
    make_record(employer_a, 1, job_id="job-a")
    make_record(employer_b, 2, job_id="job-b")

    assert [r["id"] for r in list_applications(client, key_a).json_body["data"]] == ["rec-01"]
    assert [r["id"] for r in list_applications(client, key_b).json_body["data"]] == ["rec-02"]
    assert list_applications(client, key_b, "?job_id=job-a").json_body["data"] == []
    assert list_applications(client, "jbk_" + "x" * 43).status_code == 401


def test_refresh_reads_status_from_stackone_and_keeps_it_when_stackone_fails(
    client: Any, two_employers: Any, stackone_api: respx.MockRouter
) -> None:
    (employer_id, api_key), _ = two_employers
    make_record(employer_id, 1)
    make_record(employer_id, 2, channel="embloy", outcome="redirected", stackone_application_id=None)
    route = stackone_api.get("/unified/ats/applications/app-1")
    route.side_effect = [
        respx.MockResponse(
            200,
            json={
                "data": {
                    "id": "app-1",
                    "application_status": {"value": "interview"},
                    "application_stage": {"name": "Onsite"},
                }
            },
        ),
        respx.MockResponse(502, json={"statusCode": 502}),
    ]

    fresh = list_applications(client, api_key, "?refresh=true").json_body["data"]
    after_failure = list_applications(client, api_key, "?refresh=true").json_body["data"]
    plain = list_applications(client, api_key).json_body["data"]

    native = next(r for r in fresh if r["id"] == "rec-01")
    assert native["status"]["application_status"] == "interview"
    assert native["status"]["stage"] == "Onsite"
    assert native["status"]["rejected"] is False and native["status"]["hired"] is False
    assert native["status"]["stale"] is False
    kept = next(r for r in after_failure if r["id"] == "rec-01")
    assert kept["status"]["application_status"] == "interview"
    assert kept["status"]["stale"] is True
    assert next(r for r in plain if r["id"] == "rec-01")["status"]["application_status"] == "interview"
    assert route.call_count == 2  # the Embloy record is never looked up in StackOne
    assert route.calls.last.request.headers["x-account-id"] == "acct-1"


def test_rejected_and_hired_are_derived_from_the_status(
    client: Any, two_employers: Any, stackone_api: respx.MockRouter
) -> None:
    (employer_id, api_key), _ = two_employers
    make_record(employer_id, 1)
    make_record(employer_id, 2)
    stackone_api.get("/unified/ats/applications/app-1").respond(
        200,
        json={"data": {"application_status": {"value": "rejected"}, "rejected_at": "2026-11-23T00:00:00Z"}},
    )
    stackone_api.get("/unified/ats/applications/app-2").respond(
        200, json={"data": {"application_status": {"value": "hired"}}}
    )

    data = {
        r["id"]: r["status"] for r in list_applications(client, api_key, "?refresh=true").json_body["data"]
    }

    assert data["rec-01"]["rejected"] is True and data["rec-01"]["hired"] is False
    assert data["rec-02"]["hired"] is True and data["rec-02"]["rejected"] is False


def test_counts_per_account_and_per_job(client: Any, two_employers: Any) -> None:
    (employer_id, api_key), (other_id, _) = two_employers
    job_a = store_posting(make_posting(employer_id=employer_id, account_id="acct-1")).job_id
    make_record(employer_id, 1, job_id=job_a, account_id="acct-1")
    make_record(employer_id, 2, job_id=job_a, account_id="acct-1", outcome="pending_confirmation")
    make_record(employer_id, 3, job_id="job-b", account_id="acct-2", outcome="failed", error_code="x")
    make_record(employer_id, 4, job_id="job-b", account_id="acct-2", channel="embloy", outcome="redirected")
    make_record(other_id, 5, job_id=job_a, account_id="acct-1")

    totals = client.http.get("/applications/counts", headers=bearer(api_key)).json_body
    counts = client.http.get(f"/jobs/{job_a}/applications/count", headers=bearer(api_key)).json_body

    assert totals["received"] == 2
    assert totals["failed"] == 1
    assert totals["redirected_to_embloy"] == 1
    assert totals["accounts"]["acct-1"]["received"] == 2
    assert totals["accounts"]["acct-2"] == {
        "received": 0,
        "submitted": 0,
        "pending_confirmation": 0,
        "redirected_to_embloy": 1,
        "failed": 1,
        "duplicate": 0,
    }
    assert counts["job_id"] == job_a
    assert counts["received"] == 2 and counts["submitted"] == 1


def test_count_of_an_unknown_or_foreign_job_is_404(client: Any, two_employers: Any) -> None:
    (employer_a, key_a), (_, key_b) = two_employers
    job_a = store_posting(make_posting(employer_id=employer_a, account_id="acct-1")).job_id
    make_record(employer_a, 1, job_id=job_a, account_id="acct-1")
    unknown = make_posting(account_id="acct-1", posting_id="never-synced").job_id

    for key, job_id in ((key_b, job_a), (key_a, unknown), (key_a, "job-a"), (key_a, "%2E%2E")):
        response = client.http.get(f"/jobs/{job_id}/applications/count", headers=bearer(key))
        assert response.status_code == 404, (job_id, response.body)
        assert response.json_body["error"]["code"] == "job_not_found"


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=x", "?refresh=maybe", "?bogus=1"])
def test_bad_query_parameters_are_400(client: Any, two_employers: Any, query: str) -> None:
    (_, api_key), _ = two_employers
    assert list_applications(client, api_key, query).status_code == 400


def test_candidate_data_never_reaches_the_logs(
    client: Any,
    two_employers: Any,
    stackone_api: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    for name in ("job-board", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    (employer_id, api_key), _ = two_employers
    posting = store_posting(make_posting(employer_id=employer_id))
    stackone_api.post("/unified/ats/applications").respond(502, json={"statusCode": 502})
    stackone_api.get("/unified/ats/applications/app-1").respond(500)
    make_record(employer_id, 1, candidate_email="private.person@example.com")

    client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(application_body()), headers=json_headers()
    )
    list_applications(client, api_key, "?refresh=true")

    captured = capsys.readouterr()
    output = caplog.text + captured.out + captured.err
    assert "upstream failure" in output
    for personal in ("ada@example.com", "Lovelace", "private.person@example.com"):
        assert personal not in output
