"""The only place that knows how real collaborators are built: lazily, once per process.

Every component (`@_component`) is built on its first call and reused; `reset_dependencies()` forgets
the registered components and the settings (tests: an autouse fixture). Tests replace real collaborators
by setting up moto/respx before the first call. No business logic lives here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    import httpx
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from mypy_boto3_sqs.client import SQSClient

    from chalicelib.aws.alerts_repository import DynamoDBAlertStore
    from chalicelib.aws.application_records import DynamoDBApplicationRecords
    from chalicelib.aws.apply_postings import DynamoDBApplyPostings
    from chalicelib.aws.board_repository import DynamoDBBoardRepository
    from chalicelib.aws.board_snapshots import S3SnapshotStore
    from chalicelib.aws.email_queue import SqsEmailOutbox
    from chalicelib.aws.email_suppressions import DynamoDBEmailSuppressions
    from chalicelib.aws.embloy_token_store import SecretsManagerEmbloyTokenStore
    from chalicelib.aws.employers_repository import DynamoDBEmployersRepository
    from chalicelib.aws.idempotency import PowertoolsIdempotency, PowertoolsOnce
    from chalicelib.aws.numbers_repository import DynamoDBNumbers
    from chalicelib.aws.postings_repository import DynamoDBPostingsRepository
    from chalicelib.aws.resume_uploads import S3ResumeUploads
    from chalicelib.aws.secret_store import SecretStore
    from chalicelib.aws.snapshot_requests import SqsSnapshotRequests
    from chalicelib.aws.sync_now_limiter import DynamoDBSyncNowLimiter
    from chalicelib.aws.sync_queue import SqsSyncPublisher
    from chalicelib.aws.sync_state_repository import DynamoDBSyncStateRepository
    from chalicelib.clients.embloy.client import EmbloyClient
    from chalicelib.clients.stackone.client import StackOneClient
    from chalicelib.clients.stackone.rate_budget import SharedRateBudget
    from chalicelib.services.accounts import AccountsService
    from chalicelib.services.alert_digests import AlertDigestService
    from chalicelib.services.alert_links import AlertLinks
    from chalicelib.services.alerts import AlertService
    from chalicelib.services.applications import ApplicationsService
    from chalicelib.services.apply import EmbloyApplyService, NativeApplyService, RecordPolicy
    from chalicelib.services.board.service import BoardService
    from chalicelib.services.board.snapshot import SnapshotBuilder
    from chalicelib.services.connect import ConnectSessionService
    from chalicelib.services.email import EmailDispatcher, EmailRenderer, EmailSender
    from chalicelib.services.email_events import EmailEventsService
    from chalicelib.services.embloy_tokens import EmbloyTokenService
    from chalicelib.services.employer_notifications import (
        ApplicationsDigestService,
        ConnectionAttentionNotifier,
        EmployerNotificationService,
    )
    from chalicelib.services.employers import EmployerService
    from chalicelib.services.metrics import MetricsSink
    from chalicelib.services.numbers import EventRecorder, NumbersAggregator, NumbersService
    from chalicelib.services.rate_limits import PublicWriteLimiter
    from chalicelib.services.resume_uploads import ResumeUploadService
    from chalicelib.services.sync import SyncPolicy, SyncService
    from chalicelib.services.webhooks import WebhookService


_T = TypeVar("_T")
_COMPONENTS: list[functools._lru_cache_wrapper[Any]] = []


def _component(factory: Callable[[], _T]) -> functools._lru_cache_wrapper[_T]:
    """Build on first call, then reuse for the life of the process; `reset_dependencies()` forgets it."""
    cached = functools.cache(factory)
    _COMPONENTS.append(cached)
    return cached


@_component
def get_boto3_session() -> Any:
    import boto3  # heavy: loaded on first use, not at import of the app

    return boto3.session.Session()


def aws_config(service: str) -> Any:
    """botocore Config for every AWS client: explicit connect/read timeouts and a small standard-mode
    retry budget. These are the ceilings; inside an API request the request deadline cuts both to the
    time left (`chalicelib/aws/deadline.py`)."""
    from botocore.config import Config

    settings = get_settings()
    read_timeout = settings.aws_read_timeout_seconds
    pool = 10  # botocore's default
    if service == "s3":
        read_timeout = settings.aws_s3_read_timeout_seconds
        # One connection per snapshot range in flight (a fuller pool would open and drop connections).
        pool = max(pool, settings.board_snapshot_download_concurrency)
    return Config(
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts},
        max_pool_connections=pool,
    )


def aws_client(service: str, config: Any = None) -> Any:
    """A boto3 client of the shared session with `aws_config` (or `config`), bound to the request
    deadline (no client is built at import time)."""
    from chalicelib.aws.deadline import bound_to_request_deadline

    client = get_boto3_session().client(service, config=config or aws_config(service))
    return bound_to_request_deadline(client)


@_component
def get_table() -> Table:
    from chalicelib.aws.deadline import bound_to_request_deadline

    resource = get_boto3_session().resource("dynamodb", config=aws_config("dynamodb"))
    bound_to_request_deadline(resource.meta.client)
    table: Table = resource.Table(get_settings().table_name)
    return table


@_component
def get_sqs_client() -> SQSClient:
    client: SQSClient = aws_client("sqs")
    return client


@_component
def get_secrets_provider() -> Any:
    """Powertools SecretsProvider: values are cached in-process for `secrets_max_age_seconds`."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws_client("secretsmanager"))


