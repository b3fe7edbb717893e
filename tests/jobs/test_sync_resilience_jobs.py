"""The schedule and the worker under StackOne and table failures (chalice's test client, moto, respx)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest

from chalicelib import deps
from chalicelib.settings import get_settings
from tests.jobs.test_sync_jobs import drain
from tests.sync_support import StackOneStub, sqs_event


def schedule(client: Any) -> Any:
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    return client.lambda_.invoke("sync_all", event)


def test_the_schedule_retries_a_failing_account_listing(
    client: Any, queue_url: str, stackone: StackOneStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STACKONE_BACKOFF_BASE_SECONDS", "0.01")
    get_settings.cache_clear()
    stackone.add_account("acc1")
    listing = stackone.router.routes[0]
    original = cast(Callable[[httpx.Request], httpx.Response], listing.side_effect)
    answers = [httpx.Response(503, json={"statusCode": 503}), httpx.Response(500, json={"statusCode": 500})]
    listing.side_effect = lambda request: answers.pop(0) if answers else original(request)

    result = schedule(client)

    assert result.payload["enqueued"] == 1
    assert stackone.calls("/accounts") == 3
    assert [b["account_id"] for b in drain(queue_url)] == ["acc1"]


def test_the_schedule_enqueues_only_registered_employers_accounts(
    client: Any, queue_url: str, stackone: StackOneStub
) -> None:
    stackone.add_account("mine")
    stackone.add_account("stranger", register_owner=False)

    result = schedule(client)

    assert result.payload["enqueued"] == 1
    assert [b["account_id"] for b in drain(queue_url)] == ["mine"]


def test_an_unregistered_owners_postings_are_never_published(
    client: Any, queue_url: str, stackone: StackOneStub
) -> None:
    stackone.add_account("stranger", postings=3, register_owner=False)

    client.lambda_.invoke("sync_account", sqs_event([{"account_id": "stranger", "run_id": "r1"}], ["m1"]))

    assert deps.get_postings_repository().load_index("stranger") == {}
    state = deps.get_sync_state_repository().get("stranger")
    assert state is not None and state.attention_reason == "employer_not_registered"
    assert stackone.calls("/unified/ats/job_postings") == 0
