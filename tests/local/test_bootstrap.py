"""The bootstrap against a real moto server: what `make run` creates, and that re-running is safe."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.aws.board_snapshots import S3SnapshotStore
from chalicelib.aws.employers_repository import DynamoDBEmployersRepository
from chalicelib.services.board.snapshot import SnapshotManifest, describe_files, pack_directory
from chalicelib.services.employers import EmployerService
from local.bootstrap import (
    MAX_RECEIVE_COUNT,
    BootstrapNames,
    BootstrapResult,
    bootstrap,
    embloy_token_service,
)
from local.stack import PROJECT_DIR, local_settings
from sandbox.demo_employers import DEMO_EMPLOYERS
from sandbox.embloy import DEFAULT_CLIENT_TOKEN_SECRET, decode_jwt, demo_user_id

REGION = "eu-central-1"


def _session() -> Any:
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)


@pytest.fixture
def names() -> BootstrapNames:
    """Unique names per test, so tests sharing one moto server never see each other's resources."""
    suffix = uuid.uuid4().hex[:8]
    return BootstrapNames(
        table_name=f"board-{suffix}",
        idempotency_table_name=f"idempotency-{suffix}",
        queue_name=f"sync-{suffix}",
        stackone_api_key_secret_name=f"test/{suffix}/stackone-api-key",
        webhook_secret_name=f"test/{suffix}/webhook-secret",
        embloy_secret_prefix=f"test/{suffix}/embloy/",
        snapshot_bucket_name=f"snapshots-{suffix}",
        snapshot_queue_name=f"snapshot-{suffix}",
        resume_upload_bucket_name=f"uploads-{suffix}",
        cursor_secret_name=f"test/{suffix}/cursor-signing-key",
    )


def _employer_service(moto_server: str, table_name: str) -> EmployerService:
    table = _session().resource("dynamodb", endpoint_url=moto_server).Table(table_name)
    return EmployerService(DynamoDBEmployersRepository(table))


def _run(moto_server: str, names: BootstrapNames, **kwargs: Any) -> BootstrapResult:
    return bootstrap(moto_server, names=names, region=REGION, **kwargs)


def _redrive(sqs: Any, queue_url: str, dead_letter_queue_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the queue's redrive policy, what it should be: to the dead-letter queue after MAX_RECEIVE_COUNT)."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return json.loads(attributes["RedrivePolicy"]), {
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }


