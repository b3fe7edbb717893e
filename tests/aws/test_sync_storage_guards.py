"""Storage side of the hardened sync (moto): poison postings, the shared request budget's item, the
departments cache, and AWS clients that give up fast when a service stalls."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any, Protocol, cast

import pytest

from chalicelib import deps
from chalicelib.aws.postings_repository import DynamoDBPostingsRepository
from chalicelib.aws.rate_budget import DynamoDBWindowCounter
from chalicelib.aws.sync_state_repository import DynamoDBSyncStateRepository
from chalicelib.errors import UnstorableItemsError, UpstreamUnavailableError
from chalicelib.models.sync_state import DepartmentsCache
from chalicelib.settings import get_settings
from tests.aws.test_postings_repository import posting


def test_a_posting_that_cannot_be_stored_is_named_and_the_others_are_written(aws: None) -> None:
    repository = DynamoDBPostingsRepository(deps.get_table())
    surrogate = posting("bad-text").model_copy(update={"title": "Engineer \ud800"})
    huge = posting("too-big").model_copy(update={"content_html": "x" * 450_000})
    good = [posting(f"p{i}") for i in range(30)]

    with pytest.raises(UnstorableItemsError) as raised:
        repository.write([(p, "h") for p in [*good[:10], surrogate, *good[10:], huge]])

    assert raised.value.rejected == {"bad-text": "invalid_text", "too-big": "too_large"}
    assert set(repository.load_index("acc1")) == {p.posting_id for p in good}


def test_window_counter_shares_one_limit_between_processes(aws: None) -> None:
    first = DynamoDBWindowCounter(deps.get_table(), "stackone#key")
    second = DynamoDBWindowCounter(deps.get_table(), "stackone#key")
    other_key = DynamoDBWindowCounter(deps.get_table(), "stackone#other")

    taken = [first.try_take(100, 3), second.try_take(100, 3), first.try_take(100, 3)]

    assert taken == [True, True, True]
    assert second.try_take(100, 3) is False  # full for every process
    assert other_key.try_take(100, 3) is True  # another key has its own budget
    assert first.try_take(99, 3) is False  # a window that has passed never reopens
    assert second.try_take(101, 3) is True  # the next window starts empty
    item = deps.get_table().get_item(Key={"PK": "RATE#stackone#key", "SK": "WINDOW"})["Item"]
    assert (item["window"], item["taken"]) == (101, 1)


def test_departments_cache_round_trips(aws: None) -> None:
    repository = DynamoDBSyncStateRepository(deps.get_table())
    assert repository.get_departments("acc1") is None

    repository.put_departments("acc1", DepartmentsCache(content_hash="h1", by_job={"job-1": "Engineering"}))

    cached = repository.get_departments("acc1")
    assert cached is not None and cached.content_hash == "h1" and cached.by_job == {"job-1": "Engineering"}
    assert repository.get("acc1") is None  # not a sync state


@pytest.fixture
def stalled_endpoint() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (a stalled DynamoDB)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                held.append(connection)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


class ClientConfig(Protocol):
    """What botocore sets on a client's `meta.config` (its stubs declare only the constructor)."""

    read_timeout: float
    connect_timeout: float
    retries: dict[str, Any]


def test_aws_clients_use_explicit_timeouts_and_standard_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_READ_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("AWS_CONNECT_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("AWS_CLIENT_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()

    for client in (deps.get_sqs_client(), deps.get_table().meta.client, deps.get_secrets_client()):
        config = cast(ClientConfig, client.meta.config)
        assert (config.read_timeout, config.connect_timeout) == (2.5, 0.5)
        assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert (
        cast(ClientConfig, deps.get_s3_client().meta.config).read_timeout
        == get_settings().aws_s3_read_timeout_seconds
    )


def test_a_stalled_table_fails_a_request_fast_as_table_unavailable(
    stalled_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", stalled_endpoint)
    monkeypatch.setenv("AWS_READ_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("AWS_CLIENT_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    deps.reset_dependencies()

    with pytest.raises(UpstreamUnavailableError) as raised:
        DynamoDBPostingsRepository(deps.get_table()).get("acc1", "p1")

    assert raised.value.code == "table_unavailable"
