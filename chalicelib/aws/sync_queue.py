"""Publishes SyncRequested messages to the sync queue (batched, 10 per SendMessageBatch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.messages import SyncRequested

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_SQS_BATCH = 10
_QUEUE = AwsErrors("queue_unavailable", "The sync queue is unavailable.")


class SqsSyncPublisher:
    def __init__(self, sqs_client: SQSClient, queue_url: str) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url

    def publish(self, messages: Sequence[SyncRequested]) -> int:
        """Send every message; returns how many were sent. Raises UpstreamUnavailableError on failure."""
        sent = 0
        for start in range(0, len(messages), _SQS_BATCH):
            batch = messages[start : start + _SQS_BATCH]
            entries = [
                {"Id": str(index), "MessageBody": message.model_dump_json()}
                for index, message in enumerate(batch)
            ]
            with _QUEUE:
                result = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)  # type: ignore[arg-type]
            if result.get("Failed"):
                raise UpstreamUnavailableError("The sync queue refused messages.", code="queue_unavailable")
            sent += len(result.get("Successful", []))
        return sent
