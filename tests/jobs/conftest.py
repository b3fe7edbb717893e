"""Fixtures for the sync schedule and worker: a queue, the StackOne key secret, a StackOne stub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.settings import get_settings
from tests.sync_support import StackOneStub, stackone_stub

API_KEY = "v1.eu1.super-secret-api-key"


@pytest.fixture
def queue_url(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    import boto3

    url = boto3.client("sqs").create_queue(QueueName=get_settings().sync_queue_name)["QueueUrl"]
    monkeypatch.setenv("SYNC_QUEUE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture
def stackone_key(aws: None) -> str:
    import boto3

    boto3.client("secretsmanager").create_secret(
        Name=get_settings().stackone_api_key_secret_name, SecretString=API_KEY
    )
    return API_KEY


@pytest.fixture
def stackone(stackone_key: str) -> Iterator[StackOneStub]:
    yield from stackone_stub()
