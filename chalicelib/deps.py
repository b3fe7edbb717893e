"""The only place that knows how real collaborators are built: lazily, once per process.

Every `get_*` is cached on first call; tests call `reset_dependencies()` (autouse fixture) or
`override(...)`-style replacement by setting up moto/respx before the first call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    import httpx
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_sqs.client import SQSClient

    from chalicelib.aws.employers_repository import DynamoDBEmployersRepository
    from chalicelib.aws.postings_repository import DynamoDBPostingsRepository
    from chalicelib.aws.secret_store import SecretStore
    from chalicelib.aws.sync_queue import SqsSyncPublisher
    from chalicelib.aws.sync_state_repository import DynamoDBSyncStateRepository
    from chalicelib.clients.stackone.client import StackOneClient
    from chalicelib.services.employers import EmployerService
    from chalicelib.services.sync import MetricsSink, SyncPolicy, SyncService
    from chalicelib.services.webhooks import WebhookService


@functools.cache
def get_boto3_session() -> Any:
    import boto3  # heavy: loaded on first use, not at import of the app

    return boto3.session.Session()


@functools.cache
def get_table() -> Table:
    return get_boto3_session().resource("dynamodb").Table(get_settings().table_name)


@functools.cache
def get_sqs_client() -> SQSClient:
    return get_boto3_session().client("sqs")


@functools.cache
def get_secrets_provider() -> Any:
    """Powertools SecretsProvider: values are cached in-process for `secrets_max_age_seconds`."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=get_boto3_session().client("secretsmanager"))


@functools.cache
def get_secret_store() -> SecretStore:
    from chalicelib.aws.secret_store import SecretStore

    return SecretStore(get_secrets_provider(), max_age_seconds=get_settings().secrets_max_age_seconds)


@functools.cache
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


@functools.cache
def get_metrics_sink() -> MetricsSink:
    from chalicelib.observability import PowertoolsMetricsSink

    return PowertoolsMetricsSink()


@functools.cache
def get_stackone_client() -> StackOneClient:
    from chalicelib.clients.stackone.client import StackOneClient

    settings = get_settings()
    return StackOneClient(
        get_stackone_http(),
        postings_page_size=settings.sync_page_size,
        retry_budget_seconds=settings.stackone_retry_budget_seconds,
        max_attempts=settings.stackone_max_attempts,
        on_rate_limited=lambda: get_metrics_sink().count("StackOneRateLimited", 1),
    )


@functools.cache
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
    )


@functools.cache
def get_sync_service() -> SyncService:
    from chalicelib.services.sync import SyncService

    return SyncService(
        get_stackone_client(),
        get_postings_repository(),
        get_sync_state_repository(),
        get_sync_publisher(),
        policy=sync_policy(),
        metrics=get_metrics_sink(),
    )


@functools.cache
def get_employers_repository() -> DynamoDBEmployersRepository:

    from chalicelib.aws.employers_repository import DynamoDBEmployersRepository

    return DynamoDBEmployersRepository(get_table())


@functools.cache
def get_employer_service() -> EmployerService:
    from chalicelib.services.employers import EmployerService

    return EmployerService(get_employers_repository())


@functools.cache
def get_sync_publisher() -> SqsSyncPublisher:
    from chalicelib.aws.sync_queue import SqsSyncPublisher

    return SqsSyncPublisher(get_sqs_client(), get_settings().sync_queue_url)


@functools.cache
def get_sync_state_repository() -> DynamoDBSyncStateRepository:
    from chalicelib.aws.sync_state_repository import DynamoDBSyncStateRepository

    return DynamoDBSyncStateRepository(get_table())


@functools.cache
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


@functools.cache
def get_sync_idempotency() -> tuple[Any, Callable[..., dict[str, Any]]]:
    """(IdempotencyConfig, sync function) for the SQS worker: a duplicate (account_id, run_id) is a no-op.

    Built on first use: the persistence layer creates a boto3 client.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from chalicelib.models.messages import SyncRequested

    config = IdempotencyConfig(
        event_key_jmespath="[account_id, run_id]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=SYNC_IDEMPOTENCY_TTL_SECONDS,
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table_name,
        boto3_client=get_boto3_session().client("dynamodb"),
    )

    @idempotent_function(data_keyword_argument="message", persistence_store=persistence, config=config)
    def sync_once(message: dict[str, Any]) -> dict[str, Any]:
        request = SyncRequested.model_validate(message)
        return get_sync_service().sync_account(request.account_id, request.run_id, request.mode).as_dict()

    return config, sync_once


def reset_dependencies() -> None:
    """Forget every built collaborator (tests; never needed in Lambda)."""
    for name, value in list(globals().items()):
        if name.startswith("get_") and hasattr(value, "cache_clear"):
            value.cache_clear()
