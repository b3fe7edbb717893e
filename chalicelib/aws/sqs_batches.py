"""Sends message bodies to one SQS queue, 10 per SendMessageBatch (SQS's limit), for every publisher."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors
from chalicelib.errors import UpstreamUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_SQS_BATCH = 10


def send_in_batches(sqs: SQSClient, queue_url: str, bodies: Sequence[str], errors: AwsErrors) -> int:
    """Send every body; how many were sent. A failed call or a refused entry raises
    UpstreamUnavailableError with `errors`' code."""
    sent = 0
    for start in range(0, len(bodies), _SQS_BATCH):
        entries = [
            {"Id": str(index), "MessageBody": body}
            for index, body in enumerate(bodies[start : start + _SQS_BATCH])
        ]
        with errors:
            result = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
        if result.get("Failed"):
            raise UpstreamUnavailableError(errors.message, code=errors.code)
        sent += len(result.get("Successful", []))
    return sent
