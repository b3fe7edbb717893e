"""The local scheduler: fires schedule handlers and drains the queues into the SQS handlers like Lambda."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from chalice import Chalice
from chalice.app import CloudWatchEvent, SQSEvent

from local.scheduler import LambdaLimits, LocalScheduler

QUEUE = "toy-sync"
SNAPSHOT_QUEUE = "toy-snapshot"
FIXED_NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Recorder:
    schedule_events: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    remaining_ms: list[float] = field(default_factory=list)
    fail_bodies: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)  # handler names, in the order they ran
    build_events: list[dict[str, Any]] = field(default_factory=list)
    snapshot_batches: list[list[str]] = field(default_factory=list)


def _toy_app(
    recorder: Recorder,
    *,
    with_handlers: bool = True,
    bodies: tuple[str, ...] = (),
    with_snapshots: bool = False,
) -> Chalice:
    """An app shaped like the real one: `sync_all` enqueues, `sync_account` (batch size 1) handles; with
    snapshots also `build_board_snapshot` (schedule) and `board_snapshot_requested` (batch size 10)."""
    app = Chalice(app_name="toy")
    if not with_handlers:
        return app

    if with_snapshots:

        @app.schedule("rate(60 minutes)")
        def build_board_snapshot(event: CloudWatchEvent) -> None:
            recorder.calls.append("build_board_snapshot")
            recorder.build_events.append(event.to_dict())

        @app.on_sqs_message(queue=SNAPSHOT_QUEUE, batch_size=10)
        def board_snapshot_requested(event: SQSEvent) -> None:
            recorder.calls.append("board_snapshot_requested")
            batch = [record.to_dict() for record in event]
            recorder.snapshot_batches.append([record["body"] for record in batch])
            assert all(record["eventSourceARN"].endswith(f":{SNAPSHOT_QUEUE}") for record in batch)

    @app.schedule("rate(15 minutes)")
    def sync_all(event: CloudWatchEvent) -> None:
        recorder.calls.append("sync_all")
        recorder.schedule_events.append(event.to_dict())
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
        for body in bodies:
            sqs.send_message(QueueUrl=url, MessageBody=body)

    @app.on_sqs_message(queue=QUEUE, batch_size=1)
    def sync_account(event: SQSEvent) -> None:
        recorder.calls.append("sync_account")
        # chalice annotates the event's context as a dict; it is the Lambda context object
        recorder.remaining_ms.append(cast(LambdaContext, event.context).get_remaining_time_in_millis())
        for record in event:
            recorder.records.append(record.to_dict())
            if record.body in recorder.fail_bodies:
                raise RuntimeError("sync failed")

    return app


@pytest.fixture
def queue_url(aws: None) -> str:
    return str(boto3.client("sqs").create_queue(QueueName=QUEUE)["QueueUrl"])


@pytest.fixture
def snapshot_queue_url(aws: None) -> str:
    return str(boto3.client("sqs").create_queue(QueueName=SNAPSHOT_QUEUE)["QueueUrl"])


def _scheduler(
    app: Chalice,
    queue_url: str,
    config: dict[str, Any] | None = None,
    *,
    snapshot_queue_url: str | None = None,
    monotonic: Any = None,
) -> LocalScheduler:
    return LocalScheduler(
        app,
        boto3.client("sqs"),
        queue_url=queue_url,
        snapshot_queue_url=snapshot_queue_url,
        region="eu-central-1",
        limits=LambdaLimits("local", config or {}),
        now=lambda: FIXED_NOW,
        **({"monotonic": monotonic} if monotonic else {}),
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


def test_the_snapshot_build_fires_after_the_sync_drain_and_requests_drain_in_the_apps_batch_size(
    queue_url: str, snapshot_queue_url: str
) -> None:
    recorder = Recorder()
    app = _toy_app(recorder, bodies=("a1",), with_snapshots=True)
    sqs = boto3.client("sqs")
    for index in range(12):
        sqs.send_message(QueueUrl=snapshot_queue_url, MessageBody=f"request-{index}")

    result = _scheduler(app, queue_url, snapshot_queue_url=snapshot_queue_url).tick(
        fire_schedule=True, build_snapshot=True
    )

    assert result.ok and result.schedule_fired and result.snapshot_built
    assert result.handled == 13
    # The build covers what the syncs just wrote; the requests are drained after it.
    assert recorder.calls[:3] == ["sync_all", "sync_account", "build_board_snapshot"]
    assert set(recorder.calls[3:]) == {"board_snapshot_requested"}
    assert all(len(batch) <= 10 for batch in recorder.snapshot_batches)
    assert len(recorder.snapshot_batches) >= 2
    assert sorted(body for batch in recorder.snapshot_batches for body in batch) == sorted(
        f"request-{index}" for index in range(12)
    )
    [build_event] = recorder.build_events
    assert build_event["resources"][0].endswith(":rule/build_board_snapshot")
    assert _queue_counts(snapshot_queue_url) == (0, 0)


def test_a_failing_snapshot_build_is_reported_and_the_tick_goes_on(
    queue_url: str, snapshot_queue_url: str
) -> None:
    recorder = Recorder()
    app = _toy_app(recorder, with_snapshots=True)

    def failing_build(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("out of disk")

    app.handler_map["build_board_snapshot"] = failing_build
    boto3.client("sqs").send_message(QueueUrl=snapshot_queue_url, MessageBody="request")

    result = _scheduler(app, queue_url, snapshot_queue_url=snapshot_queue_url).tick(
        fire_schedule=False, build_snapshot=True
    )

    assert not result.ok and not result.snapshot_built
    assert result.failed_schedules == ["build_board_snapshot"]
    assert recorder.snapshot_batches == [["request"]]


def test_without_a_snapshot_queue_only_the_sync_queue_is_drained(
    queue_url: str, snapshot_queue_url: str
) -> None:
    recorder = Recorder()
    app = _toy_app(recorder, with_snapshots=True)
    boto3.client("sqs").send_message(QueueUrl=snapshot_queue_url, MessageBody="request")

    result = _scheduler(app, queue_url).tick(fire_schedule=False)

    assert result.ok and result.handled == 0
    assert _queue_counts(snapshot_queue_url) == (1, 0)


class _FakeStop(threading.Event):
    """Stops the loop after `ticks` waits; each wait moves the fake clock on by the wait's timeout."""

    def __init__(self, clock: list[float], ticks: int) -> None:
        super().__init__()
        self._clock = clock
        self._ticks = ticks

    def wait(self, timeout: float | None = None) -> bool:
        self._clock[0] += timeout or 0.0
        self._ticks -= 1
        if self._ticks <= 0:
            self.set()
        return self.is_set()


