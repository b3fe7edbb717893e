"""The local stand-in for EventBridge and the SQS event source mappings, in-process.

Every ``LOCAL_SYNC_INTERVAL_SECONDS`` (default 60) it fires the app's ``sync_all`` schedule handler, and
every ``LOCAL_SNAPSHOT_INTERVAL_SECONDS`` (default 300) the ``build_board_snapshot`` one (the first time
right after the first sync has been drained, so the board has a snapshot soon after the start). Every
``LOCAL_DRAIN_INTERVAL_SECONDS`` (default 5) it drains the sync queue into the app's ``sync_account``
SQS handler, the snapshot queue into ``board_snapshot_requested``, the email queue into
``send_email`` (which sends to the mail catcher) and the numbers queue into ``count_events`` (counted
job page views, Apply starts, applications, Embloy clicks): one Lambda-shaped event per batch
(the batch size of the app's event source, distinct message ids), deleting messages only after the
handler returned (failed ones come back after the visibility timeout and end in the dead-letter queue,
as in AWS).

A dependency that stalls, refuses connections or loses its state (moto restarted: the queues are gone)
does not stop the loop: the tick's AWS error is logged in one line, the next tick waits with capped
exponential backoff (the drain interval, doubled per failed tick, at most ``MAX_BACKOFF_SECONDS``), and
the loop carries on once AWS answers again. Only a stop request (SIGTERM, Ctrl-C) or a bug ends it.

    python -m local.scheduler            # loop (started by `make run`)
    python -m local.scheduler --once     # fire both schedules, drain both queues, exit (1 on any failure)
    python -m local.scheduler --once --no-schedule   # only drain ("sync now" after a POST .../sync)

The environment is the app's (``AWS_ENDPOINT_URL``, ``SYNC_QUEUE_URL``, ``BOARD_SNAPSHOT_QUEUE_URL``, ...);
the ``local`` stage's variables from ``.chalice/config.json`` are applied on top, as ``chalice local`` does.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from local.processes import SignalStop
from local.stack import (
    LOCAL_STAGE,
    PROJECT_DIR,
    LocalStackConfig,
    app_environment,
    local_settings,
    stage_environment,
)

if TYPE_CHECKING:
    from chalice import Chalice
    from mypy_boto3_sqs.client import SQSClient

SCHEDULE_HANDLER = "sync_all"
QUEUE_HANDLER = "sync_account"
SNAPSHOT_SCHEDULE_HANDLER = "build_board_snapshot"
SNAPSHOT_QUEUE_HANDLER = "board_snapshot_requested"
EMAIL_QUEUE_HANDLER = "send_email"
NUMBERS_QUEUE_HANDLER = "count_events"
ALERT_DIGEST_SCHEDULE_HANDLER = "send_alert_digests"
EMPLOYER_DIGEST_SCHEDULE_HANDLER = "send_employer_digests"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
_MAX_SQS_BATCH = 10
# Longest wait between ticks while AWS keeps failing: short enough that the loop resumes soon after a
# restarted moto is bootstrapped again.
MAX_BACKOFF_SECONDS = 60.0

log = logging.getLogger("local.scheduler")


@dataclass
class TickResult:
    """What one tick did: which schedule handlers ran (and failed), how many queue messages were
    handled and which failed."""

    fired: list[str] = field(default_factory=list)
    failed_schedules: list[str] = field(default_factory=list)
    handled: int = 0
    failed_message_ids: list[str] = field(default_factory=list)
    # One line per queue the scheduler itself could not read or clean up (AWS stalled, refused, lost it).
    unavailable: list[str] = field(default_factory=list)

    @property
    def schedule_fired(self) -> bool:
        return SCHEDULE_HANDLER in self.fired

    @property
    def schedule_failed(self) -> bool:
        return SCHEDULE_HANDLER in self.failed_schedules

    @property
    def snapshot_built(self) -> bool:
        name = SNAPSHOT_SCHEDULE_HANDLER
        return name in self.fired and name not in self.failed_schedules

    @property
    def ok(self) -> bool:
        return not self.failed_schedules and not self.failed_message_ids and not self.unavailable

    def summary(self) -> str:
        schedules = ", ".join(
            f"`{name}` {'failed' if name in self.failed_schedules else 'fired'}" for name in self.fired
        )
        unavailable = "".join(f"; {problem}" for problem in self.unavailable)
        return (
            f"{schedules or 'no schedule due'}; "
            f"{self.handled} message(s) handled, {len(self.failed_message_ids)} failed{unavailable}"
        )


def _aws_errors() -> tuple[type[BaseException], ...]:
    """What a stalled, unreachable or restarted AWS endpoint raises through boto3 (not bugs)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, ConnectionError, TimeoutError)


