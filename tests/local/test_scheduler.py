"""The local scheduler: fires the schedule handler and drains the queue into the SQS handler like Lambda."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from chalice import Chalice
from chalice.app import CloudWatchEvent, SQSEvent

from local.scheduler import LambdaLimits, LocalScheduler

QUEUE = "toy-sync"
FIXED_NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Recorder:
    schedule_events: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    remaining_ms: list[float] = field(default_factory=list)
    fail_bodies: set[str] = field(default_factory=set)


def _toy_app(recorder: Recorder, *, with_handlers: bool = True, bodies: tuple[str, ...] = ()) -> Chalice:
    """An app shaped like the real one: `sync_all` enqueues, `sync_account` (batch size 1) handles."""
    app = Chalice(app_name="toy")
    if not with_handlers:
        return app

    @app.schedule("rate(15 minutes)")
    def sync_all(event: CloudWatchEvent) -> None:
        recorder.schedule_events.append(event.to_dict())
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
        for body in bodies:
            sqs.send_message(QueueUrl=url, MessageBody=body)

    @app.on_sqs_message(queue=QUEUE, batch_size=1)
    def sync_account(event: SQSEvent) -> None:
        recorder.remaining_ms.append(event.context.get_remaining_time_in_millis())
        for record in event:
            recorder.records.append(record.to_dict())
            if record.body in recorder.fail_bodies:
                raise RuntimeError("sync failed")

    return app


@pytest.fixture
def queue_url(aws: None) -> str:
    return str(boto3.client("sqs").create_queue(QueueName=QUEUE)["QueueUrl"])


def _scheduler(app: Chalice, queue_url: str, config: dict[str, Any] | None = None) -> LocalScheduler:
    return LocalScheduler(
        app,
        boto3.client("sqs"),
        queue_url=queue_url,
        region="eu-central-1",
        limits=LambdaLimits("local", config or {}),
        now=lambda: FIXED_NOW,
    )


def _queue_counts(queue_url: str) -> tuple[int, int]:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_tick_fires_the_schedule_then_hands_each_message_to_the_queue_handler(queue_url: str) -> None:
    recorder = Recorder()
    app = _toy_app(recorder, bodies=('{"account_id": "a1"}', '{"account_id": "a2"}', '{"account_id": "a3"}'))

    result = _scheduler(app, queue_url).tick(fire_schedule=True)

    assert result.ok and result.schedule_fired and result.handled == 3
    [schedule_event] = recorder.schedule_events
    assert schedule_event["detail-type"] == "Scheduled Event"
    assert schedule_event["source"] == "aws.events"
    assert schedule_event["time"] == "2026-05-01T12:00:00Z"
    assert sorted(record["body"] for record in recorder.records) == [
        '{"account_id": "a1"}',
        '{"account_id": "a2"}',
        '{"account_id": "a3"}',
    ]
    message_ids = [record["messageId"] for record in recorder.records]
    assert len(set(message_ids)) == 3
    assert all(record["eventSourceARN"].endswith(f":{QUEUE}") for record in recorder.records)
    assert all(record["attributes"]["ApproximateReceiveCount"] == "1" for record in recorder.records)
    assert _queue_counts(queue_url) == (0, 0)  # handled messages are deleted


def test_a_failing_message_stays_in_the_queue_for_redelivery_and_the_others_are_deleted(
    queue_url: str,
) -> None:
    recorder = Recorder(fail_bodies={"bad"})
    app = _toy_app(recorder, bodies=("good-1", "bad", "good-2"))

    result = _scheduler(app, queue_url).tick(fire_schedule=True)

    assert not result.ok
    assert result.handled == 2
    [failed_id] = result.failed_message_ids
    assert failed_id == next(r["messageId"] for r in recorder.records if r["body"] == "bad")
    assert _queue_counts(queue_url) == (0, 1)  # in flight until its visibility timeout ends


def test_drain_only_leaves_the_schedule_alone(queue_url: str) -> None:
    recorder = Recorder()
    app = _toy_app(recorder, bodies=("never-sent",))
    boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody="sync-now")

    result = _scheduler(app, queue_url).tick(fire_schedule=False)

    assert result.ok and not result.schedule_fired
    assert recorder.schedule_events == []
    assert [record["body"] for record in recorder.records] == ["sync-now"]


def test_an_app_without_sync_handlers_is_skipped_and_its_queue_left_alone(queue_url: str) -> None:
    app = _toy_app(Recorder(), with_handlers=False)
    boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody="waiting")

    result = _scheduler(app, queue_url).tick(fire_schedule=True)

    assert result.ok and not result.schedule_fired and result.handled == 0
    assert _queue_counts(queue_url) == (1, 0)


def test_the_handler_gets_the_lambda_timeout_from_chalice_config(queue_url: str) -> None:
    recorder = Recorder()
    app = _toy_app(recorder)
    boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody="x")
    config = {"stages": {"local": {"lambda_functions": {"sync_account": {"lambda_timeout": 300}}}}}

    _scheduler(app, queue_url, config).tick(fire_schedule=False)

    [remaining] = recorder.remaining_ms
    assert 290_000 < remaining <= 300_000


def test_run_forever_fires_at_once_and_stops_when_asked(queue_url: str) -> None:
    recorder = Recorder()
    stop = threading.Event()
    app = _toy_app(recorder, bodies=("first",))

    @app.on_sqs_message(queue="other", batch_size=1)
    def unrelated(event: SQSEvent) -> None:  # other handlers are not the scheduler's business
        raise AssertionError("not called")

    original = app.handler_map["sync_account"]

    def handle_then_stop(event: dict[str, Any], context: Any) -> Any:
        outcome = original(event, context)
        stop.set()  # one full tick happened: the loop must end without waiting out the intervals
        return outcome

    app.handler_map["sync_account"] = handle_then_stop

    _scheduler(app, queue_url).run_forever(stop, sync_interval_seconds=3600, drain_interval_seconds=3600)

    assert len(recorder.schedule_events) == 1
    assert [record["body"] for record in recorder.records] == ["first"]
