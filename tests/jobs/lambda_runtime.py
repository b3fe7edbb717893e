"""Invoke one function the way Lambda does: a fresh interpreter imports the module of its handler string
and calls the attribute with the event and a context. AWS is moto (in this process), StackOne a respx stub.

    python -m tests.jobs.lambda_runtime <handler string> <event JSON>

Everything the handler prints (Powertools' EMF metric lines among it) goes to stdout; the last line is
`RESULT <json>` with the handler's return value.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any


@dataclass
class LambdaContext:
    """The attributes Powertools' logger, metrics and idempotency read from Lambda's context."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:job-board-test"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _prepare_aws() -> None:
    import boto3

    from chalicelib.aws.table_schema import create_idempotency_table_kwargs, create_table_kwargs
    from chalicelib.settings import get_settings

    settings = get_settings()
    region = os.environ["AWS_DEFAULT_REGION"]
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**create_table_kwargs(settings.table_name))
    dynamodb.create_table(**create_idempotency_table_kwargs(settings.idempotency_table_name))
    s3 = boto3.client("s3")
    for bucket in (settings.board_snapshot_bucket, settings.resume_upload_bucket):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})  # type: ignore[typeddict-item]
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=settings.stackone_api_key_secret_name, SecretString="v1.test-key\n")
    secrets.create_secret(Name=settings.cursor_secret_name, SecretString="cursor-key")
    sqs = boto3.client("sqs")
    sqs.create_queue(QueueName=settings.sync_queue_name)
    sqs.create_queue(QueueName=settings.board_snapshot_queue_name)
    sqs.create_queue(QueueName=settings.email_queue_name)


def main(argv: list[str]) -> int:
    handler_string, event_json = argv
    from moto import mock_aws

    from tests.sync_support import stackone_stub

    with mock_aws():
        _prepare_aws()
        stubs = stackone_stub()
        stackone = next(stubs)
        stackone.add_account("acc1", postings=3)
        module_name, attribute = handler_string.rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), attribute)
        result: Any = handler(json.loads(event_json), LambdaContext(function_name=attribute))
        stubs.close()
    print("RESULT " + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
