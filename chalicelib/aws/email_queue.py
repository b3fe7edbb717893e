"""Queues emails to send on the SQS email queue (batched, 10 per SendMessageBatch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.messages import EmailRequested

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_SQS_BATCH = 10
_QUEUE = AwsErrors("email_queue_unavailable", "Email cannot be queued right now; try again shortly.")


class SqsEmailOutbox:
    def __init__(self, sqs_client: SQSClient, queue_url: str) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url

    def enqueue(self, messages: Sequence[EmailRequested]) -> int:
        """Queue every message; how many were queued. UpstreamUnavailableError when the queue fails."""
        queued = 0
        for start in range(0, len(messages), _SQS_BATCH):
            batch = messages[start : start + _SQS_BATCH]
            entries = [
                {"Id": str(index), "MessageBody": message.model_dump_json()}
                for index, message in enumerate(batch)
            ]
            with _QUEUE:
                result = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)  # type: ignore[arg-type]
            if result.get("Failed"):
                raise UpstreamUnavailableError(
                    "The email queue refused messages.", code="email_queue_unavailable"
                )
            queued += len(result.get("Successful", []))
        return queued
