"""The one translation point for AWS failures, and every adapter of `chalicelib/aws` going through it.

Each adapter is built on a boto3 client whose calls fail (botocore's own event hooks, see
tests/aws_failures.py) and every operation must surface as UpstreamUnavailableError with the adapter's code:
never a ClientError, BotoCoreError or Powertools error, and never a silent success.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from moto import mock_aws

from chalicelib.aws.application_records import DynamoDBApplicationRecords
from chalicelib.aws.apply_postings import DynamoDBApplyPostings
from chalicelib.aws.board_repository import DynamoDBBoardRepository
from chalicelib.aws.board_snapshots import S3SnapshotStore
from chalicelib.aws.embloy_token_store import SecretsManagerEmbloyTokenStore
from chalicelib.aws.employers_repository import DynamoDBEmployersRepository
from chalicelib.aws.errors import AwsErrors, ConditionFailedError, NoSuchResourceError
from chalicelib.aws.idempotency import PowertoolsIdempotency
from chalicelib.aws.postings_repository import DynamoDBPostingsRepository
from chalicelib.aws.rate_budget import DynamoDBWindowCounter
from chalicelib.aws.rate_counters import DynamoDBRateCounters
from chalicelib.aws.resume_uploads import S3ResumeUploads
from chalicelib.aws.secret_store import SecretStore
from chalicelib.aws.snapshot_requests import SqsSnapshotRequests
from chalicelib.aws.sync_now_limiter import DynamoDBSyncNowLimiter
from chalicelib.aws.sync_queue import SqsSyncPublisher
from chalicelib.aws.sync_state_repository import DynamoDBSyncStateRepository
from chalicelib.aws.webhook_replays import DynamoDBWebhookReplayGuard
from chalicelib.errors import ConflictError, NotFoundError, UpstreamUnavailableError
from chalicelib.models.applications import ApplicationRecord
from chalicelib.models.messages import SnapshotRequested, SyncRequested
from chalicelib.models.sync_state import AccountSyncState, DepartmentsCache
from chalicelib.services.apply import IdempotentRequest
from chalicelib.services.board.snapshot import SnapshotManifest, describe_files
from chalicelib.services.employers import Employer
from chalicelib.settings import get_settings
from tests.api.apply_factories import make_posting
from tests.aws_failures import OUTAGES, client_error, fail_calls

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


# The translation point itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("outage", OUTAGES.values(), ids=OUTAGES.keys())
def test_aws_failures_become_a_typed_503_with_the_adapters_code(outage: str | BaseException) -> None:
    error = client_error(outage) if isinstance(outage, str) else copy.copy(outage)

    with (
        pytest.raises(UpstreamUnavailableError) as raised,
        AwsErrors("table_unavailable", "The table is unavailable."),
    ):
        raise error

    assert raised.value.code == "table_unavailable"
    assert raised.value.message == "The table is unavailable."
    assert raised.value.__cause__ is error  # the operator's trail stays on the exception


def test_a_failed_condition_is_never_an_outage() -> None:
    with pytest.raises(ConditionFailedError) as raised, AwsErrors("table_unavailable"):
        raise client_error("ConditionalCheckFailedException", "PutItem")

    assert isinstance(raised.value, ConflictError)  # 409 where no adapter gives it a meaning
    assert not isinstance(raised.value, UpstreamUnavailableError)


def test_expected_codes_are_mapped_before_the_503() -> None:
    translation = AwsErrors(
        "secret_store_unavailable",
        expect={"ResourceNotFoundException": NoSuchResourceError, "InvalidRequestException": ConflictError},
    )

    with pytest.raises(NoSuchResourceError), translation:
        raise client_error("ResourceNotFoundException")
    with pytest.raises(ConflictError), translation:
        raise client_error("InvalidRequestException")
    with pytest.raises(UpstreamUnavailableError), translation:  # any other code is still an outage
        raise client_error("AccessDeniedException")


def test_a_wrapped_aws_error_is_read_through_its_context() -> None:
    class Wrapper(Exception):
        pass

    translation = AwsErrors(
        "secret_unavailable", expect={"ResourceNotFoundException": NoSuchResourceError}, also=(Wrapper,)
    )

    with pytest.raises(NoSuchResourceError), translation:
        try:
            raise client_error("ResourceNotFoundException")
        except ClientError:
            raise Wrapper("wrapped")  # noqa: B904 (as Powertools does: the ClientError is the context)
    with pytest.raises(UpstreamUnavailableError), translation:
        raise Wrapper("no AWS error inside")


def test_a_timeout_while_handling_an_expected_error_is_still_an_outage() -> None:
    translation = AwsErrors("table_unavailable", expect={"ValidationException": NoSuchResourceError})

    with pytest.raises(UpstreamUnavailableError):
        try:
            raise client_error("ValidationException")
        except ClientError:
            with translation:  # e.g. retrying item by item after a batch was refused
                raise ReadTimeoutError(endpoint_url="https://aws.test")  # noqa: B904 (the context is the point)


def test_other_exceptions_and_successes_pass_through_untouched() -> None:
    translation = AwsErrors("table_unavailable")

    @translation
    def answer(value: int) -> int:
        return value * 2

    assert answer(21) == 42
    assert answer(4) == 8  # reusable: the decorator and the context manager hold no per-call state
    with pytest.raises(KeyError), translation:
        raise KeyError("our bug stays our bug")
    with pytest.raises(NotFoundError), translation:
        raise NotFoundError()


# Every adapter ----------------------------------------------------------------------------------------


# Failing clients hold no state (every call fails before it is sent), so each is built once per module.
@functools.cache
def _table(failure: str | BaseException) -> Any:
    table = boto3.resource("dynamodb").Table(get_settings().table_name)
    fail_calls(table.meta.client, failure)
    return table


@functools.cache
def _client(service: str, failure: str | BaseException) -> Any:
    client = boto3.client(service)  # type: ignore[call-overload]  # the service is a parameter
    fail_calls(client, failure)
    return client


def _record() -> ApplicationRecord:
    return ApplicationRecord(
        record_id="r1",
        employer_id="emp-a",
        job_id="job-1",
        account_id="acct-1",
        posting_id="post-1",
        channel="native",
        outcome="submitted",
        submitted_at=NOW,
        expires_at=1,
        application_status="submitted",
    )


def _manifest(directory: Path) -> SnapshotManifest:
    return SnapshotManifest(
        version="v1",
        format=1,
        built_at="2026-11-01T09:00:00.000Z",
        changes_after="2026-11-01T09:00:00.000Z",
        postings=0,
        skipped=0,
        fingerprint=1,
        files=describe_files(directory),
    )


def _secret_store(failure: str | BaseException) -> SecretStore:
    return SecretStore(SecretsProvider(boto3_client=_client("secretsmanager", failure)), max_age_seconds=60)


def _token_store(failure: str | BaseException, *, failing: str) -> SecretsManagerEmbloyTokenStore:
    healthy = boto3.resource("dynamodb").Table(get_settings().table_name)
    secrets = _client("secretsmanager", failure) if failing == "secrets" else boto3.client("secretsmanager")
    return SecretsManagerEmbloyTokenStore(
        secrets,
        _secret_store(failure)
        if failing == "secrets"
        else SecretStore(SecretsProvider(), max_age_seconds=60),
        _table(failure) if failing == "table" else healthy,
        prefix="embloy/",
        negative_cache_seconds=60,
    )


def _snapshot_store(failure: str | BaseException, *, failing: str) -> S3SnapshotStore:
    s3 = _client("s3", failure) if failing == "s3" else boto3.client("s3")
    table = (
        _table(failure) if failing == "table" else boto3.resource("dynamodb").Table(get_settings().table_name)
    )
    return S3SnapshotStore(s3, table, bucket=get_settings().board_snapshot_bucket, prefix="snapshots/")


Call = Callable[[str | BaseException, Path], object]

# (adapter operation, the code its 503 carries)
OPERATIONS: dict[str, tuple[Call, str]] = {
    # application records
    "records.put": (lambda f, _: DynamoDBApplicationRecords(_table(f)).put(_record()), "table_unavailable"),
    "records.update_status": (
        lambda f, _: DynamoDBApplicationRecords(_table(f)).update_status(_record()),
        "table_unavailable",
    ),
    "records.list_for_employer": (
        lambda f, _: DynamoDBApplicationRecords(_table(f)).list_for_employer(
            "emp-a", job_id=None, limit=10, start_key=None
        ),
        "table_unavailable",
    ),
    "records.outcomes": (
        lambda f, _: DynamoDBApplicationRecords(_table(f)).outcomes("emp-a"),
        "table_unavailable",
    ),
    "records.claim_guard": (
        lambda f, _: DynamoDBApplicationRecords(_table(f)).claim_guard("job", "h", now=1, until=2),
        "table_unavailable",
    ),
    "records.release_guard": (
        lambda f, _: DynamoDBApplicationRecords(_table(f)).release_guard("job", "h"),
        "table_unavailable",
    ),
    # apply postings
    "apply.get_posting": (
        lambda f, _: DynamoDBApplyPostings(_table(f)).get_posting("a", "p"),
        "table_unavailable",
    ),
    "apply.mark_native_apply_unsupported": (
        lambda f, _: DynamoDBApplyPostings(_table(f)).mark_native_apply_unsupported("a"),
        "table_unavailable",
    ),
    # board
    "board.load_live": (
        lambda f, _: list(DynamoDBBoardRepository(_table(f)).load_live()),
        "board_unavailable",
    ),
    "board.changes": (
        lambda f, _: DynamoDBBoardRepository(_table(f)).changes(0, "2026-01-01", None),
        "board_unavailable",
    ),
    "board.posting": (
        lambda f, _: DynamoDBBoardRepository(_table(f)).posting(make_posting().job_id),
        "board_unavailable",
    ),
    "board.apply_flags": (
        lambda f, _: DynamoDBBoardRepository(_table(f)).apply_flags("emp-a", "acct-1"),
        "board_unavailable",
    ),
    # board snapshots
    "snapshots.current": (lambda f, _: _snapshot_store(f, failing="table").current(), "board_unavailable"),
    "snapshots.publish": (
        lambda f, d: _snapshot_store(f, failing="table").publish(_manifest(d)),
        "board_unavailable",
    ),
    "snapshots.upload": (
        lambda f, d: _snapshot_store(f, failing="s3").upload(_manifest(d), d),
        "board_unavailable",
    ),
    "snapshots.download": (
        lambda f, d: _snapshot_store(f, failing="s3").download(_manifest(d), d),
        "board_unavailable",
    ),
    # Embloy token store
    "embloy.get_token": (
        lambda f, _: _token_store(f, failing="secrets").get_token("emp-a"),
        "secret_unavailable",
    ),
    "embloy.get_status": (
        lambda f, _: _token_store(f, failing="table").get_status("emp-a"),
        "table_unavailable",
    ),
    "embloy.put_token": (
        lambda f, _: _token_store(f, failing="secrets").put_token("emp-a", "token", "2026-11-22T12:00:00Z"),
        "secret_store_unavailable",
    ),
    "embloy.put_token.profile": (
        lambda f, _: _token_store(f, failing="table").put_token("emp-a", "token", "2026-11-22T12:00:00Z"),
        "table_unavailable",
    ),
    "embloy.delete_token": (
        lambda f, _: _token_store(f, failing="secrets").delete_token("emp-a", "2026-11-22T12:00:00Z"),
        "secret_store_unavailable",
    ),
    "embloy.flag_needs_renewal": (
        lambda f, _: _token_store(f, failing="table").flag_needs_renewal("emp-a"),
        "table_unavailable",
    ),
    # employers
    "employers.put_employer": (
        lambda f, _: DynamoDBEmployersRepository(_table(f)).put_employer(
            Employer(employer_id="emp-a", name="Acme", created_at=NOW)
        ),
        "table_unavailable",
    ),
    "employers.get_employer": (
        lambda f, _: DynamoDBEmployersRepository(_table(f)).get_employer("emp-a"),
        "table_unavailable",
    ),
    "employers.list_employers": (
        lambda f, _: DynamoDBEmployersRepository(_table(f)).list_employers(),
        "table_unavailable",
    ),
    "employers.put_key": (
        lambda f, _: DynamoDBEmployersRepository(_table(f)).put_key("h", "emp-a", NOW),
        "table_unavailable",
    ),
    "employers.get_key": (
        lambda f, _: DynamoDBEmployersRepository(_table(f)).get_key("h"),
        "table_unavailable",
    ),
    "employers.revoke_key": (
        lambda f, _: DynamoDBEmployersRepository(_table(f)).revoke_key("h", NOW),
        "table_unavailable",
    ),
    "employers.set_current_key": (
        lambda f, _: DynamoDBEmployersRepository(_table(f)).set_current_key("emp-a", None),
        "table_unavailable",
    ),
    # idempotency
    "idempotency.run": (
        lambda f, _: PowertoolsIdempotency(
            get_settings().idempotency_table_name,
            expires_after_seconds=60,
            boto3_client=_client("dynamodb", f),
        ).run(IdempotentRequest(scope="job", key="k", payload_hash="h"), lambda: {"ok": True}),
        "idempotency_unavailable",
    ),
    # postings
    "postings.load_account": (
        lambda f, _: DynamoDBPostingsRepository(_table(f)).load_account("a"),
        "table_unavailable",
    ),
    "postings.load_index": (
        lambda f, _: DynamoDBPostingsRepository(_table(f)).load_index("a"),
        "table_unavailable",
    ),
    "postings.get_many": (
        lambda f, _: DynamoDBPostingsRepository(_table(f)).get_many("a", ["p"]),
        "table_unavailable",
    ),
    "postings.get": (lambda f, _: DynamoDBPostingsRepository(_table(f)).get("a", "p"), "table_unavailable"),
    "postings.write": (
        lambda f, _: DynamoDBPostingsRepository(_table(f)).write([(make_posting(), "hash")]),
        "table_unavailable",
    ),
    # rate limiting
    "rate_budget.try_take": (
        lambda f, _: DynamoDBWindowCounter(_table(f), "key").try_take(1, 10),
        "rate_budget_unavailable",
    ),
    "rate_counters.hit": (
        lambda f, _: DynamoDBRateCounters(_table(f)).hit(
            "apply", "ip", window_start=0, window_seconds=60, limit=5
        ),
        "storage_unavailable",
    ),
    "sync_now.try_acquire": (
        lambda f, _: DynamoDBSyncNowLimiter(_table(f), now=lambda: NOW).try_acquire("a", 60),
        "storage_unavailable",
    ),
    "sync_now.release": (lambda f, _: DynamoDBSyncNowLimiter(_table(f)).release("a"), "storage_unavailable"),
    # resume uploads
    "resumes.read": (
        lambda f, _: S3ResumeUploads(
            _client("s3", f), get_settings().resume_upload_bucket, max_bytes=10, expires_seconds=60
        ).read("resumes/x", max_bytes=10),
        "upload_storage_unavailable",
    ),
    "resumes.delete": (
        lambda f, _: S3ResumeUploads(
            _client("s3", f), get_settings().resume_upload_bucket, max_bytes=10, expires_seconds=60
        ).delete("resumes/x"),
        "upload_storage_unavailable",
    ),
    # secrets
    "secrets.get": (lambda f, _: _secret_store(f).get("name"), "secret_unavailable"),
    "secrets.get_optional": (lambda f, _: _secret_store(f).get_optional("name"), "secret_unavailable"),
    # queues
    "snapshot_requests.request": (
        lambda f, _: SqsSnapshotRequests(_client("sqs", f), "https://sqs.test/q", delay_seconds=0).request(
            SnapshotRequested(requested_at="2026-11-22T12:00:00Z")
        ),
        "queue_unavailable",
    ),
    "sync_queue.publish": (
        lambda f, _: SqsSyncPublisher(_client("sqs", f), "https://sqs.test/q").publish(
            [SyncRequested(account_id="a", run_id="r")]
        ),
        "queue_unavailable",
    ),
    # sync state
    "sync_state.get": (lambda f, _: DynamoDBSyncStateRepository(_table(f)).get("a"), "table_unavailable"),
    "sync_state.get_many": (
        lambda f, _: DynamoDBSyncStateRepository(_table(f)).get_many(["a"]),
        "table_unavailable",
    ),
    "sync_state.put": (
        lambda f, _: DynamoDBSyncStateRepository(_table(f)).put(AccountSyncState(account_id="a")),
        "table_unavailable",
    ),
    "sync_state.get_departments": (
        lambda f, _: DynamoDBSyncStateRepository(_table(f)).get_departments("a"),
        "table_unavailable",
    ),
    "sync_state.put_departments": (
        lambda f, _: DynamoDBSyncStateRepository(_table(f)).put_departments(
            "a", DepartmentsCache(content_hash="h")
        ),
        "table_unavailable",
    ),
    "sync_state.list_account_ids": (
        lambda f, _: DynamoDBSyncStateRepository(_table(f)).list_account_ids(),
        "table_unavailable",
    ),
    # webhooks
    "webhooks.claim": (
        lambda f, _: DynamoDBWebhookReplayGuard(_table(f)).claim("d", now=NOW, expires_at=NOW),
        "table_unavailable",
    ),
}


@pytest.fixture
def moto() -> Iterator[None]:
    """moto without tables or buckets: every call here fails before it is sent, nothing needs to exist."""
    with mock_aws():
        yield


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    (tmp_path / "meta.json").write_text("{}")
    return tmp_path


@pytest.mark.parametrize("outage", ["service_error", "read_timeout"])
@pytest.mark.parametrize("operation", OPERATIONS.keys())
def test_every_adapter_operation_answers_an_aws_failure_with_its_503(
    moto: None, snapshot_dir: Path, operation: str, outage: str
) -> None:
    call, code = OPERATIONS[operation]

    with pytest.raises(UpstreamUnavailableError) as raised:
        call(OUTAGES[outage], snapshot_dir)

    assert raised.value.code == code
    assert not isinstance(raised.value, ClientError | BotoCoreError)


def test_a_missing_table_is_an_outage_not_a_missing_item(aws: None) -> None:
    table = boto3.resource("dynamodb").Table("no-such-table")  # ResourceNotFoundException from moto

    with pytest.raises(UpstreamUnavailableError) as raised:
        DynamoDBSyncStateRepository(table).get("a")

    assert raised.value.code == "table_unavailable"


def test_a_missing_secret_is_still_none_and_a_failing_one_a_503(aws: None) -> None:
    assert SecretStore(SecretsProvider(), max_age_seconds=60).get_optional("no-such-secret") is None
    with pytest.raises(UpstreamUnavailableError):
        _secret_store("AccessDeniedException").get_optional("name")


def test_the_webhook_replay_release_swallows_an_outage(moto: None) -> None:
    DynamoDBWebhookReplayGuard(_table(OUTAGES["unreachable"])).release("d")  # the claim simply expires


def test_lost_races_keep_their_meaning(aws: None) -> None:
    table = boto3.resource("dynamodb").Table(get_settings().table_name)
    records = DynamoDBApplicationRecords(table)
    counters = DynamoDBRateCounters(table)
    limiter = DynamoDBSyncNowLimiter(table, now=lambda: NOW)
    replays = DynamoDBWebhookReplayGuard(table)
    employers = DynamoDBEmployersRepository(table)
    employer = Employer(employer_id="emp-a", name="Acme", created_at=NOW)

    assert records.claim_guard("job", "h", now=1, until=100) is True
    assert records.claim_guard("job", "h", now=2, until=100) is False
    assert counters.hit("s", "x", window_start=0, window_seconds=60, limit=1) is True
    assert counters.hit("s", "x", window_start=0, window_seconds=60, limit=1) is False
    assert limiter.try_acquire("a", 60) is None
    assert limiter.try_acquire("a", 60) == 60
    assert replays.claim("d", now=NOW, expires_at=NOW.replace(year=2027)) is True
    assert replays.claim("d", now=NOW, expires_at=NOW.replace(year=2027)) is False
    employers.put_employer(employer)
    with pytest.raises(ConflictError) as raised:
        employers.put_employer(employer)
    assert raised.value.code == "employer_exists"
    records.update_status(_record())  # no such record: nothing written, no error
    assert records.list_for_employer("emp-a", job_id=None, limit=10, start_key=None)[0] == []