def describe_aws_error(exc: BaseException) -> str:
    """One line for the log: the error code or kind, and what to do when the queue is gone."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "unknown"))
        if "NonExistentQueue" in code or "QueueDoesNotExist" in code:
            return f"{code}: the queue is gone (moto restarted?); `make bootstrap` creates it again"
        return code
    return f"{type(exc).__name__}: {exc}"


def backoff_seconds(failed_ticks: int, base_seconds: float, cap_seconds: float) -> float:
    """Capped exponential backoff: `base_seconds` after the first failed tick, doubled per further one."""
    if failed_ticks <= 0:
        return base_seconds
    return min(cap_seconds, base_seconds * 2.0 ** min(failed_ticks - 1, 32))


class LambdaLimits:
    """Memory and timeout per function from `.chalice/config.json`, for a realistic LambdaContext."""

    def __init__(self, stage: str, config_from_disk: dict[str, Any]) -> None:
        self._stage = stage
        self._config = config_from_disk

    @classmethod
    def from_project(cls, stage: str = LOCAL_STAGE) -> LambdaLimits:
        return cls(stage, json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text()))

    def context(self, function_name: str) -> Any:
        from chalice.config import Config
        from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT
        from chalice.local import LambdaContext

        scoped = Config(chalice_stage=self._stage, config_from_disk=self._config).scope(
            self._stage, function_name
        )
        timeout = scoped.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT
        return LambdaContext(
            function_name,
            memory_size=scoped.lambda_memory_size or DEFAULT_LAMBDA_MEMORY_SIZE,
            max_runtime_ms=timeout * 1000,
        )


class LocalScheduler:
    """Invokes the app's schedule and queue handlers like Lambda would, against the (local) queues."""

    def __init__(
        self,
        app: Chalice,
        sqs: SQSClient,
        *,
        queue_url: str,
        region: str,
        limits: LambdaLimits,
        snapshot_queue_url: str | None = None,
        email_queue_url: str | None = None,
        numbers_queue_url: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._sqs = sqs
        self._queue_url = queue_url
        self._snapshot_queue_url = snapshot_queue_url
        self._email_queue_url = email_queue_url
        self._numbers_queue_url = numbers_queue_url
        self._region = region
        self._limits = limits
        self._now = now
        self._monotonic = monotonic
        self._queue_arns: dict[str, str] = {}
        self._reported_missing: set[str] = set()

    def fire_schedule(self, result: TickResult) -> None:
        """Invoke `sync_all` with an EventBridge-shaped scheduled event (skipped if the app has none)."""
        self._fire(SCHEDULE_HANDLER, result)

    def fire_snapshot_build(self, result: TickResult) -> None:
        """Invoke `build_board_snapshot` like its EventBridge rule would (skipped if the app has none)."""
        self._fire(SNAPSHOT_SCHEDULE_HANDLER, result)

    def fire_email_schedules(self, result: TickResult) -> None:
        """Invoke `send_alert_digests` and `send_employer_digests` like their EventBridge rules would."""
        self._fire(ALERT_DIGEST_SCHEDULE_HANDLER, result)
        self._fire(EMPLOYER_DIGEST_SCHEDULE_HANDLER, result)

    def drain(self, result: TickResult, *, max_messages: int = 1000) -> None:
        """Drain the sync queue, then the snapshot and email queues (when there are), into their handlers.
        Queued emails go to `send_email`, which sends them to the mail catcher."""
        self._drain(QUEUE_HANDLER, self._queue_url, result, max_messages)
        if self._snapshot_queue_url:
            self._drain(SNAPSHOT_QUEUE_HANDLER, self._snapshot_queue_url, result, max_messages)
        if self._email_queue_url:
            self._drain(EMAIL_QUEUE_HANDLER, self._email_queue_url, result, max_messages)
        if self._numbers_queue_url:
            self._drain(NUMBERS_QUEUE_HANDLER, self._numbers_queue_url, result, max_messages)

    def tick(self, *, fire_schedule: bool, build_snapshot: bool = False) -> TickResult:
        """Optionally fire the sync schedule; drain the sync queue; optionally fire the snapshot build
        (after the drain, so it covers what the syncs wrote); drain the snapshot queue; with the sync
        schedule, fire the alert and employer digest schedules; drain the email queue. Never raises for
        a handler's failure, nor for an AWS error while reading or cleaning up a queue (that queue's
        drain stops and the error is in `unavailable`; the undeleted messages come back later)."""
        result = TickResult()
        if fire_schedule:
            self.fire_schedule(result)
        self._drain_reporting(QUEUE_HANDLER, self._queue_url, result)
        if build_snapshot:
            self.fire_snapshot_build(result)
        if self._snapshot_queue_url:
            self._drain_reporting(SNAPSHOT_QUEUE_HANDLER, self._snapshot_queue_url, result)
        if fire_schedule:
            # After the syncs: instant alerts see what they wrote (the digest waits out its settle margin).
            self.fire_email_schedules(result)
        if self._email_queue_url:
            self._drain_reporting(EMAIL_QUEUE_HANDLER, self._email_queue_url, result)
        if self._numbers_queue_url:
            # Counted events (job page views, ...): every tick, so the numbers show within seconds locally.
            self._drain_reporting(NUMBERS_QUEUE_HANDLER, self._numbers_queue_url, result)
        return result

    def run_forever(
        self,
        stop: threading.Event,
        *,
        sync_interval_seconds: float,
        drain_interval_seconds: float,
        snapshot_interval_seconds: float | None = None,
        max_backoff_seconds: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        """Fire the sync schedule at once and then every `sync_interval_seconds`, the snapshot build right
        after the first sync's drain and then every `snapshot_interval_seconds` (None: never); drain in
        between. While AWS fails, wait with capped exponential backoff instead of the drain interval
        (`stop.wait` is the sleep, so a stop request ends the wait at once)."""
        next_schedule = next_snapshot = self._monotonic()
        failed_ticks = 0
        while not stop.is_set():
            started = self._monotonic()
            due = started >= next_schedule
            build = snapshot_interval_seconds is not None and started >= next_snapshot
            result = self.tick(fire_schedule=due, build_snapshot=build)
            if due:
                next_schedule = started + sync_interval_seconds
            if build and snapshot_interval_seconds is not None:
                next_snapshot = started + snapshot_interval_seconds
            if result.unavailable:
                failed_ticks += 1
                wait = backoff_seconds(failed_ticks, drain_interval_seconds, max_backoff_seconds)
                log.warning(
                    "%s; AWS failed %d tick(s) in a row, next try in %g s",
                    result.summary(),
                    failed_ticks,
                    wait,
                )
            else:
                if failed_ticks:
                    log.info("AWS answers again after %d failed tick(s)", failed_ticks)
                failed_ticks = 0
                wait = drain_interval_seconds
                if result.handled or result.failed_message_ids or result.fired:
                    log.info("%s", result.summary())
            stop.wait(wait)

    def _fire(self, name: str, result: TickResult) -> None:
        handler = self._handler(name, "skipping its schedule")
        if handler is None:
            return
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": LOCAL_ACCOUNT_ID,
            "time": self._now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [f"arn:aws:events:{self._region}:{LOCAL_ACCOUNT_ID}:rule/{name}"],
            "detail": {},
        }
        result.fired.append(name)
        try:
            handler(event, self._limits.context(name))
        except Exception:
            result.failed_schedules.append(name)
            log.exception("`%s` failed", name)

    def _drain_reporting(self, name: str, queue_url: str, result: TickResult) -> None:
        try:
            self._drain(name, queue_url, result, 1000)
        except _aws_errors() as exc:
            result.unavailable.append(f"`{name}` queue unavailable ({describe_aws_error(exc)})")

    def _drain(self, name: str, queue_url: str, result: TickResult, max_messages: int) -> None:
        """Hand queued messages to the SQS handler `name` until the queue has nothing visible (or
        `max_messages`)."""
        handler = self._handler(name, "leaving its queue alone")
        if handler is None:
            return
        batch_size = min(self._batch_size(name), _MAX_SQS_BATCH)
        seen = 0
        while seen < max_messages:
            messages = self._sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=batch_size,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return
            seen += len(messages)
            event = {"Records": [self._record(queue_url, message) for message in messages]}
            ids = [str(message["MessageId"]) for message in messages]
            try:
                handler(event, self._limits.context(name))
            except Exception:
                # Left in the queue: visible again after the visibility timeout, then the dead-letter queue.
                result.failed_message_ids.extend(ids)
                log.exception("`%s` failed for message(s) %s; left for redelivery", name, ids)
                continue
            self._sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": str(message["ReceiptHandle"])}
                    for index, message in enumerate(messages)
                ],
            )
            result.handled += len(messages)

    def _handler(self, name: str, consequence: str) -> Callable[..., Any] | None:
        handler = self._app.handler_map.get(name)
        if handler is None and name not in self._reported_missing:
            # Said once, not every tick: the handlers may simply not be written yet.
            log.info("the app has no `%s` handler yet; %s", name, consequence)
            self._reported_missing.add(name)
        return handler

    def _batch_size(self, name: str) -> int:
        for source in self._app.event_sources:
            if source.name == name:
                return int(getattr(source, "batch_size", 1) or 1)
        return 1

    def _record(self, queue_url: str, message: Any) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn(queue_url),
            "awsRegion": self._region,
        }

    def _arn(self, queue_url: str) -> str:
        if queue_url not in self._queue_arns:
            attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
            self._queue_arns[queue_url] = attributes["Attributes"]["QueueArn"]
        return self._queue_arns[queue_url]