def test_run_forever_builds_a_snapshot_right_after_the_first_sync_and_then_on_its_interval(
    queue_url: str, snapshot_queue_url: str
) -> None:
    recorder = Recorder()
    app = _toy_app(recorder, bodies=("first",), with_snapshots=True)
    clock = [0.0]
    scheduler = _scheduler(app, queue_url, snapshot_queue_url=snapshot_queue_url, monotonic=lambda: clock[0])

    # Ticks at t = 0, 10, ..., 60: the sync schedule once (every 100 s), the build at 0, 30 and 60.
    scheduler.run_forever(
        _FakeStop(clock, ticks=7),
        sync_interval_seconds=100,
        drain_interval_seconds=10,
        snapshot_interval_seconds=30,
    )

    assert recorder.calls[:3] == ["sync_all", "sync_account", "build_board_snapshot"]
    assert recorder.calls.count("sync_all") == 1
    assert recorder.calls.count("build_board_snapshot") == 3


def test_queued_emails_are_handed_to_send_email(queue_url: str) -> None:
    # `make run`'s stand-in for the email queue's event source: confirmations reach the mail catcher.
    app = Chalice(app_name="toy-mail")
    sent: list[str] = []

    @app.on_sqs_message(queue="toy-email", batch_size=1)
    def send_email(event: SQSEvent) -> None:
        sent.extend(record.body for record in event)

    sqs = boto3.client("sqs")
    email_queue_url = sqs.create_queue(QueueName="toy-email")["QueueUrl"]
    for body in ("confirm-1", "confirm-2"):
        sqs.send_message(QueueUrl=email_queue_url, MessageBody=body)
    scheduler = LocalScheduler(
        app,
        sqs,
        queue_url=queue_url,
        email_queue_url=email_queue_url,
        region="eu-central-1",
        limits=LambdaLimits("local", {}),
        now=lambda: FIXED_NOW,
    )

    result = scheduler.tick(fire_schedule=False)

    assert sorted(sent) == ["confirm-1", "confirm-2"]
    assert result.handled == 2
    assert _queue_counts(email_queue_url) == (0, 0)


def test_counted_events_are_handed_to_count_events_in_batches(queue_url: str) -> None:
    # `make run`'s stand-in for the numbers queue's event source: job page views reach the numbers.
    app = Chalice(app_name="toy-numbers")
    batches: list[list[str]] = []

    @app.on_sqs_message(queue="toy-numbers", batch_size=100, maximum_batching_window_in_seconds=60)
    def count_events(event: SQSEvent) -> None:
        batches.append([record.body for record in event])

    sqs = boto3.client("sqs")
    numbers_queue_url = sqs.create_queue(QueueName="toy-numbers")["QueueUrl"]
    for index in range(12):
        sqs.send_message(QueueUrl=numbers_queue_url, MessageBody=f"view-{index}")
    scheduler = LocalScheduler(
        app,
        sqs,
        queue_url=queue_url,
        numbers_queue_url=numbers_queue_url,
        region="eu-central-1",
        limits=LambdaLimits("local", {}),
        now=lambda: FIXED_NOW,
    )

    result = scheduler.tick(fire_schedule=False)

    assert sorted(body for batch in batches for body in batch) == sorted(f"view-{i}" for i in range(12))
    assert max(len(batch) for batch in batches) <= 10  # one receive's worth, as the scheduler reads
    assert result.handled == 12
    assert _queue_counts(numbers_queue_url) == (0, 0)


