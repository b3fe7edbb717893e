"""Creates what the app needs in a (local) AWS endpoint: tables, the sync and snapshot queues, the snapshot
and resume upload buckets, secrets (the cursor signing key too), demo employers.

Idempotent: re-running keeps what exists (the webhook secret keeps its value; queue attributes are
re-applied) and, because API keys are only ever shown once, rotates the demo employers' keys so a
fresh, working key can be printed (pass ``rotate_existing_keys=False`` to leave them alone).

Used by ``make run`` (``local.run``), by tests against ``moto_server`` and by end-to-end tests:

    result = bootstrap("http://127.0.0.1:5001", names=BootstrapNames.from_settings(local_settings()),
                       stackone_api_key="sandbox_...")

Run by hand against a running stack: ``python -m local.bootstrap [--endpoint-url URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.aws.embloy_token_store import SecretsManagerEmbloyTokenStore
from chalicelib.aws.employers_repository import DynamoDBEmployersRepository
from chalicelib.aws.secret_store import SecretStore
from chalicelib.aws.table_schema import TTL_ATTRIBUTE, create_idempotency_table_kwargs, create_table_kwargs
from chalicelib.errors import NotFoundError
from chalicelib.services.embloy_tokens import EmbloyTokenService
from chalicelib.services.employers import EmployerService
from chalicelib.settings import Settings
from deploy.render import bucket_lifecycle_rules
from local.stack import DEFAULT_REGION, FAKE_AWS_CREDENTIALS, LocalStackConfig, local_settings
from sandbox.demo_employers import DEMO_EMPLOYERS, DemoEmployer
from sandbox.embloy import demo_client_token

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from mypy_boto3_sqs.client import SQSClient

# Powertools' idempotency table expires records on this attribute.
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
# A message that fails this many times moves to the dead-letter queue instead of retrying forever.
MAX_RECEIVE_COUNT = 5
# Locally a failed sync message comes back after this long (the scheduler deletes handled ones).
LOCAL_VISIBILITY_TIMEOUT_SECONDS = 60
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# Embloy applies to jobs of these ATSs; their demo employers get a client token the Embloy sandbox accepts.
EMBLOY_DEMO_PROVIDERS = frozenset({"ashby", "lever"})


@dataclass(frozen=True)
class BootstrapNames:
    """Resource names, normally taken from the app's settings for the local stage."""

    table_name: str
    idempotency_table_name: str
    queue_name: str
    stackone_api_key_secret_name: str
    webhook_secret_name: str
    embloy_secret_prefix: str
    snapshot_bucket_name: str
    snapshot_queue_name: str
    resume_upload_bucket_name: str = "job-board-resume-uploads"
    cursor_secret_name: str = "job-board/cursor-signing-key"
    snapshot_prefix: str = "board/snapshots/"
    email_queue_name: str = "job-board-email"
    numbers_queue_name: str = "job-board-numbers"

    @property
    def dead_letter_queue_name(self) -> str:
        return f"{self.queue_name}-dlq"

    @property
    def snapshot_dead_letter_queue_name(self) -> str:
        return f"{self.snapshot_queue_name}-dlq"

    @classmethod
    def from_settings(cls, settings: Settings) -> BootstrapNames:
        return cls(
            table_name=settings.table_name,
            idempotency_table_name=settings.idempotency_table_name,
            queue_name=settings.sync_queue_name,
            stackone_api_key_secret_name=settings.stackone_api_key_secret_name,
            webhook_secret_name=settings.webhook_secret_name,
            embloy_secret_prefix=settings.embloy_secret_prefix,
            snapshot_bucket_name=settings.board_snapshot_bucket,
            snapshot_queue_name=settings.board_snapshot_queue_name,
            resume_upload_bucket_name=settings.resume_upload_bucket,
            cursor_secret_name=settings.cursor_secret_name,
            snapshot_prefix=settings.board_snapshot_prefix,
            email_queue_name=settings.email_queue_name,
            numbers_queue_name=settings.numbers_queue_name,
        )


@dataclass(frozen=True)
class DemoEmployerAccess:
    """A demo employer after bootstrap; `api_key` is None when an existing key was left alone."""

    employer: DemoEmployer
    api_key: str | None
    created: bool
    embloy_configured: bool = False


@dataclass(frozen=True)
class BootstrapResult:
    queue_url: str
    dead_letter_queue_url: str
    webhook_secret: str
    employers: list[DemoEmployerAccess]
    snapshot_bucket: str
    snapshot_queue_url: str
    snapshot_dead_letter_queue_url: str
    email_queue_url: str = ""
    numbers_queue_url: str = ""
    resume_upload_bucket: str = ""
    created: list[str] = field(default_factory=list)  # resources this run created (empty on a re-run)


def _client_error_code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _ensure_table(
    dynamodb: DynamoDBClient, kwargs: dict[str, Any], ttl_attribute: str, created: list[str]
) -> None:
    from botocore.exceptions import ClientError

    name = kwargs["TableName"]
    try:
        dynamodb.create_table(**kwargs)
        created.append(f"table {name}")
    except ClientError as exc:
        if _client_error_code(exc) != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
        )