def prepare_environment(stage: str = LOCAL_STAGE) -> None:
    """Make this process see what `chalice local` sees, before the app is imported.

    Started by `make run`, the environment is already the app's. Run by hand (no AWS_ENDPOINT_URL), it
    targets a running `make run` stack on the default or LOCAL_* ports.
    """
    if not os.environ.get("AWS_ENDPOINT_URL"):
        os.environ.update(app_environment(LocalStackConfig.from_env(), sync_queue_url=""))
    # As `chalice local --stage ...` does before it imports the app.
    os.environ.update(stage_environment(stage))
    queues = ("SYNC_QUEUE_URL", "BOARD_SNAPSHOT_QUEUE_URL", "EMAIL_QUEUE_URL", "NUMBERS_QUEUE_URL")
    if not all(os.environ.get(variable) for variable in queues):
        import boto3

        sqs = boto3.client("sqs")
        settings = local_settings()
        if not os.environ.get("SYNC_QUEUE_URL"):
            os.environ["SYNC_QUEUE_URL"] = sqs.get_queue_url(QueueName=settings.sync_queue_name)["QueueUrl"]
        if not os.environ.get("BOARD_SNAPSHOT_QUEUE_URL"):
            os.environ["BOARD_SNAPSHOT_QUEUE_URL"] = _queue_url(sqs, settings.board_snapshot_queue_name) or ""
        if not os.environ.get("EMAIL_QUEUE_URL"):
            # The digest schedules and `send_email` queue and read email there.
            os.environ["EMAIL_QUEUE_URL"] = _queue_url(sqs, settings.email_queue_name) or ""
        if not os.environ.get("NUMBERS_QUEUE_URL"):
            os.environ["NUMBERS_QUEUE_URL"] = _queue_url(sqs, settings.numbers_queue_name) or ""