def test_bootstrap_creates_tables_queue_secrets_and_demo_employers(
    moto_server: str, names: BootstrapNames
) -> None:
    result = _run(moto_server, names, stackone_api_key="sandbox-key-1")

    dynamodb = _session().client("dynamodb", endpoint_url=moto_server)
    table = dynamodb.describe_table(TableName=names.table_name)["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}
    assert dynamodb.describe_time_to_live(TableName=names.table_name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    idempotency = dynamodb.describe_table(TableName=names.idempotency_table_name)["Table"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]

    sqs = _session().client("sqs", endpoint_url=moto_server)
    assert sqs.get_queue_url(QueueName=names.queue_name)["QueueUrl"] == result.queue_url
    redrive, expected = _redrive(sqs, result.queue_url, result.dead_letter_queue_url)
    assert redrive == expected

    # The board snapshots' queue (redriven like the sync queue) and bucket.
    assert sqs.get_queue_url(QueueName=names.snapshot_queue_name)["QueueUrl"] == result.snapshot_queue_url
    assert (
        sqs.get_queue_url(QueueName=names.snapshot_dead_letter_queue_name)["QueueUrl"]
        == result.snapshot_dead_letter_queue_url
    )
    redrive, expected = _redrive(sqs, result.snapshot_queue_url, result.snapshot_dead_letter_queue_url)
    assert redrive == expected
    s3 = _session().client("s3", endpoint_url=moto_server)
    assert result.snapshot_bucket == names.snapshot_bucket_name
    assert s3.get_bucket_location(Bucket=names.snapshot_bucket_name)["LocationConstraint"] == REGION

    secretsmanager = _session().client("secretsmanager", endpoint_url=moto_server)
    stored_key = secretsmanager.get_secret_value(SecretId=names.stackone_api_key_secret_name)
    assert stored_key["SecretString"] == "sandbox-key-1"
    stored_webhook = secretsmanager.get_secret_value(SecretId=names.webhook_secret_name)
    assert stored_webhook["SecretString"] == result.webhook_secret
    assert len(result.webhook_secret) >= 32

    table = _session().resource("dynamodb", endpoint_url=moto_server).Table(names.table_name)
    embloy_tokens = embloy_token_service(secretsmanager, table, names.embloy_secret_prefix)
    for access in result.employers:
        token_name = f"{names.embloy_secret_prefix}{access.employer.employer_id}"
        if access.employer.provider in ("ashby", "lever"):
            token = secretsmanager.get_secret_value(SecretId=token_name)["SecretString"]
            assert decode_jwt(token, DEFAULT_CLIENT_TOKEN_SECRET)["sub"] == demo_user_id(
                access.employer.employer_id
            )
            assert access.embloy_configured
            assert embloy_tokens.status(access.employer.employer_id).configured
        else:
            with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
                secretsmanager.get_secret_value(SecretId=token_name)
            assert not access.embloy_configured

    employers = _employer_service(moto_server, names.table_name)
    assert [access.employer.employer_id for access in result.employers] == [
        demo.employer_id for demo in DEMO_EMPLOYERS
    ]
    for access in result.employers:
        assert access.created
        assert access.api_key is not None
        assert employers.authenticate(access.api_key) == access.employer.employer_id
        assert employers.get(access.employer.employer_id).name == access.employer.name


def test_rerunning_bootstrap_keeps_resources_and_rotates_demo_keys(
    moto_server: str, names: BootstrapNames
) -> None:
    first = _run(moto_server, names, stackone_api_key="sandbox-key-1")
    second = _run(moto_server, names, stackone_api_key="sandbox-key-2")

    assert second.created == []
    assert second.queue_url == first.queue_url
    assert second.snapshot_queue_url == first.snapshot_queue_url
    assert second.snapshot_bucket == first.snapshot_bucket
    assert second.webhook_secret == first.webhook_secret
    secretsmanager = _session().client("secretsmanager", endpoint_url=moto_server)
    stored_key = secretsmanager.get_secret_value(SecretId=names.stackone_api_key_secret_name)
    assert stored_key["SecretString"] == "sandbox-key-2"

    employers = _employer_service(moto_server, names.table_name)
    for before, after in zip(first.employers, second.employers, strict=True):
        assert not after.created
        assert after.api_key is not None and after.api_key != before.api_key
        assert before.api_key is not None and employers.authenticate(before.api_key) is None
        assert employers.authenticate(after.api_key) == after.employer.employer_id


def test_rerunning_bootstrap_can_leave_keys_and_the_stored_stackone_key_alone(
    moto_server: str, names: BootstrapNames
) -> None:
    first = _run(moto_server, names, stackone_api_key="sandbox-key-1")
    second = _run(moto_server, names, stackone_api_key=None, rotate_existing_keys=False)

    assert all(access.api_key is None for access in second.employers)
    employers = _employer_service(moto_server, names.table_name)
    for access in first.employers:
        assert access.api_key is not None
        assert employers.authenticate(access.api_key) == access.employer.employer_id
    secretsmanager = _session().client("secretsmanager", endpoint_url=moto_server)
    stored_key = secretsmanager.get_secret_value(SecretId=names.stackone_api_key_secret_name)
    assert stored_key["SecretString"] == "sandbox-key-1"


def test_bootstrap_names_for_the_local_stage_come_from_chalice_config() -> None:
    names = BootstrapNames.from_settings(local_settings({}))

    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    local_env = config["stages"]["local"]["environment_variables"]
    assert names.table_name == local_env["BOARD_TABLE"]
    assert names.idempotency_table_name == local_env["IDEMPOTENCY_TABLE"]
    assert names.stackone_api_key_secret_name == local_env["STACKONE_API_KEY_SECRET"]
    assert names.webhook_secret_name == local_env["STACKONE_WEBHOOK_SECRET"]
    # Not set by the local stage: the app's defaults, which the app reads too.
    assert names.snapshot_bucket_name == local_settings({}).board_snapshot_bucket
    assert names.snapshot_queue_name == local_settings({}).board_snapshot_queue_name


def test_the_apps_snapshot_store_round_trips_through_the_bootstrapped_bucket_by_endpoint_alone(
    moto_server: str, names: BootstrapNames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app builds its S3 client from the environment only (no endpoint code): with `AWS_ENDPOINT_URL`
    on moto's loopback URL, botocore addresses the bucket path-style by itself; upload_file (multipart for
    a file over 8 MB), put_object and get_object all work."""
    result = _run(moto_server, names, stackone_api_key="sandbox-key-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    session = boto3.session.Session(region_name=REGION)  # as chalicelib.deps builds it
    built = tmp_path / "built"
    built.mkdir()
    (built / "segment.bin").write_bytes(os.urandom(9 * 1024 * 1024))
    (built / "meta.json").write_text('{"segments": 1}')
    manifest = SnapshotManifest(
        version="20260501T120000Z-abcdef",
        format=1,
        built_at="2026-05-01T12:00:00Z",
        changes_after="2026-05-01T11:59:30Z",
        postings=0,
        skipped=0,
        fingerprint=0,
        files=pack_directory(built, tmp_path / "packed"),
    )
    store = S3SnapshotStore(
        session.client("s3"),
        session.resource("dynamodb").Table(names.table_name),
        bucket=result.snapshot_bucket,
        prefix="board/snapshots/",
    )

    store.upload(manifest, tmp_path / "packed")
    assert store.publish(manifest)
    current = store.current()
    assert current == manifest
    downloaded = tmp_path / "downloaded"
    downloaded.mkdir()
    store.download(current, downloaded)

    assert describe_files(downloaded) == describe_files(built)
    keys = session.client("s3").list_objects_v2(Bucket=result.snapshot_bucket)["Contents"]
    assert sorted(item["Key"] for item in keys) == sorted(
        [f"board/snapshots/manifests/{manifest.version}.json"]
        + [f"board/snapshots/files/{file.sha256}" for file in manifest.files]
    )


def test_local_buckets_get_the_deployed_buckets_lifecycle_rules(
    moto_server: str, names: BootstrapNames
) -> None:
    # Resumes are personal data: locally too, an upload nobody applied with expires after a day.
    _run(moto_server, names, stackone_api_key="sandbox-key-1")
    s3 = _session().client("s3", endpoint_url=moto_server)

    (uploads,) = s3.get_bucket_lifecycle_configuration(Bucket=names.resume_upload_bucket_name)["Rules"]
    assert uploads["ID"] == "ExpireResumeUploads"
    assert uploads["Status"] == "Enabled"
    assert uploads["Filter"] == {"Prefix": "resumes/"}
    assert uploads["Expiration"] == {"Days": 1}
    assert uploads["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    (snapshots,) = s3.get_bucket_lifecycle_configuration(Bucket=names.snapshot_bucket_name)["Rules"]
    assert snapshots["Filter"] == {"Prefix": names.snapshot_prefix}
    assert snapshots["Expiration"] == {"Days": 7}
