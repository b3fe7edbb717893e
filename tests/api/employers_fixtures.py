"""Fixtures for the employer routes: StackOne (respx) with its API key in moto, the sync queue, employers.

Imported with `from tests.api.employers_fixtures import *` by the employer test modules (kept out of a
shared conftest so other areas' API tests are unaffected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import respx

from chalicelib import deps
from chalicelib.settings import get_settings
from tests.conftest import bearer

STACKONE_API_KEY = "v1.eu1.stackone-test-key-Zq8w"


@dataclass
class EmployerApi:
    """The test client plus what the employer tests need around it."""

    client: Any
    stackone: respx.MockRouter
    queue_url: str
    employer_id: str
    api_key: str

    def headers(self, api_key: str | None = None, **extra: str) -> dict[str, str]:
        return {**bearer(api_key or self.api_key), "Content-Type": "application/json", **extra}

    def queued_messages(self) -> list[str]:
        sqs = boto3.client("sqs")
        result = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [message["Body"] for message in result.get("Messages", [])]


def linked_account(
    account_id: str,
    owner_id: str,
    *,
    owner_name: str = "Acme Robotics",
    provider: str = "greenhouse",
    status: str = "active",
    status_reasons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A StackOne LinkedAccount as the platform API returns it."""
    return {
        "id": account_id,
        "provider": provider,
        "provider_name": provider.title(),
        "status": status,
        "status_reasons": status_reasons,
        "origin_owner_id": owner_id,
        "origin_owner_name": owner_name,
        "origin_username": None,
        "credentials": {},
        "label": None,
        "type": "production",
        "created_at": "2026-01-05T10:00:00.000Z",
        "updated_at": "2026-01-06T10:00:00.000Z",
    }


def connect_session_body(owner_id: str, *, token: str = "cs-token-Very-Secret-123") -> dict[str, Any]:
    return {
        "id": 4711,
        "organization_id": 1,
        "project_id": "p1",
        "origin_owner_id": owner_id,
        "origin_owner_name": "Acme Robotics",
        "categories": ["ats"],
        "created_at": "2026-11-22T12:00:00.000Z",
        "token": token,
        "auth_link_url": f"https://hub.stackone.test/connect?token={token}",
    }


def reload_settings() -> None:
    """Re-read settings now, outside any request: `chalice.test.Client` swaps in the stage's environment
    variables (.chalice/config.json) during a request, so settings first read there would name the dev
    stage's table and secrets."""
    get_settings.cache_clear()
    deps.reset_dependencies()
    get_settings()


@pytest.fixture
def stackone_key(aws: None) -> str:
    boto3.client("secretsmanager").create_secret(
        Name=get_settings().stackone_api_key_secret_name, SecretString=STACKONE_API_KEY
    )
    return STACKONE_API_KEY


@pytest.fixture
def sync_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    queue_url = boto3.client("sqs").create_queue(QueueName="job-board-sync-test")["QueueUrl"]
    monkeypatch.setenv("SYNC_QUEUE_URL", queue_url)
    reload_settings()  # the `aws` fixture read settings before the queue existed
    return queue_url


@pytest.fixture
def employer_api(
    client: Any,
    employer: tuple[str, str],
    stackone_key: str,
    sync_queue: str,
    stackone_api: respx.MockRouter,
) -> EmployerApi:
    employer_id, api_key = employer
    return EmployerApi(client, stackone_api, sync_queue, employer_id, api_key)


@pytest.fixture
def other_employer(aws: None) -> tuple[str, str]:
    created, api_key = deps.get_employer_service().create("Globex Logistics")
    return created.employer_id, api_key


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


__all__ = [
    "STACKONE_API_KEY",
    "EmployerApi",
    "at",
    "connect_session_body",
    "employer_api",
    "linked_account",
    "other_employer",
    "reload_settings",
    "stackone_key",
    "sync_queue",
]