def local_stack_problem(stage: str = LOCAL_STAGE) -> str | None:
    """`prepare_environment`, or one line saying why the local stack cannot be used (no traceback)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        prepare_environment(stage)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        return f"the local stack lacks its sync queue ({code}): run `make bootstrap` against it"
    except BotoCoreError:
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        return (
            f"nothing answers at {endpoint} (moto): start the stack with `make run`, or set "
            "LOCAL_MOTO_PORT (and the other LOCAL_* ports) to those of the running stack"
        )
    return None


def _queue_url(sqs: SQSClient, name: str) -> str | None:
    """The queue's URL, or None (said once) when a stack bootstrapped before it existed lacks it."""
    from botocore.exceptions import ClientError

    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError:
        log.info("no queue %s (re-run `make bootstrap`); leaving it out", name)
        return None


def build_scheduler(stage: str = LOCAL_STAGE) -> LocalScheduler:
    """The scheduler over the real app, configured from the environment (call after the env is set)."""
    from app import app
    from chalicelib import deps
    from chalicelib.settings import get_settings

    settings = get_settings()
    sqs = deps.get_sqs_client()
    queue_url = settings.sync_queue_url or sqs.get_queue_url(QueueName=settings.sync_queue_name)["QueueUrl"]
    snapshot_queue_url = settings.board_snapshot_queue_url or _queue_url(
        sqs, settings.board_snapshot_queue_name
    )
    email_queue_url = settings.email_queue_url or _queue_url(sqs, settings.email_queue_name)
    numbers_queue_url = settings.numbers_queue_url or _queue_url(sqs, settings.numbers_queue_name)
    region = sqs.meta.region_name
    return LocalScheduler(
        app,
        sqs,
        queue_url=queue_url,
        snapshot_queue_url=snapshot_queue_url,
        email_queue_url=email_queue_url,
        numbers_queue_url=numbers_queue_url,
        region=region,
        limits=LambdaLimits.from_project(stage),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.scheduler", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--once",
        action="store_true",
        help="one tick (both schedules, both queues), then exit (1 if anything failed)",
    )
    parser.add_argument("--no-schedule", action="store_true", help="with --once: only drain the queues")
    parser.add_argument("--stage", default=LOCAL_STAGE, help="chalice stage whose variables apply")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[scheduler] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    problem = local_stack_problem(args.stage)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    # Metrics are disabled in the local stage; Powertools still warns on every invocation.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    scheduler = build_scheduler(args.stage)

    if args.once:
        result = scheduler.tick(fire_schedule=not args.no_schedule, build_snapshot=not args.no_schedule)
        log.info("%s", result.summary())
        return 0 if result.ok else 1

    stop = SignalStop()  # set by the signal handlers below

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    config = LocalStackConfig.from_env()
    log.info(
        "firing `%s` every %d s and `%s` every %d s (first right after the first sync), "
        "draining the sync and snapshot queues every %d s",
        SCHEDULE_HANDLER,
        config.sync_interval_seconds,
        SNAPSHOT_SCHEDULE_HANDLER,
        config.snapshot_interval_seconds,
        config.drain_interval_seconds,
    )
    scheduler.run_forever(
        stop,
        sync_interval_seconds=config.sync_interval_seconds,
        drain_interval_seconds=config.drain_interval_seconds,
        snapshot_interval_seconds=config.snapshot_interval_seconds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
