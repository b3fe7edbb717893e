"""The local scheduler against a real moto server whose SQS stalls (a loopback proxy that accepts and
never answers), then answers again: the loop logs, backs off and drains what waited."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.config import Config
from chalice import Chalice
from chalice.app import SQSEvent

from bench.stall_proxy import StallingProxy
from local.scheduler import LambdaLimits, LocalScheduler

QUEUE = "stall-sync"


def _wait_for(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll a condition of other threads, bounded (generous: this asserts progress, not speed)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def sqs_proxy(moto_server: str) -> Iterator[StallingProxy]:
    address = urlparse(moto_server)
    with StallingProxy((str(address.hostname), int(address.port or 80)), name="sqs") as proxy:
        yield proxy


def _client(endpoint: str, **config: Any) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="eu-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config),
    )


def test_the_scheduler_survives_a_stalled_sqs_and_drains_once_it_answers(
    moto_server: str, sqs_proxy: StallingProxy
) -> None:
    direct = _client(moto_server)
    queue_url = direct.create_queue(QueueName=QUEUE)["QueueUrl"]
    handled: list[str] = []
    app = Chalice(app_name="stall")

    @app.on_sqs_message(queue=QUEUE, batch_size=1)
    def sync_account(event: SQSEvent) -> None:
        handled.extend(record.body for record in event)

    # The scheduler reaches SQS through the proxy, with short timeouts and no retries (a stall of
    # seconds then spans several ticks).
    through_proxy = _client(
        sqs_proxy.url,
        connect_timeout=1,
        read_timeout=0.5,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    scheduler = LocalScheduler(
        app, through_proxy, queue_url=queue_url, region="eu-central-1", limits=LambdaLimits("local", {})
    )
    warnings = _Warnings()
    logging.getLogger("local.scheduler").addHandler(warnings)
    stop = threading.Event()
    loop = threading.Thread(
        target=scheduler.run_forever,
        args=(stop,),
        kwargs={"sync_interval_seconds": 3600, "drain_interval_seconds": 0.1, "max_backoff_seconds": 0.4},
        daemon=True,
    )
    try:
        direct.send_message(QueueUrl=queue_url, MessageBody="before")
        loop.start()
        _wait_for("the first message", lambda: handled == ["before"])

        # GIVEN SQS stalls while a message waits
        with sqs_proxy.stalled():
            direct_during = _client(moto_server)  # the producer side is not behind the proxy
            direct_during.send_message(QueueUrl=queue_url, MessageBody="during")
            # THEN the scheduler logs failed ticks and keeps running
            _wait_for("three failed ticks", lambda: len(warnings.messages) >= 3)
            assert loop.is_alive()
            assert handled == ["before"]

        # AND once SQS answers again it drains what waited
        _wait_for("the message queued during the stall", lambda: handled == ["before", "during"])
        assert loop.is_alive()
        assert all("`sync_account` queue unavailable" in message for message in warnings.messages)
        assert sqs_proxy.held_connections >= 1
    finally:
        stop.set()
        loop.join(timeout=30)
        logging.getLogger("local.scheduler").removeHandler(warnings)
    assert not loop.is_alive()