class _FailingSqs:
    """The real (moto) SQS client, except that its queue reads raise `errors` one after another first."""

    def __init__(self, errors: list[BaseException]) -> None:
        self._client = boto3.client("sqs")
        self._errors = errors
        self.failed_reads = 0

    def receive_message(self, **kwargs: Any) -> Any:
        if self._errors:
            self.failed_reads += 1
            raise self._errors.pop(0)
        return self._client.receive_message(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class _RecordingStop(_FakeStop):
    """A fake stop whose waits (the loop's sleeps) are recorded."""

    def __init__(self, clock: list[float], ticks: int) -> None:
        super().__init__(clock, ticks)
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return super().wait(timeout)


def _stalled_read() -> BaseException:
    from botocore.exceptions import ReadTimeoutError

    return ReadTimeoutError(endpoint_url="http://127.0.0.1:5001/")


def _refused() -> BaseException:
    from botocore.exceptions import EndpointConnectionError

    return EndpointConnectionError(endpoint_url="http://127.0.0.1:5001/")


def _dropped() -> BaseException:
    from botocore.exceptions import ConnectionClosedError

    return ConnectionClosedError(endpoint_url="http://127.0.0.1:5001/")


def _throttled() -> BaseException:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "ReceiveMessage")


@pytest.mark.parametrize("error", [_stalled_read, _refused, _dropped, _throttled])
def test_run_forever_backs_off_while_sqs_fails_and_resumes_when_it_answers(
    queue_url: str, error: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a queued message and an SQS that fails five reads in a row (a stall of a minute or more)
    recorder = Recorder()
    app = _toy_app(recorder)
    boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody="after the stall")
    sqs = _FailingSqs([error() for _ in range(5)])
    clock = [0.0]
    scheduler = LocalScheduler(
        app,
        cast(Any, sqs),
        queue_url=queue_url,
        region="eu-central-1",
        limits=LambdaLimits("local", {}),
        now=lambda: FIXED_NOW,
        monotonic=lambda: clock[0],
    )
    stop = _RecordingStop(clock, ticks=7)

    # WHEN the loop runs seven ticks
    with caplog.at_level("INFO", logger="local.scheduler"):
        scheduler.run_forever(
            stop, sync_interval_seconds=3600, drain_interval_seconds=5, max_backoff_seconds=30
        )

    # THEN it waited 5, 10, 20, 30, 30 s (capped exponential backoff), then drained and went back to 5 s
    assert stop.waits == [5, 10, 20, 30, 30, 5, 5]
    assert sqs.failed_reads == 5
    assert [record["body"] for record in recorder.records] == ["after the stall"]
    assert _queue_counts(queue_url) == (0, 0)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 5 and all("`sync_account` queue unavailable" in w for w in warnings)
    assert "AWS answers again after 5 failed tick(s)" in caplog.text


def test_a_lost_queue_after_a_moto_restart_is_reported_and_the_tick_goes_on(
    queue_url: str, snapshot_queue_url: str
) -> None:
    # GIVEN the sync queue is gone (moto restarted, its state lost) while the snapshot queue has work
    recorder = Recorder()
    app = _toy_app(recorder, with_snapshots=True)
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=queue_url)
    sqs.send_message(QueueUrl=snapshot_queue_url, MessageBody="request")
    scheduler = _scheduler(app, queue_url, snapshot_queue_url=snapshot_queue_url)

    # WHEN a tick runs
    result = scheduler.tick(fire_schedule=False)

    # THEN it says what is missing and what to do, and still drains the other queue
    assert not result.ok
    [problem] = result.unavailable
    assert "`sync_account` queue unavailable" in problem and "make bootstrap" in problem
    assert recorder.snapshot_batches == [["request"]]

    # AND once the queue is created again (`make bootstrap`), the next tick drains it
    assert sqs.create_queue(QueueName=QUEUE)["QueueUrl"] == queue_url
    sqs.send_message(QueueUrl=queue_url, MessageBody="after the restart")
    again = scheduler.tick(fire_schedule=False)
    assert again.ok and again.handled == 1
    assert [record["body"] for record in recorder.records] == ["after the restart"]


def test_a_bug_in_the_scheduler_still_stops_it(queue_url: str) -> None:
    # A programming error is not a dependency hiccup: the process ends and `make run` stops the stack.
    sqs = _FailingSqs([KeyError("Messages")])
    scheduler = LocalScheduler(
        _toy_app(Recorder()),
        cast(Any, sqs),
        queue_url=queue_url,
        region="eu-central-1",
        limits=LambdaLimits("local", {}),
    )

    with pytest.raises(KeyError):
        scheduler.run_forever(_FakeStop([0.0], ticks=3), sync_interval_seconds=60, drain_interval_seconds=5)
