"""The snapshot builder's triggers: after syncs that changed postings (debounced queue) and on a schedule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.settings import get_settings
from tests.api.board_factories import make_posting, put_postings
from tests.jobs.test_sync_jobs import drain
from tests.sync_support import StackOneStub, sqs_event


@pytest.fixture
def snapshot_queue_url(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    import boto3

    url = boto3.client("sqs").create_queue(QueueName=get_settings().board_snapshot_queue_name)["QueueUrl"]
    monkeypatch.setenv("BOARD_SNAPSHOT_QUEUE_URL", url)
    monkeypatch.setenv("BOARD_SNAPSHOT_DEBOUNCE_SECONDS", "0")
    get_settings.cache_clear()
    return url


def test_a_sync_that_changed_postings_requests_one_snapshot_and_an_unchanged_one_none(
    client: Any, queue_url: str, snapshot_queue_url: str, stackone: StackOneStub
) -> None:
    stackone.add_account("acc1", postings=3)
    delays: list[int] = []
    deps.get_boto3_session().events.register(
        "provide-client-params.sqs.SendMessage", lambda params, **_: delays.append(params.get("DelaySeconds"))
    )
    body = {"account_id": "acc1", "run_id": "run-1", "mode": "full"}
    client.lambda_.invoke("sync_account", sqs_event([body], ["m1"]))
    (request,) = drain(snapshot_queue_url)
    assert request["reason"] == "sync" and request["requested_at"] >= "2026"
    assert delays == [0]  # BOARD_SNAPSHOT_DEBOUNCE_SECONDS
    client.lambda_.invoke("sync_account", sqs_event([{**body, "run_id": "run-2"}], ["m2"]))
    assert drain(snapshot_queue_url) == []


def test_requested_snapshots_are_built_once_per_batch_and_skipped_when_covered(client: Any) -> None:
    put_postings(make_posting("Queued Engineer"))
    store = deps.get_snapshot_store()
    assert store.current() is None
    requests = [{"requested_at": "2026-11-01T09:00:00.000Z"}, {"requested_at": "2026-11-01T09:00:05.000Z"}]
    result = client.lambda_.invoke("board_snapshot_requested", sqs_event(requests, ["a", "b"]))
    assert result.payload["published"] is True and result.payload["postings"] == 1
    current = store.current()
    assert current is not None and current.postings == 1
    again = client.lambda_.invoke("board_snapshot_requested", sqs_event(requests[:1], ["c"]))
    assert again.payload["published"] is False  # the current snapshot already covers that request
    assert store.current() == current


def test_a_malformed_snapshot_request_is_dropped(client: Any) -> None:
    result = client.lambda_.invoke("board_snapshot_requested", sqs_event([{"nope": 1}], ["bad"]))
    assert result.payload is None
    assert deps.get_snapshot_store().current() is None


def test_the_schedule_builds_and_publishes_a_snapshot_with_its_files_on_s3(client: Any) -> None:
    import boto3

    put_postings(make_posting("Scheduled Engineer"), make_posting("Other"))
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    result = client.lambda_.invoke("build_board_snapshot", event)
    assert result.payload["published"] is True and result.payload["postings"] == 2
    settings = get_settings()
    manifest = deps.get_snapshot_store().current()
    assert manifest is not None
    listed = boto3.client("s3").list_objects_v2(
        Bucket=settings.board_snapshot_bucket, Prefix=settings.board_snapshot_prefix
    )
    keys = {item["Key"].removeprefix(settings.board_snapshot_prefix) for item in listed["Contents"]}
    files = {f"files/{file.sha256}" for file in manifest.files}
    assert keys == files | {f"manifests/{manifest.version}.json"}
    copy = boto3.client("s3").get_object(
        Bucket=settings.board_snapshot_bucket,
        Key=f"{settings.board_snapshot_prefix}manifests/{manifest.version}.json",
    )
    assert json.loads(copy["Body"].read())["postings"] == 2


def test_snapshot_rate_and_queue_come_from_settings() -> None:
    from chalicelib.jobs import board_snapshot

    assert board_snapshot.SNAPSHOT_RATE_MINUTES == get_settings().board_snapshot_schedule_minutes == 60
    assert board_snapshot.SNAPSHOT_QUEUE_NAME == "job-board-snapshot"
