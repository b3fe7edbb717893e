"""Publishes SyncRequested messages to the sync queue (batched, 10 per SendMessageBatch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors
from chalicelib.aws.sqs_batches import send_in_batches
from chalicelib.models.messages import SyncRequested

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_QUEUE = AwsErrors("queue_unavailable", "The sync queue is unavailable.")


class SqsSyncPublisher:
    def __init__(self, sqs_client: SQSClient, queue_url: str) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url

    def publish(self, messages: Sequence[SyncRequested]) -> int:
        """Send every message; returns how many were sent. Raises UpstreamUnavailableError on failure."""
        return send_in_batches(self._sqs, self._queue_url, [m.model_dump_json() for m in messages], _QUEUE)