def cursor_key(purpose: str) -> bytes:
    """A per-purpose cursor signing key derived from the deployment's cursor secret (Secrets Manager)."""
    import hashlib
    import hmac

    secret = get_secret_store().get(get_settings().cursor_secret_name)
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


@_component
def get_secret_store() -> SecretStore:
    from chalicelib.aws.secret_store import SecretStore

    return SecretStore(get_secrets_provider(), max_age_seconds=get_settings().secrets_max_age_seconds)


@_component
def get_stackone_http() -> httpx.Client:
    """StackOne's httpx client: Basic auth base64("<api key>:"), the key read from Secrets Manager."""

    from chalicelib.clients.http import build_http_client
    from chalicelib.clients.stackone.auth import StackOneKeyAuth

    settings = get_settings()
    secret_name = settings.stackone_api_key_secret_name

    def api_key() -> str:
        # Read per request through the cached store: no Secrets Manager call while the cache is fresh,
        # and a rotated key is used once the cached value passes its max age.
        return get_secret_store().get(secret_name)

    return build_http_client(
        settings.stackone_base_url,
        timeout_seconds=settings.stackone_timeout_seconds,
        auth=StackOneKeyAuth(api_key),
        headers={"Accept": "application/json"},
    )


@_component
def get_metrics_sink() -> MetricsSink:
    from chalicelib.observability import PowertoolsMetricsSink

    return PowertoolsMetricsSink()


@_component
def get_stackone_rate_budget() -> SharedRateBudget | None:
    """The request budget of the StackOne key, shared by every function through one table item."""
    from chalicelib.aws.rate_budget import DynamoDBWindowCounter
    from chalicelib.clients.stackone.rate_budget import SharedRateBudget

    settings = get_settings()
    if settings.stackone_rate_limit_per_minute <= 0:
        return None
    counter = DynamoDBWindowCounter(get_table(), f"stackone#{settings.stackone_api_key_secret_name}")
    return SharedRateBudget(counter, per_minute=settings.stackone_rate_limit_per_minute)


@_component
def get_stackone_client() -> StackOneClient:
    from chalicelib.clients.stackone.client import StackOneClient

    settings = get_settings()
    return StackOneClient(
        get_stackone_http(),
        postings_page_size=settings.sync_page_size,
        retry_budget_seconds=settings.stackone_retry_budget_seconds,
        max_attempts=settings.stackone_max_attempts,
        backoff_base_seconds=settings.stackone_backoff_base_seconds,
        on_rate_limited=lambda: get_metrics_sink().count("StackOneRateLimited", 1),
        rate_budget=get_stackone_rate_budget(),
        rate_wait_seconds=settings.stackone_rate_wait_seconds,
    )


@_component
def get_postings_repository() -> DynamoDBPostingsRepository:
    from chalicelib.aws.postings_repository import DynamoDBPostingsRepository

    return DynamoDBPostingsRepository(get_table())


