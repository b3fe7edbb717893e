"""Queues counted events (one small message each) on the SQS numbers queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors
from chalicelib.models.numbers import CountedEvent

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_QUEUE = AwsErrors("numbers_queue_unavailable", "The event could not be counted right now.")


class SqsEventPublisher:
    """EventPublisher on the numbers queue."""

    def __init__(self, sqs_client: SQSClient, queue_url: str) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url

    def publish(self, event: CountedEvent) -> None:
        with _QUEUE:
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=event.model_dump_json())
