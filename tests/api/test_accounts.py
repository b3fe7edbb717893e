"""GET /accounts (linked accounts with sync health) and POST /accounts/{account_id}/sync."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest

from chalicelib import deps
from chalicelib.aws.sync_now_limiter import DynamoDBSyncNowLimiter
from chalicelib.models.sync_state import AccountSyncState
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import EmployerApi, linked_account, reload_settings


def list_accounts(api: EmployerApi) -> Any:
    return api.client.http.get("/accounts", headers=api.headers())


def request_sync(api: EmployerApi, account_id: str, body: str = "", query: str = "") -> Any:
    return api.client.http.post(f"/accounts/{account_id}/sync{query}", headers=api.headers(), body=body)


def own_account(api: EmployerApi, account_id: str = "acc_1", **kwargs: Any) -> dict[str, Any]:
    account = linked_account(account_id, api.employer_id, **kwargs)
    api.stackone.get(f"/accounts/{account_id}").respond(200, json=account)
    return account


def test_lists_own_accounts_across_pages_merged_with_sync_state(employer_api: EmployerApi) -> None:
    page_one = [linked_account(f"acc_{n:03d}", employer_api.employer_id) for n in range(100)]
    page_two = [linked_account("acc_last", employer_api.employer_id, provider="ashby")]
    route = employer_api.stackone.get("/accounts")
    route.side_effect = [
        httpx.Response(200, json=page_one),
        httpx.Response(200, json={"data": page_two}),
    ]
    deps.get_sync_state_repository().put(
        AccountSyncState(
            account_id="acc_last",
            employer_id=employer_api.employer_id,
            provider="ashby",
            last_started_at=datetime(2026, 11, 22, 11, 0, tzinfo=UTC),
            last_finished_at=datetime(2026, 11, 22, 11, 1, tzinfo=UTC),
            last_outcome="succeeded",
            live_postings=12,
        )
    )

    response = list_accounts(employer_api)

    assert response.status_code == 200
    data = response.json_body["data"]
    assert [a["account_id"] for a in data] == [a["id"] for a in page_one + page_two]
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2"]
    assert all(call.request.url.params["origin_owner_id"] == employer_api.employer_id for call in route.calls)
    last = data[-1]
    assert last["provider"] == "ashby"
    assert last["status"] == "active"
    assert last["needs_attention"] is False and last["attention"] is None
    assert last["sync"] == {
        "last_run_started_at": "2026-11-22T11:00:00Z",
        "last_run_finished_at": "2026-11-22T11:01:00Z",
        "last_outcome": "succeeded",
        "live_postings": 12,
        "last_error": None,
        "consecutive_failures": 0,
        "skipped": 0,
        "skipped_postings": [],
        "paging_issue": None,
        "unplaced_locations": 0,
        "unplaced_location_names": [],
    }
    assert data[0]["sync"]["last_outcome"] is None  # never synced yet


def test_accounts_of_other_owners_are_never_listed(employer_api: EmployerApi) -> None:
    # Even if StackOne's owner filter misbehaved, another employer's account must not leak.
    employer_api.stackone.get("/accounts").respond(
        200,
        json=[
            linked_account("acc_mine", employer_api.employer_id),
            linked_account("acc_theirs", "emp_someone_else", owner_name="Globex"),
        ],
    )

    response = list_accounts(employer_api)

    assert [a["account_id"] for a in response.json_body["data"]] == ["acc_mine"]


@pytest.mark.parametrize(
    ("status", "reasons", "state_attention", "action", "reason_fragment"),
    [
        ("expired", None, False, "reconnect", "credentials have expired"),
        (
            "error",
            [{"code": "E1", "description": "Token revoked by admin"}],
            False,
            "reconnect",
            "Token revoked",
        ),
        ("inactive", None, False, "reconnect", "inactive"),
        ("suspended", None, False, "contact_operator", "suspended"),
        ("active", None, True, "reconnect", "Greenhouse answered 401"),
    ],
)
def test_accounts_needing_attention_say_why_and_what_to_do(
    employer_api: EmployerApi,
    status: str,
    reasons: list[dict[str, Any]] | None,
    state_attention: bool,
    action: str,
    reason_fragment: str,
) -> None:
    employer_api.stackone.get("/accounts").respond(
        200, json=[linked_account("acc_1", employer_api.employer_id, status=status, status_reasons=reasons)]
    )
    deps.get_sync_state_repository().put(
        AccountSyncState(
            account_id="acc_1",
            last_outcome="needs_attention" if state_attention else "succeeded",
            needs_attention=state_attention,
            attention_reason="Greenhouse answered 401." if state_attention else None,
            last_error="stackone_unauthorized: StackOne answered 401." if state_attention else None,
        )
    )

    account = list_accounts(employer_api).json_body["data"][0]

    assert account["needs_attention"] is True
    assert account["attention"]["action"] == action
    assert reason_fragment in account["attention"]["reason"]
    if reasons:
        assert account["status_reasons"][0]["description"] == "Token revoked by admin"


def test_no_linked_accounts_is_an_empty_list(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts").respond(200, json=[])

    response = list_accounts(employer_api)

    assert response.status_code == 200
    assert response.json_body == {"data": []}


def test_stackone_outage_while_listing_is_503(employer_api: EmployerApi) -> None:
    employer_api.stackone.get("/accounts").respond(503)

    response = list_accounts(employer_api)

    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "stackone_unavailable"


def test_sync_now_queues_one_employer_sync(employer_api: EmployerApi) -> None:
    own_account(employer_api)

    response = request_sync(employer_api, "acc_1")

    assert response.status_code == 202
    assert response.json_body["status"] == "queued"
    assert response.json_body["mode"] == "auto"
    messages = [json.loads(body) for body in employer_api.queued_messages()]
    assert messages == [
        {"account_id": "acc_1", "run_id": response.json_body["run_id"], "mode": "auto", "reason": "employer"}
    ]


@pytest.mark.parametrize(("body", "query"), [('{"mode": "full"}', ""), ("", "?mode=full")])
def test_sync_now_can_ask_for_a_full_sweep(employer_api: EmployerApi, body: str, query: str) -> None:
    own_account(employer_api)

    response = request_sync(employer_api, "acc_1", body=body, query=query)

    assert response.status_code == 202
    assert json.loads(employer_api.queued_messages()[0])["mode"] == "full"


def test_sync_now_rejects_unknown_modes(employer_api: EmployerApi) -> None:
    own_account(employer_api)

    response = request_sync(employer_api, "acc_1", body='{"mode": "delete_everything"}')

    assert response.status_code == 400
    assert "mode" in response.json_body["error"]["fields"]
    assert employer_api.queued_messages() == []


@pytest.mark.parametrize(
    ("body", "query"),
    [('{"mode": "full"}', "?mode=AAA"), ("{}", "?mode=AAA"), ('{"mode": "full"}', "?mode=delta")],
)
def test_sync_now_refuses_a_bad_or_contradicting_query_mode_whatever_the_body(
    employer_api: EmployerApi, body: str, query: str
) -> None:
    own_account(employer_api, "acc_1")

    response = request_sync(employer_api, "acc_1", body=body, query=query)

    assert response.status_code == 400
    assert "mode" in response.json_body["error"]["fields"]
    assert employer_api.queued_messages() == []


@pytest.mark.parametrize(
    ("body", "query", "mode"), [("{}", "?mode=full", "full"), ('{"mode": "auto"}', "?mode=full", "auto")]
)
def test_sync_now_takes_the_query_mode_unless_the_body_names_one(
    employer_api: EmployerApi, body: str, query: str, mode: str
) -> None:
    own_account(employer_api, "acc_1")

    response = request_sync(employer_api, "acc_1", body=body, query=query)

    assert response.status_code == 202
    assert json.loads(employer_api.queued_messages()[0])["mode"] == mode


def test_sync_now_is_rate_limited_per_account(employer_api: EmployerApi) -> None:
    own_account(employer_api, "acc_1")
    own_account(employer_api, "acc_2")
    assert request_sync(employer_api, "acc_1").status_code == 202

    again = request_sync(employer_api, "acc_1")
    other = request_sync(employer_api, "acc_2")

    assert again.status_code == 429
    assert again.json_body["error"]["code"] == "sync_recently_requested"
    assert 1 <= int(again.headers["Retry-After"]) <= 60
    assert other.status_code == 202  # the limit is per account
    assert len(employer_api.queued_messages()) == 2


def test_sync_now_limit_frees_after_the_interval(aws: None) -> None:
    now = [datetime(2026, 11, 22, 12, 0, tzinfo=UTC)]
    limiter = DynamoDBSyncNowLimiter(deps.get_table(), now=lambda: now[0])

    assert limiter.try_acquire("acc_1", 60) is None
    now[0] += timedelta(seconds=45)
    assert limiter.try_acquire("acc_1", 60) == 15
    now[0] += timedelta(seconds=15)
    assert limiter.try_acquire("acc_1", 60) is None
    item = deps.get_table().get_item(Key={"PK": "ACCOUNT#acc_1", "SK": "SYNCNOW"})["Item"]
    assert isinstance(item["expires_at"], Decimal)
    assert int(item["expires_at"]) == int(now[0].timestamp()) + 60  # TTL attribute, epoch seconds


def test_sync_now_slot_is_released_when_the_queue_fails(employer_api: EmployerApi) -> None:
    own_account(employer_api)
    boto3.client("sqs").delete_queue(QueueUrl=employer_api.queue_url)

    response = request_sync(employer_api, "acc_1")

    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "queue_unavailable"
    item = deps.get_table().get_item(Key={"PK": "ACCOUNT#acc_1", "SK": "SYNCNOW"}).get("Item")
    assert item is None  # the employer may retry at once


def test_sync_now_interval_is_configurable(
    employer_api: EmployerApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNC_NOW_MIN_INTERVAL_SECONDS", "300")
    reload_settings()
    own_account(employer_api)
    request_sync(employer_api, "acc_1")

    again = request_sync(employer_api, "acc_1")

    assert again.status_code == 429
    assert 60 < int(again.headers["Retry-After"]) <= 300