def sync_policy() -> SyncPolicy:
    """The sync's knobs from settings."""
    from chalicelib.services.sync import SyncPolicy

    settings = get_settings()
    return SyncPolicy(
        overlap_seconds=settings.sync_overlap_seconds,
        full_every_n_runs=settings.sync_full_every_n_runs,
        full_max_age_seconds=settings.sync_full_max_age_seconds,
        time_budget_seconds=settings.sync_time_budget_seconds,
        ats_providers=frozenset(settings.allowed_providers) or None,
        max_pages=settings.sync_max_pages,
        existence_sweep_seconds=settings.sync_existence_sweep_seconds,
        fan_out_budget_seconds=settings.sync_fan_out_budget_seconds,
        broken_link_grace_seconds=settings.broken_link_grace_hours * 3600,
        # The worker's Lambda timeout is the time budget plus a minute to record the outcome.
        stale_run_seconds=settings.sync_time_budget_seconds + 60,
    )


@_component
def get_sync_service() -> SyncService:
    from chalicelib.services.sync import RepositoryEmployerRegistry, SyncService

    return SyncService(
        get_stackone_client(),
        get_postings_repository(),
        get_sync_state_repository(),
        get_sync_publisher(),
        policy=sync_policy(),
        metrics=get_metrics_sink(),
        departments=get_sync_state_repository(),
        employers=RepositoryEmployerRegistry(get_employers_repository()),
        attention=get_connection_attention_notifier(),
    )


@_component
def get_employers_repository() -> DynamoDBEmployersRepository:

    from chalicelib.aws.employers_repository import DynamoDBEmployersRepository

    return DynamoDBEmployersRepository(get_table())


@_component
def get_employer_service() -> EmployerService:
    from chalicelib.services.employers import EmployerService

    return EmployerService(get_employers_repository(), cache_ttl_seconds=get_settings().api_key_cache_seconds)


@_component
def get_sync_publisher() -> SqsSyncPublisher:
    from chalicelib.aws.sync_queue import SqsSyncPublisher

    return SqsSyncPublisher(get_sqs_client(), get_settings().sync_queue_url)


@_component
def get_sync_state_repository() -> DynamoDBSyncStateRepository:
    from chalicelib.aws.sync_state_repository import DynamoDBSyncStateRepository

    return DynamoDBSyncStateRepository(get_table())


@_component
def get_board_repository() -> DynamoDBBoardRepository:
    from chalicelib.aws.board_repository import DynamoDBBoardRepository

    return DynamoDBBoardRepository(get_table())


@_component
def get_s3_client() -> S3Client:
    client: S3Client = aws_client("s3")
    return client


@_component
def get_snapshot_store() -> S3SnapshotStore:
    from chalicelib.aws.board_snapshots import S3SnapshotStore

    settings = get_settings()
    return S3SnapshotStore(
        get_s3_client(),
        get_table(),
        bucket=settings.board_snapshot_bucket,
        prefix=settings.board_snapshot_prefix,
        download_part_bytes=settings.board_snapshot_range_bytes,
        download_concurrency=settings.board_snapshot_download_concurrency,
    )


@_component
def get_resume_uploads() -> S3ResumeUploads:
    from botocore.config import Config

    from chalicelib.aws.resume_uploads import S3ResumeUploads

    settings = get_settings()
    # Virtual-hosted addressing makes presigned forms post to the bucket's regional endpoint
    # (`<bucket>.s3.<region>.amazonaws.com`): the global one redirects for new buckets and does not
    # serve opt-in regions. Against a local endpoint (moto) botocore still uses path style.
    config = aws_config("s3").merge(Config(s3={"addressing_style": "virtual"}))
    s3 = aws_client("s3", config)
    return S3ResumeUploads(
        s3,
        settings.require("resume_upload_bucket"),
        max_bytes=settings.resume_upload_max_bytes,
        expires_seconds=settings.resume_upload_expires_seconds,
    )


