"""The console's view of a broken ATS link: the grace deadline, "sync now" refused until the employer
reconnects, and a sync queued at once for a just-linked (or just-reconnected) account."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import deps
from chalicelib.clock import isoformat
from chalicelib.models.sync_state import AccountSyncState
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import EmployerApi, linked_account

FAILED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEADLINE = FAILED_AT + timedelta(hours=72)


def broken_state(attention_reason: str = "reconnect") -> AccountSyncState:
    return AccountSyncState(
        account_id="acc_1",
        last_outcome="needs_attention",
        last_finished_at=FAILED_AT,
        needs_attention=True,
        attention_reason=attention_reason,
        attention_since=FAILED_AT,
        grace_until=DEADLINE,
        live_postings=9,
    )


def account_at(api: EmployerApi, status: str = "active", **fields: Any) -> dict[str, Any]:
    account = {**linked_account("acc_1", api.employer_id, status=status), **fields}
    api.stackone.get("/accounts/acc_1").respond(200, json=account)
    api.stackone.get("/accounts").respond(200, json=[account])
    return account


def sync_now(api: EmployerApi) -> Any:
    return api.client.http.post("/accounts/acc_1/sync", headers=api.headers(), body="")


def accounts(api: EmployerApi) -> list[dict[str, Any]]:
    response = api.client.http.get("/accounts", headers=api.headers())
    assert response.status_code == 200
    data: list[dict[str, Any]] = response.json_body["data"]
    return data


def test_sync_now_on_an_expired_account_is_409_reconnect_required(employer_api: EmployerApi) -> None:
    account_at(employer_api, status="expired")
    deps.get_sync_state_repository().put(broken_state(attention_reason="account_inactive"))

    response = sync_now(employer_api)

    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "reconnect_required"
    assert "reconnect" in response.json_body["error"]["message"]
    assert employer_api.queued_messages() == []


def test_sync_now_after_a_refused_sync_is_409_until_the_account_is_relinked(
    employer_api: EmployerApi,
) -> None:
    # GIVEN StackOne lists the account as active, but the last sync got 401 and nothing changed since
    account_at(employer_api, updated_at=isoformat(FAILED_AT - timedelta(days=3)))
    deps.get_sync_state_repository().put(broken_state())
    assert sync_now(employer_api).status_code == 409
    # WHEN the employer re-links it through the Hub (StackOne updates the account)
    account_at(employer_api, updated_at=isoformat(FAILED_AT + timedelta(hours=2)))
    # THEN "sync now" works again: it is how the board learns the link is fixed
    response = sync_now(employer_api)
    assert response.status_code == 202
    assert [json.loads(body)["account_id"] for body in employer_api.queued_messages()] == ["acc_1"]


def test_accounts_show_the_grace_deadline(employer_api: EmployerApi) -> None:
    account_at(employer_api, status="expired")
    deps.get_sync_state_repository().put(broken_state(attention_reason="account_inactive"))

    [account] = accounts(employer_api)

    assert account["needs_attention"] is True
    assert account["attention"]["action"] == "reconnect"
    assert account["attention"]["since"] == "2026-11-20T09:00:00Z"
    assert account["attention"]["postings_close_at"] == "2026-11-23T09:00:00Z"
    assert account["sync"]["live_postings"] == 9


def test_an_attention_reason_code_reads_as_words(employer_api: EmployerApi) -> None:
    account_at(employer_api, updated_at=isoformat(FAILED_AT - timedelta(days=3)))
    deps.get_sync_state_repository().put(broken_state(attention_reason="permissions"))

    [account] = accounts(employer_api)

    assert account["attention"]["reason"].startswith(
        "The ATS no longer lets the board read your job postings"
    )


def test_listing_a_just_linked_account_queues_its_first_sync_once(employer_api: EmployerApi) -> None:
    # GIVEN an account linked moments ago (StackOne's clock) that the board never synced
    account_at(employer_api, created_at=isoformat(datetime.now(UTC) - timedelta(minutes=2)))

    # WHEN the console lists the accounts twice
    accounts(employer_api)
    accounts(employer_api)

    # THEN one full sync is queued at once
    messages = [json.loads(body) for body in employer_api.queued_messages()]
    assert [(m["account_id"], m["mode"], m["reason"]) for m in messages] == [("acc_1", "full", "employer")]


def test_listing_an_old_never_synced_account_leaves_it_to_the_schedule(employer_api: EmployerApi) -> None:
    account_at(employer_api)  # created months ago

    accounts(employer_api)

    assert employer_api.queued_messages() == []


def test_listing_a_reconnected_account_queues_a_sync(employer_api: EmployerApi) -> None:
    account_at(employer_api, updated_at=isoformat(FAILED_AT + timedelta(hours=1)))
    deps.get_sync_state_repository().put(broken_state())

    accounts(employer_api)

    assert [json.loads(body)["account_id"] for body in employer_api.queued_messages()] == ["acc_1"]


def test_a_relinked_account_whose_next_sync_failed_again_still_needs_reconnecting(
    employer_api: EmployerApi,
) -> None:
    # GIVEN the account was re-linked after the first failure, but the sync after that failed too
    account_at(employer_api, updated_at=isoformat(FAILED_AT + timedelta(hours=1)))
    state = broken_state()
    state.last_finished_at = FAILED_AT + timedelta(hours=2)
    deps.get_sync_state_repository().put(state)

    # THEN neither listing nor "sync now" queues another sync that the ATS would refuse
    accounts(employer_api)
    assert sync_now(employer_api).status_code == 409
    assert employer_api.queued_messages() == []
