"""Queues emails to send on the SQS email queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors
from chalicelib.aws.sqs_batches import send_in_batches
from chalicelib.models.messages import EmailRequested

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_QUEUE = AwsErrors("email_queue_unavailable", "Email cannot be queued right now; try again shortly.")


class SqsEmailOutbox:
    def __init__(self, sqs_client: SQSClient, queue_url: str) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url

    def enqueue(self, messages: Sequence[EmailRequested]) -> int:
        """Queue every message; how many were queued. UpstreamUnavailableError when the queue fails."""
        return send_in_batches(self._sqs, self._queue_url, [m.model_dump_json() for m in messages], _QUEUE)