@_component
def get_board_service() -> BoardService:
    """The per-process board: opened from the newest snapshot, kept fresh from the change feed."""
    from pathlib import Path

    from chalicelib.services.board.service import BoardService

    settings = get_settings()
    return BoardService(
        get_board_repository(),
        get_snapshot_store(),
        local_directory=Path(settings.board_local_directory),
        public_base_url=settings.public_base_url,
        board_name=settings.board_name,
        # Cursors are self-validating (see services/board/cursor.py); every process of a deployment
        # derives the same key from the stack's secret, so a cursor works on any instance.
        cursor_key=cursor_key("board-cursor"),
        embloy_providers=settings.embloy_supported_providers,
        refresh_seconds=settings.board_refresh_seconds,
        pages_per_refresh=settings.board_refresh_pages_per_shard,
        read_wait_seconds=settings.board_read_wait_seconds,
        overlap_seconds=settings.board_change_overlap_seconds,
        snapshot_check_seconds=settings.board_snapshot_check_seconds,
        snapshot_switch_changes=settings.board_snapshot_switch_changes,
        apply_batch=settings.board_apply_batch,
        apply_flags_max_age_seconds=settings.board_apply_flags_max_age_seconds,
        facet_limit=settings.board_facet_limit,
        feed_limit=settings.board_feed_limit,
        sitemap_max_urls=settings.board_sitemap_max_urls,
    )


@_component
def get_snapshot_builder() -> SnapshotBuilder:
    from pathlib import Path

    from chalicelib.services.board.snapshot import SnapshotBuilder

    settings = get_settings()
    return SnapshotBuilder(
        get_board_repository(),
        get_snapshot_store(),
        work_directory=Path(settings.board_local_directory) / "build",
        overlap_seconds=settings.board_change_overlap_seconds,
    )


@_component
def get_snapshot_requests() -> SqsSnapshotRequests | None:
    """Where sync runs ask for a new snapshot; None when no queue is configured (then only the schedule)."""
    from chalicelib.aws.snapshot_requests import SqsSnapshotRequests

    settings = get_settings()
    if not settings.board_snapshot_queue_url:
        return None
    return SqsSnapshotRequests(
        get_sqs_client(),
        settings.board_snapshot_queue_url,
        delay_seconds=settings.board_snapshot_debounce_seconds,
    )


def get_webhook_service() -> WebhookService:
    from chalicelib.aws.webhook_replays import DynamoDBWebhookReplayGuard
    from chalicelib.services.webhooks import WebhookService

    settings = get_settings()
    secret_name = settings.webhook_secret_name
    return WebhookService(
        lambda: get_secret_store().get(secret_name),
        get_sync_service(),
        DynamoDBWebhookReplayGuard(get_table()),
        tolerance_seconds=settings.webhook_tolerance_seconds,
    )


# Idempotency records outlive any redelivery of a run's message.
SYNC_IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@_component
def get_sync_once() -> PowertoolsOnce:
    """At most one sync per (account_id, run_id): a redelivered SQS message is a no-op."""
    from chalicelib.aws.idempotency import PowertoolsOnce

    return PowertoolsOnce(
        get_settings().idempotency_table_name,
        key_prefix="job-board.sync-account",
        key_jmespath="[account_id, run_id]",
        expires_after_seconds=SYNC_IDEMPOTENCY_TTL_SECONDS,
        boto3_client=aws_client("dynamodb"),
    )


@_component
def get_secrets_client() -> SecretsManagerClient:
    client: SecretsManagerClient = aws_client("secretsmanager")
    return client


@_component
def get_embloy_token_store() -> SecretsManagerEmbloyTokenStore:
    from chalicelib.aws.embloy_token_store import SecretsManagerEmbloyTokenStore

    settings = get_settings()
    return SecretsManagerEmbloyTokenStore(
        get_secrets_client(),
        get_secret_store(),
        get_table(),
        prefix=settings.embloy_secret_prefix,
        negative_cache_seconds=settings.secrets_max_age_seconds,
    )


@_component
def get_embloy_token_service() -> EmbloyTokenService:
    from chalicelib.services.embloy_tokens import EmbloyTokenService

    return EmbloyTokenService(get_embloy_token_store())


@_component
def get_embloy_client() -> EmbloyClient:
    """Embloy's httpx client: no credentials on it; each employer's client token travels per call."""
    from chalicelib.clients.embloy.client import EmbloyClient
    from chalicelib.clients.http import build_http_client

    settings = get_settings()
    http = build_http_client(
        settings.embloy_api_url,
        timeout_seconds=settings.embloy_timeout_seconds,
        headers={"User-Agent": f"{settings.board_name} (job board)"},
    )
    return EmbloyClient(http)


