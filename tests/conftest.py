"""Shared fixtures: fake AWS (moto), the app's test client, and resets between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# Fake, inert credentials before anything can build a boto3 client; never touch a real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "APP_STAGE": "test",
        "POWERTOOLS_SERVICE_NAME": "job-board",
        "POWERTOOLS_METRICS_NAMESPACE": "JobBoard",
        "POWERTOOLS_DEV": "false",
        "STACKONE_BASE_URL": "https://api.stackone.test",
        "EMBLOY_API_URL": "https://api.embloy.test",
        "EMBLOY_PORTAL_URL": "https://embloy.test",
        "PUBLIC_BASE_URL": "https://board.test",
        # Outside the local stage every name is required (settings fail closed).
        "BOARD_TABLE": "job-board",
        "IDEMPOTENCY_TABLE": "job-board-idempotency",
        "SYNC_QUEUE_NAME": "job-board-sync",
        "BOARD_SNAPSHOT_QUEUE_NAME": "job-board-snapshot",
        "STACKONE_API_KEY_SECRET": "job-board/stackone-api-key",
        "STACKONE_WEBHOOK_SECRET": "job-board/stackone-webhook-secret",
        "CURSOR_SIGNING_SECRET": "job-board/cursor-signing-key",
        "EMBLOY_SECRET_PREFIX": "job-board/embloy/",
        "BOARD_SNAPSHOT_BUCKET": "job-board-snapshots",
        "RESUME_UPLOAD_BUCKET": "job-board-resume-uploads",
    }
)
os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)
for _name in list(os.environ):
    if _name.startswith("AWS_ENDPOINT_URL"):
        del os.environ[_name]

from aws_lambda_powertools.utilities import parameters  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import deps  # noqa: E402
from chalicelib.aws.table_schema import create_idempotency_table_kwargs, create_table_kwargs  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402

CURSOR_SIGNING_KEY = "test-cursor-signing-key"


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Each test's board process unpacks snapshots into its own directory.
    monkeypatch.setenv("BOARD_LOCAL_DIRECTORY", str(tmp_path_factory.mktemp("board")))
    yield
    deps.reset_dependencies()
    get_settings.cache_clear()
    parameters.clear_caches()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS service, with the application and idempotency tables created."""
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb")
        settings = get_settings()
        client.create_table(**create_table_kwargs(settings.table_name))
        client.create_table(**create_idempotency_table_kwargs(settings.idempotency_table_name))
        s3 = boto3.client("s3")
        for bucket in (settings.board_snapshot_bucket, settings.resume_upload_bucket):
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_DEFAULT_REGION"]},  # type: ignore[typeddict-item]
            )
        boto3.client("secretsmanager").create_secret(
            Name=settings.cursor_secret_name, SecretString=CURSOR_SIGNING_KEY
        )
        yield


@pytest.fixture
def client(aws: None) -> Iterator[Any]:
    """chalice.test.Client over the real app, on moto."""
    from chalice.test import Client

    from app import app

    # An undeclared stage: only the top-level environment of .chalice/config.json applies during requests.
    with Client(app, stage_name="test") as test_client:
        yield test_client


@pytest.fixture
def employer(aws: None) -> tuple[str, str]:
    """(employer_id, api_key) of a freshly created employer."""
    created, api_key = deps.get_employer_service().create("Acme Robotics")
    return created.employer_id, api_key


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
