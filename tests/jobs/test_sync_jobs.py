"""Schedule and SQS worker through chalice's test client, on moto, against a respx StackOne."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.clients.stackone.errors import StackOneBadResponseError
from chalicelib.settings import get_settings
from tests.jobs.conftest import API_KEY
from tests.sync_support import StackOneStub, WriteCounter, sqs_event


def drain(queue_url: str) -> list[dict[str, Any]]:
    import boto3

    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_schedule_enqueues_one_message_per_active_ats_account_in_batches(
    client: Any, queue_url: str, stackone: StackOneStub
) -> None:
    # GIVEN 23 active ATS accounts, an inactive one and a non-ATS one
    for i in range(23):
        stackone.add_account(f"acc{i:02d}")
    stackone.add_account("asleep", status="inactive")
    stackone.add_account("crm", provider="hubspot")
    batches: list[int] = []
    deps.get_boto3_session().events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: batches.append(len(params["Entries"])),
    )
    # WHEN the schedule fires
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    result = client.lambda_.invoke("sync_all", event)
    # THEN 23 messages went out in batches of at most 10, all carrying the same run id
    assert result.payload["enqueued"] == 23
    assert batches == [10, 10, 3]
    bodies = drain(queue_url)
    assert sorted(b["account_id"] for b in bodies) == [f"acc{i:02d}" for i in range(23)]
    assert {b["run_id"] for b in bodies} == {result.payload["run_id"]}


def test_schedule_rate_comes_from_settings() -> None:
    from chalicelib.jobs import sync_schedule

    assert sync_schedule.SYNC_RATE_MINUTES == get_settings().sync_schedule_minutes == 15


def test_worker_syncs_the_account_and_resync_writes_nothing(
    client: Any, queue_url: str, stackone: StackOneStub
) -> None:
    stackone.add_account("acc1", postings=30)
    counter = WriteCounter()
    counter.register(deps.get_boto3_session())
    table = get_settings().table_name
    body = {"account_id": "acc1", "run_id": "run-1", "mode": "full"}
    client.lambda_.invoke("sync_account", sqs_event([body], ["m1"]))
    state = deps.get_sync_state_repository().get("acc1")
    assert state is not None and state.last_outcome == "succeeded" and state.live_postings == 30
    assert state.employer_id == "emp-acc1"
    first_run_items, first_run_requests = counter.items[table], counter.requests[table]
    assert first_run_items == 30 + 2  # postings + sync state (running, finished)
    assert first_run_requests == 2 + 2  # two BatchWriteItem (25 + 5) + two state puts
    # WHEN a second, unchanged full run happens
    client.lambda_.invoke("sync_account", sqs_event([{**body, "run_id": "run-2"}], ["m2"]))
    # THEN only the sync state was written (two puts), no posting item
    assert counter.items[table] - first_run_items == 2
    assert counter.requests[table] - first_run_requests == 2


def test_duplicate_delivery_does_no_double_work(client: Any, queue_url: str, stackone: StackOneStub) -> None:
    # GIVEN one message delivered twice with distinct messageIds (SQS at-least-once)
    stackone.add_account("acc1", postings=5)
    body = {"account_id": "acc1", "run_id": "run-7"}
    client.lambda_.invoke("sync_account", sqs_event([body], ["msg-a"]))
    listing_calls = stackone.calls("/unified/ats/job_postings")
    account_calls = stackone.calls("/accounts/acc1")
    state_before = deps.get_sync_state_repository().get("acc1")
    # WHEN the duplicate arrives
    client.lambda_.invoke("sync_account", sqs_event([body], ["msg-b"]))
    # THEN StackOne is not called again and the sync state is untouched
    assert stackone.calls("/unified/ats/job_postings") == listing_calls
    assert stackone.calls("/accounts/acc1") == account_calls
    assert deps.get_sync_state_repository().get("acc1") == state_before
    # while a new run of the same account does sync
    client.lambda_.invoke("sync_account", sqs_event([{**body, "run_id": "run-8"}], ["msg-c"]))
    assert stackone.calls("/unified/ats/job_postings") == listing_calls + 1


def test_malformed_message_is_dropped(client: Any, queue_url: str, stackone: StackOneStub) -> None:
    client.lambda_.invoke("sync_account", sqs_event([{"nope": 1}], ["bad"]))
    assert stackone.calls("/") == 0


def test_auth_failure_marks_account_and_other_account_still_syncs(
    client: Any, queue_url: str, stackone: StackOneStub
) -> None:
    stackone.add_account("expired", postings=3)
    stackone.add_account("fine", postings=3)
    stackone.status_for_account["expired"] = 401
    for account_id in ("expired", "fine"):
        client.lambda_.invoke(
            "sync_account", sqs_event([{"account_id": account_id, "run_id": "r"}], [account_id])
        )
    states = deps.get_sync_state_repository().get_many(["expired", "fine"])
    assert states["expired"].needs_attention and states["expired"].attention_reason == "reconnect"
    assert states["expired"].live_postings == 0
    assert states["fine"].last_outcome == "succeeded" and states["fine"].live_postings == 3


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the app's structured logger writes, in its JSON format."""
    import logging

    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    level = logger._logger.level
    logger._logger.addHandler(handler)  # the stdlib logger behind Powertools' Logger
    logger._logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger._logger.removeHandler(handler)
        logger._logger.setLevel(level)


def test_logs_carry_account_and_run_but_never_the_api_key(
    client: Any, queue_url: str, stackone: StackOneStub, captured_logs: io.StringIO
) -> None:
    stackone.add_account("acc1", postings=2)
    stackone.status_for_account["acc1"] = 503  # retries log warnings too
    deps.get_stackone_client()._sleep = lambda _: None
    client.lambda_.invoke("sync_account", sqs_event([{"account_id": "acc1", "run_id": "run-log"}], ["m"]))
    logs = captured_logs.getvalue()
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    finished = [r for r in records if r.get("message") == "account sync finished"]
    assert finished and finished[0]["account_id"] == "acc1" and finished[0]["run_id"] == "run-log"
    assert any(r.get("message") == "retrying StackOne request" for r in records)
    assert API_KEY not in logs
    import base64

    assert base64.b64encode(f"{API_KEY}:".encode()).decode() not in logs


@pytest.mark.parametrize("listing", [{}, {"data": None}, [{"account": "acc1"}]], ids=["empty", "null", "odd"])
def test_accounts_listed_in_an_unknown_shape_close_nothing(
    client: Any, queue_url: str, stackone: StackOneStub, listing: Any
) -> None:
    # GIVEN an account synced onto the board
    stackone.add_account("acc1", postings=3)
    client.lambda_.invoke("sync_account", sqs_event([{"account_id": "acc1", "run_id": "r1"}], ["m1"]))
    # WHEN StackOne then lists the accounts in a shape the board cannot read (not "no accounts")
    stackone.router.get("/accounts").respond(200, json=listing)
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    with pytest.raises(StackOneBadResponseError):
        client.lambda_.invoke("sync_all", event)
    # THEN the account is not taken for gone: nothing is queued to close its postings
    assert drain(queue_url) == []
    state = deps.get_sync_state_repository().get("acc1")
    assert state is not None and state.live_postings == 3
