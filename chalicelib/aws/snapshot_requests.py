"""Asks the snapshot builder for a new board snapshot: one delayed SQS message per sync that changed postings.

The delivery delay debounces: a burst of account syncs finishing together becomes one build, because
the builder skips requests that the current snapshot already covers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors
from chalicelib.models.messages import SnapshotRequested

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


_QUEUE = AwsErrors("queue_unavailable", "The snapshot queue is unavailable.")


class SqsSnapshotRequests:
    def __init__(self, sqs_client: SQSClient, queue_url: str, *, delay_seconds: int) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url
        self._delay = delay_seconds

    @_QUEUE
    def request(self, message: SnapshotRequested) -> None:
        self._sqs.send_message(
            QueueUrl=self._queue_url, MessageBody=message.model_dump_json(), DelaySeconds=self._delay
        )
