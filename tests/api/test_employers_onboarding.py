"""The documented onboarding flow end to end, against the local StackOne sandbox over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chalicelib import deps
from sandbox.stackone import StackOneSandboxHandle, start_stackone_sandbox
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import STACKONE_API_KEY, reload_settings
from tests.conftest import bearer


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[StackOneSandboxHandle]:
    with start_stackone_sandbox(port=0, api_key=STACKONE_API_KEY) as handle:
        monkeypatch.setenv("STACKONE_BASE_URL", handle.base_url)
        yield handle


def test_operator_to_linked_account_to_queued_sync(
    client: Any, stackone_key: str, sync_queue: str, sandbox: StackOneSandboxHandle
) -> None:
    reload_settings()  # pick up the sandbox's URL
    # 1. The operator creates the employer (CLI: employers create --name ...).
    _, api_key = deps.get_employer_service().create("Hooli Search", employer_id="emp_hooli")
    headers = {**bearer(api_key), "Content-Type": "application/json"}

    # 2. The employer's backend mints a connect session.
    minted = client.http.post("/connect-sessions", headers=headers, body=json.dumps({"provider": "lever"}))
    assert minted.status_code == 201, minted.body
    token = minted.json_body["token"]
    assert minted.json_body["auth_link_url"].endswith(token)

    # 3. The person links the ATS in the Hub (the sandbox's hosted link page).
    linked = httpx.post(f"{sandbox.base_url}/hub/link", data={"token": token})
    assert linked.status_code == 200

    # 4. The account appears in GET /accounts, healthy.
    accounts = client.http.get("/accounts", headers=headers).json_body["data"]
    assert [(a["provider"], a["status"], a["needs_attention"]) for a in accounts] == [
        ("lever", "active", False)
    ]
    account_id = accounts[0]["account_id"]

    # 5. Linking started the account's first sync at once (a full one); "Sync now" right after it says
    # a sync was just requested.
    messages = boto3_messages(sync_queue)
    assert [(m["account_id"], m["reason"], m["mode"]) for m in messages] == [(account_id, "employer", "full")]
    again = client.http.post(f"/accounts/{account_id}/sync", headers=headers, body="")
    assert again.status_code == 429

    # Credentials expire: the account asks for a reconnect, and an edit-mode session re-links it.
    sandbox.state.expire_account(account_id)
    expired = client.http.get("/accounts", headers=headers).json_body["data"][0]
    assert expired["needs_attention"] is True
    assert expired["attention"]["action"] == "reconnect"
    assert "expired" in expired["attention"]["reason"]
    relink = client.http.post(
        "/connect-sessions", headers=headers, body=json.dumps({"account_id": account_id})
    )
    assert relink.status_code == 201
    httpx.post(f"{sandbox.base_url}/hub/link", data={"token": relink.json_body["token"]})
    assert client.http.get("/accounts", headers=headers).json_body["data"][0]["status"] == "active"

    # A demo employer's account stays out of reach.
    foreign = client.http.post("/accounts/acc_demo_greenhouse_acme/sync", headers=headers, body="")
    assert foreign.status_code == 404
    assert foreign.json_body["error"]["code"] == "account_not_found"


def boto3_messages(queue_url: str) -> list[dict[str, Any]]:
    import boto3

    result = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in result.get("Messages", [])]