@_component
def get_apply_postings() -> DynamoDBApplyPostings:
    from chalicelib.aws.apply_postings import DynamoDBApplyPostings

    return DynamoDBApplyPostings(get_table())


@_component
def get_application_records() -> DynamoDBApplicationRecords:
    from chalicelib.aws.application_records import DynamoDBApplicationRecords

    return DynamoDBApplicationRecords(get_table())


@_component
def get_idempotency() -> PowertoolsIdempotency:
    from chalicelib.aws.idempotency import PowertoolsIdempotency

    settings = get_settings()
    return PowertoolsIdempotency(
        settings.idempotency_table_name,
        expires_after_seconds=settings.idempotency_expires_seconds,
        boto3_client=aws_client("dynamodb"),
    )


def get_record_policy() -> RecordPolicy:
    from chalicelib.services.apply import RecordPolicy

    return RecordPolicy(retention_days=get_settings().application_retention_days)


@_component
def get_embloy_apply_service() -> EmbloyApplyService:
    from chalicelib.services.apply import EmbloyApplyService

    settings = get_settings()
    return EmbloyApplyService(
        get_apply_postings(),
        get_embloy_token_store(),
        get_embloy_client(),
        get_application_records(),
        public_base_url=settings.public_base_url,
        portal_base_url=settings.embloy_portal_url,
        record_policy=get_record_policy(),
        limiter=get_public_write_limiter(),
    )


@_component
def get_native_apply_service() -> NativeApplyService:
    from chalicelib.services.apply import NativeApplyPolicy, NativeApplyService

    settings = get_settings()
    return NativeApplyService(
        get_apply_postings(),
        get_apply_postings(),
        get_stackone_client(),
        get_application_records(),
        get_idempotency(),
        NativeApplyPolicy(
            board_name=settings.board_name,
            resume_max_bytes=settings.resume_max_bytes,
            resume_upload_max_bytes=settings.resume_upload_max_bytes,
            duplicate_window_seconds=settings.duplicate_window_seconds,
            record_policy=get_record_policy(),
            public_base_url=settings.public_base_url,
        ),
        uploads=get_resume_uploads() if settings.resume_upload_bucket else None,
        metrics=get_metrics_sink(),
        limiter=get_public_write_limiter(),
        closer=get_sync_service(),
        outbox=get_configured_email_outbox(),
    )


@_component
def get_public_write_limiter() -> PublicWriteLimiter:
    from chalicelib.aws.rate_counters import DynamoDBRateCounters
    from chalicelib.services.rate_limits import PublicWriteLimiter

    settings = get_settings()
    return PublicWriteLimiter(
        DynamoDBRateCounters(get_table()),
        limit=settings.apply_rate_limit,
        window_seconds=settings.apply_rate_window_seconds,
        salt=cursor_key("public-write-rate").hex(),
    )


@_component
def get_resume_upload_service() -> ResumeUploadService:
    from chalicelib.services.apply import load_live_posting
    from chalicelib.services.resume_uploads import ResumeUploadService

    postings = get_apply_postings()
    return ResumeUploadService(lambda job_id: load_live_posting(postings, job_id), get_resume_uploads())


@_component
def get_sync_now_limiter() -> DynamoDBSyncNowLimiter:
    from chalicelib.aws.sync_now_limiter import DynamoDBSyncNowLimiter

    return DynamoDBSyncNowLimiter(get_table())


@_component
def get_accounts_service() -> AccountsService:
    from chalicelib.services.accounts import AccountsService

    return AccountsService(
        get_stackone_client(),
        get_sync_state_repository(),
        get_sync_publisher(),
        get_sync_now_limiter(),
        sync_now_min_interval_seconds=get_settings().sync_now_min_interval_seconds,
        stale_run_seconds=get_settings().sync_time_budget_seconds + 60,
    )


@_component
def get_applications_service() -> ApplicationsService:
    from chalicelib.services.applications import ApplicationsCursorCodec, ApplicationsService

    # The cursor MAC is an integrity check (tampered cursors -> 400), not access control: every query is
    # keyed on the authenticated employer.
    return ApplicationsService(
        get_application_records(),
        get_stackone_client(),
        ApplicationsCursorCodec(cursor_key("applications-cursor")),
        postings=get_apply_postings(),
    )