def _ensure_queue(sqs: SQSClient, name: str, attributes: dict[str, str], created: list[str]) -> str:
    from botocore.exceptions import ClientError

    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if _client_error_code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        created.append(f"queue {name}")
        return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)  # type: ignore[arg-type]
    return url


def _ensure_queue_with_dead_letter_queue(
    sqs: SQSClient, name: str, dead_letter_name: str, visibility_timeout_seconds: int, created: list[str]
) -> tuple[str, str]:
    """(queue URL, dead-letter queue URL): a failing message moves on after MAX_RECEIVE_COUNT receives."""
    dead_letter_url = _ensure_queue(
        sqs, dead_letter_name, {"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)}, created
    )
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    queue_url = _ensure_queue(
        sqs,
        name,
        {"VisibilityTimeout": str(visibility_timeout_seconds), "RedrivePolicy": json.dumps(redrive)},
        created,
    )
    return queue_url, dead_letter_url


def _ensure_bucket(s3: S3Client, name: str, region: str, created: list[str]) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=name)
        return
    except ClientError as exc:
        if _client_error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    if region == "us-east-1":  # the one region S3 refuses a LocationConstraint for
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
        )
    created.append(f"bucket {name}")


def _set_lifecycle(s3: S3Client, name: str, rules: list[dict[str, Any]]) -> None:
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={"Rules": rules},  # type: ignore[typeddict-item]
    )


def _ensure_secret(
    secretsmanager: SecretsManagerClient, name: str, value: str | None, created: list[str]
) -> str:
    """Create the secret; if it exists, overwrite it with `value` or keep it when `value` is None."""
    from botocore.exceptions import ClientError

    try:
        current = secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    except ClientError as exc:
        if _client_error_code(exc) != "ResourceNotFoundException":
            raise
        new_value = value if value is not None else secrets.token_urlsafe(32)
        secretsmanager.create_secret(Name=name, SecretString=new_value)
        created.append(f"secret {name}")
        return new_value
    if value is not None and value != current:
        secretsmanager.put_secret_value(SecretId=name, SecretString=value)
        return value
    return current


def _ensure_demo_employers(
    employers: EmployerService, demo_employers: Sequence[DemoEmployer], rotate_existing_keys: bool
) -> list[DemoEmployerAccess]:
    access: list[DemoEmployerAccess] = []
    for demo in demo_employers:
        try:
            employers.get(demo.employer_id)
        except NotFoundError:
            _, api_key = employers.create(demo.name, employer_id=demo.employer_id)
            access.append(DemoEmployerAccess(demo, api_key, created=True))
            continue
        api_key_or_none = employers.rotate_key(demo.employer_id) if rotate_existing_keys else None
        access.append(DemoEmployerAccess(demo, api_key_or_none, created=False))
    return access


