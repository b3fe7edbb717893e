"""The only place that knows how real collaborators are built: lazily, once per process.

Every `get_*` is cached on first call; tests call `reset_dependencies()` (autouse fixture) or
`override(...)`-style replacement by setting up moto/respx before the first call.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    import httpx
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_sqs.client import SQSClient

    from chalicelib.aws.board_repository import DynamoDBBoardRepository
    from chalicelib.aws.employers_repository import DynamoDBEmployersRepository
    from chalicelib.aws.secret_store import SecretStore
    from chalicelib.aws.sync_queue import SqsSyncPublisher
    from chalicelib.aws.sync_state_repository import DynamoDBSyncStateRepository
    from chalicelib.clients.stackone.client import StackOneClient
    from chalicelib.services.board.service import BoardService
    from chalicelib.services.employers import EmployerService


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
    import httpx

    from chalicelib.clients.http import build_http_client

    settings = get_settings()
    api_key = get_secret_store().get(settings.stackone_api_key_secret_name)
    return build_http_client(
        settings.stackone_base_url,
        timeout_seconds=settings.stackone_timeout_seconds,
        auth=httpx.BasicAuth(api_key, ""),
        headers={"Accept": "application/json"},
    )


@functools.cache
def get_stackone_client() -> StackOneClient:
    from chalicelib.clients.stackone.client import StackOneClient

    return StackOneClient(get_stackone_http(), postings_page_size=get_settings().sync_page_size)


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
def get_board_repository() -> DynamoDBBoardRepository:
    from chalicelib.aws.board_repository import DynamoDBBoardRepository

    return DynamoDBBoardRepository(get_table())


@functools.cache
def get_board_service() -> BoardService:
    """The per-process in-memory board: a warm Lambda keeps it, and refreshes it from the change feed."""
    from chalicelib.services.board.service import BoardService

    settings = get_settings()
    return BoardService(
        get_board_repository(),
        public_base_url=settings.public_base_url,
        board_name=settings.board_name,
        # Cursors are self-validating (see services/board/cursor.py); every process of a deployment
        # derives the same key so a cursor works on any instance.
        cursor_key=f"{settings.table_name}\n{settings.public_base_url}".encode(),
        embloy_providers=settings.embloy_supported_providers,
        refresh_seconds=settings.board_refresh_seconds,
        queries_per_request=settings.board_refresh_queries_per_request,
        overlap_seconds=settings.board_change_overlap_seconds,
        apply_flags_max_age_seconds=settings.board_apply_flags_max_age_seconds,
        facet_limit=settings.board_facet_limit,
        feed_limit=settings.board_feed_limit,
        freeze_gc_after_load=settings.board_freeze_gc,
    )


def reset_dependencies() -> None:
    """Forget every built collaborator (tests; never needed in Lambda)."""
    for name, value in list(globals().items()):
        if name.startswith("get_") and hasattr(value, "cache_clear"):
            value.cache_clear()