@_component
def get_connect_session_service() -> ConnectSessionService:
    from chalicelib.services.connect import ConnectSessionService

    settings = get_settings()
    return ConnectSessionService(
        get_stackone_client(),
        get_employer_service(),
        get_accounts_service(),
        allowed_providers=settings.allowed_providers,
        expires_in_seconds=settings.connect_session_expires_in,
    )


def reset_dependencies() -> None:
    """Forget every built component and the settings (tests; never needed in Lambda)."""
    get_settings.cache_clear()
    for component in _COMPONENTS:
        component.cache_clear()


@_component
def get_email_renderer() -> EmailRenderer:
    from chalicelib.services.email import EmailRenderer

    settings = get_settings()
    return EmailRenderer(board_name=settings.board_name, public_base_url=settings.require("public_base_url"))


@_component
def get_email_sender() -> EmailSender:
    """SES (API v2) when deployed; SMTP to the mail catcher in the local stack."""
    settings = get_settings()
    sender = settings.require("email_from_address")
    if settings.email_transport == "smtp":
        from chalicelib.clients.smtp import SmtpEmailSender

        return SmtpEmailSender(settings.smtp_host, settings.smtp_port, sender=sender)
    from chalicelib.aws.ses_email import SesEmailSender

    return SesEmailSender(
        aws_client("sesv2"), sender=sender, configuration_set=settings.ses_configuration_set
    )


@_component
def get_email_suppressions() -> DynamoDBEmailSuppressions:
    from chalicelib.aws.email_suppressions import DynamoDBEmailSuppressions

    return DynamoDBEmailSuppressions(get_table())


@_component
def get_email_outbox() -> SqsEmailOutbox:
    from chalicelib.aws.email_queue import SqsEmailOutbox

    return SqsEmailOutbox(get_sqs_client(), get_settings().require("email_queue_url"))


def get_configured_email_outbox() -> SqsEmailOutbox | None:
    """The email queue, or None where none is configured (a deployed function always has one: its URL
    is required at runtime), so a process without email still serves everything else."""
    return get_email_outbox() if get_settings().email_queue_url else None


@_component
def get_email_dispatcher() -> EmailDispatcher:
    """Sends queued emails: at most once per key (idempotency table), within SES's send rate."""
    from chalicelib.aws.idempotency import PowertoolsOnce
    from chalicelib.aws.rate_budget import DynamoDBWindowCounter
    from chalicelib.clients.stackone.rate_budget import SharedRateBudget
    from chalicelib.services.email import EmailDispatcher

    settings = get_settings()
    once = PowertoolsOnce(
        settings.idempotency_table_name,
        key_prefix="job-board.email",
        key_jmespath="key",
        expires_after_seconds=7 * 86400,
        boto3_client=aws_client("dynamodb"),
    )
    rate = SharedRateBudget(
        DynamoDBWindowCounter(get_table(), "email#ses"),
        per_minute=max(1, int(settings.email_send_rate_per_second * 60)),
    )
    return EmailDispatcher(
        get_email_renderer(), get_email_sender(), get_email_suppressions(), once, rate=rate
    )


@_component
def get_alert_links() -> AlertLinks:
    from chalicelib.services.alert_links import AlertLinks

    return AlertLinks(cursor_key("alert-links"), pages_base_url=get_settings().require("public_base_url"))


def get_email_events_service(forget_address: Callable[[str], int] | None = None) -> EmailEventsService:
    """Bounces and complaints: suppress the address, then `forget_address(email_hash)` (its alerts)."""
    from chalicelib.aws.email_suppressions import address_hash
    from chalicelib.services.email_events import EmailEventsService

    return EmailEventsService(
        get_email_suppressions(),
        forget_address or (lambda email_hash: get_alert_store().delete_all_for_address(email_hash)),
        hash_address=address_hash,
    )


def employer_console_url() -> str:
    """The employer console's absolute URL (where emails send employers to reconnect or read more)."""
    return f"{get_settings().require('public_base_url').rstrip('/')}/employer"


@_component
def get_employer_notification_service() -> EmployerNotificationService:
    from chalicelib.services.employer_notifications import EmployerNotificationService

    return EmployerNotificationService(get_employers_repository())