def embloy_token_service(secretsmanager: SecretsManagerClient, table: Any, prefix: str) -> EmbloyTokenService:
    """The apply area's token service (secret + profile flags), uncached: the bootstrap writes once."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    secret_store = SecretStore(SecretsProvider(boto3_client=secretsmanager), max_age_seconds=0)
    store = SecretsManagerEmbloyTokenStore(
        secretsmanager, secret_store, table, prefix=prefix, negative_cache_seconds=0
    )
    return EmbloyTokenService(store)


def _with_embloy_token(item: DemoEmployerAccess, tokens: EmbloyTokenService) -> DemoEmployerAccess:
    """Upload a client token the Embloy sandbox accepts, fresh on every run (they expire like real ones)."""
    tokens.upload(item.employer.employer_id, demo_client_token(item.employer.employer_id))
    return DemoEmployerAccess(item.employer, item.api_key, item.created, embloy_configured=True)


def bootstrap(
    endpoint_url: str,
    *,
    names: BootstrapNames,
    stackone_api_key: str | None,
    region: str = DEFAULT_REGION,
    demo_employers: Sequence[DemoEmployer] = DEMO_EMPLOYERS,
    rotate_existing_keys: bool = True,
    visibility_timeout_seconds: int = LOCAL_VISIBILITY_TIMEOUT_SECONDS,
) -> BootstrapResult:
    """Create (or bring up to date) every local resource at `endpoint_url`; see the module docstring.

    `stackone_api_key` is stored under the StackOne key's secret name (None keeps an existing value).
    """
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=FAKE_AWS_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    s3 = session.client("s3", endpoint_url=endpoint_url)
    secretsmanager = session.client("secretsmanager", endpoint_url=endpoint_url)
    created: list[str] = []

    _ensure_table(dynamodb, create_table_kwargs(names.table_name), TTL_ATTRIBUTE, created)
    _ensure_table(
        dynamodb,
        create_idempotency_table_kwargs(names.idempotency_table_name),
        IDEMPOTENCY_TTL_ATTRIBUTE,
        created,
    )

    queue_url, dead_letter_url = _ensure_queue_with_dead_letter_queue(
        sqs, names.queue_name, names.dead_letter_queue_name, visibility_timeout_seconds, created
    )
    snapshot_queue_url, snapshot_dead_letter_url = _ensure_queue_with_dead_letter_queue(
        sqs,
        names.snapshot_queue_name,
        names.snapshot_dead_letter_queue_name,
        visibility_timeout_seconds,
        created,
    )
    email_queue_url, _email_dead_letter_url = _ensure_queue_with_dead_letter_queue(
        sqs, names.email_queue_name, f"{names.email_queue_name}-dlq", visibility_timeout_seconds, created
    )
    numbers_queue_url, _numbers_dead_letter_url = _ensure_queue_with_dead_letter_queue(
        sqs, names.numbers_queue_name, f"{names.numbers_queue_name}-dlq", visibility_timeout_seconds, created
    )
    # Each bucket gets the deployed bucket's lifecycle rules (deploy/resources.yaml), on every run.
    template_names = {"SnapshotPrefix": names.snapshot_prefix}
    _ensure_bucket(s3, names.snapshot_bucket_name, region, created)
    _set_lifecycle(s3, names.snapshot_bucket_name, bucket_lifecycle_rules("SnapshotBucket", template_names))
    # Candidates' browsers post resumes here (presigned POSTs; moto's server answers them with CORS).
    _ensure_bucket(s3, names.resume_upload_bucket_name, region, created)
    _set_lifecycle(
        s3, names.resume_upload_bucket_name, bucket_lifecycle_rules("ResumeUploadBucket", template_names)
    )

    _ensure_secret(secretsmanager, names.stackone_api_key_secret_name, stackone_api_key, created)
    webhook_secret = _ensure_secret(secretsmanager, names.webhook_secret_name, None, created)
    _ensure_secret(secretsmanager, names.cursor_secret_name, None, created)

    table = session.resource("dynamodb", endpoint_url=endpoint_url).Table(names.table_name)
    employers = EmployerService(DynamoDBEmployersRepository(table))
    access = _ensure_demo_employers(employers, demo_employers, rotate_existing_keys)
    tokens = embloy_token_service(secretsmanager, table, names.embloy_secret_prefix)
    access = [
        _with_embloy_token(item, tokens) if item.employer.provider in EMBLOY_DEMO_PROVIDERS else item
        for item in access
    ]

    return BootstrapResult(
        queue_url=queue_url,
        dead_letter_queue_url=dead_letter_url,
        webhook_secret=webhook_secret,
        employers=access,
        snapshot_bucket=names.snapshot_bucket_name,
        resume_upload_bucket=names.resume_upload_bucket_name,
        snapshot_queue_url=snapshot_queue_url,
        snapshot_dead_letter_queue_url=snapshot_dead_letter_url,
        email_queue_url=email_queue_url,
        numbers_queue_url=numbers_queue_url,
        created=created,
    )


def format_employers(access: Sequence[DemoEmployerAccess]) -> str:
    """A table of the demo employers and their keys, for a person at a terminal."""
    rows = [("employer id", "company", "ATS", "StackOne account", "Embloy", "API key")]
    for item in access:
        key = item.api_key or "(unchanged; rotate with `python -m local.bootstrap`)"
        demo = item.employer
        embloy = "token set" if item.embloy_configured else "-"
        rows.append((demo.employer_id, demo.name, demo.provider, demo.account_id, embloy, key))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return "\n".join(
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = LocalStackConfig.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m local.bootstrap",
        description="Create the local tables, queues, bucket, secrets and demo employers (idempotent).",
    )
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL") or config.moto_url,
        help="moto server URL (default: $AWS_ENDPOINT_URL or http://127.0.0.1:$LOCAL_MOTO_PORT)",
    )
    parser.add_argument(
        "--stackone-api-key",
        default=os.environ.get("LOCAL_STACKONE_API_KEY") or None,
        help="the StackOne sandbox's key to store (default: $LOCAL_STACKONE_API_KEY, else keep the stored)",
    )
    parser.add_argument(
        "--keep-keys", action="store_true", help="leave existing demo employers' API keys alone"
    )
    args = parser.parse_args(argv)
    result = bootstrap(
        args.endpoint_url,
        names=BootstrapNames.from_settings(local_settings()),
        stackone_api_key=args.stackone_api_key,
        region=config.region,
        rotate_existing_keys=not args.keep_keys,
    )
    created = ", ".join(result.created) or "nothing (all existed)"
    print(f"bootstrap against {args.endpoint_url}: created {created}")
    print(f"sync queue: {result.queue_url}")
    print(f"snapshot queue: {result.snapshot_queue_url}")
    print(f"email queue: {result.email_queue_url}")
    print(f"numbers queue: {result.numbers_queue_url}")
    print(f"snapshot bucket: {result.snapshot_bucket}")
    print(f"resume upload bucket: {result.resume_upload_bucket}")
    print("demo employers (API keys are shown once):")
    print(format_employers(result.employers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