@_component
def get_connection_attention_notifier() -> ConnectionAttentionNotifier | None:
    """Emails employers about connections that need attention; None where no email queue is configured."""
    from chalicelib.services.employer_notifications import ConnectionAttentionNotifier

    outbox = get_configured_email_outbox()
    if outbox is None:
        return None
    return ConnectionAttentionNotifier(get_employers_repository(), outbox, console_url=employer_console_url())


@_component
def get_applications_digest_service() -> ApplicationsDigestService:
    from chalicelib.services.employer_notifications import ApplicationsDigestService

    return ApplicationsDigestService(
        get_employers_repository(),
        get_application_records(),
        get_email_outbox(),
        console_url=employer_console_url(),
    )


@_component
def get_alert_store() -> DynamoDBAlertStore:
    from chalicelib.aws.alerts_repository import DynamoDBAlertStore

    return DynamoDBAlertStore(get_table())


@_component
def get_alert_service() -> AlertService:
    from chalicelib.aws.rate_counters import DynamoDBRateCounters
    from chalicelib.services.alerts import AlertPolicy, AlertService

    settings = get_settings()
    return AlertService(
        get_alert_store(),
        get_email_outbox(),
        get_alert_links(),
        DynamoDBRateCounters(get_table()),
        AlertPolicy(
            board_url=settings.require("public_base_url"),
            max_per_address=settings.alerts_per_address_max,
            client_limit=settings.alert_subscribe_rate_limit,
            client_window_seconds=settings.alert_subscribe_window_seconds,
            address_limit=settings.alert_address_rate_limit,
            address_window_seconds=settings.alert_address_window_seconds,
            salt=cursor_key("alert-rate").hex(),
        ),
    )


@_component
def get_alert_digest_service() -> AlertDigestService:
    """The digest schedule's service: due alerts from the alert store, the board caught up with its feed."""
    from chalicelib.services.alert_digests import AlertDigestService, DigestPolicy

    settings = get_settings()
    board = get_board_service()
    return AlertDigestService(
        get_alert_store(),
        board.fresh_board,
        get_email_outbox(),
        get_alert_links(),
        public_base_url=settings.require("public_base_url"),
        policy=DigestPolicy(
            schedule_minutes=settings.alert_digest_schedule_minutes,
            max_postings=settings.alert_digest_max_postings,
            settle_seconds=settings.alert_digest_settle_seconds,
            time_budget_seconds=settings.alert_digest_time_budget_seconds,
            workers=settings.alert_digest_workers,
        ),
    )


# ---- per-job numbers (docs/numbers.md) -----------------------------------------------------------------
@_component
def get_numbers_sqs_client() -> SQSClient:
    """The counting path's SQS client: one attempt, cut off at NUMBERS_SEND_TIMEOUT_SECONDS, so a slow
    queue costs a page view at most that long (the event is lost instead)."""
    from botocore.config import Config

    timeout = get_settings().numbers_send_timeout_seconds
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1})
    client: SQSClient = aws_client("sqs", config)
    return client


@_component
def get_event_recorder() -> EventRecorder | None:
    """Counts views, apply starts, applications and Embloy clicks; None where no numbers queue is set."""
    from chalicelib.aws.numbers_queue import SqsEventPublisher
    from chalicelib.services.numbers import CrawlerDetectClassifier, EventRecorder

    settings = get_settings()
    if not settings.numbers_queue_url:
        return None
    return EventRecorder(
        SqsEventPublisher(get_numbers_sqs_client(), settings.numbers_queue_url),
        CrawlerDetectClassifier(),
        on_lost=lambda: get_metrics_sink().count("NumbersEventsLost", 1),
    )


@_component
def get_numbers_store() -> DynamoDBNumbers:
    from chalicelib.aws.numbers_repository import DynamoDBNumbers

    return DynamoDBNumbers(get_table(), retention_days=get_settings().numbers_retention_days)


@_component
def get_numbers_aggregator() -> NumbersAggregator:
    from chalicelib.services.numbers import NumbersAggregator, OwnerCache, job_owner

    postings = get_apply_postings()
    return NumbersAggregator(get_numbers_store(), OwnerCache(lambda job_id: job_owner(postings, job_id)))


@_component
def get_numbers_service() -> NumbersService:
    from chalicelib.services.numbers import NumbersService

    return NumbersService(get_numbers_store(), get_apply_postings())
