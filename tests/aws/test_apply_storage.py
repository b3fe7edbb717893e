"""Apply adapters on moto: token store caching, idempotency across instances, record guard."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import deps
from chalicelib.aws.embloy_token_store import SecretsManagerEmbloyTokenStore
from chalicelib.aws.idempotency import PowertoolsIdempotency
from chalicelib.errors import NotFoundError, UnprocessableError
from chalicelib.services.apply import IdempotentRequest
from chalicelib.settings import get_settings
from tests.api.apply_factories import make_client_token


@pytest.fixture
def secret_reads(aws: None) -> list[str]:
    reads: list[str] = []
    events = deps.get_secrets_provider().client.meta.events
    events.register("before-call.secrets-manager.GetSecretValue", lambda **kwargs: reads.append("read"))
    return reads


def test_missing_token_is_remembered_until_a_put(secret_reads: list[str]) -> None:
    employer, _ = deps.get_employer_service().create("Acme")
    store = deps.get_embloy_token_store()

    assert store.get_token(employer.employer_id) is None
    assert store.get_token(employer.employer_id) is None
    assert len(secret_reads) == 1
    token = make_client_token()
    store.put_token(employer.employer_id, token, "2026-11-22T12:00:00.000Z")
    assert store.get_token(employer.employer_id) == token
    assert store.get_token(employer.employer_id) == token
    assert len(secret_reads) == 2


def test_a_missing_token_is_asked_for_again_once_the_negative_cache_expires(secret_reads: list[str]) -> None:
    employer, _ = deps.get_employer_service().create("Acme")
    clock = [100.0]
    store = SecretsManagerEmbloyTokenStore(
        deps.get_secrets_client(),
        deps.get_secret_store(),
        deps.get_table(),
        prefix=get_settings().embloy_secret_prefix,
        negative_cache_seconds=30,
        monotonic=lambda: clock[0],
    )

    assert store.get_token(employer.employer_id) is None
    clock[0] += 29
    assert store.get_token(employer.employer_id) is None
    assert len(secret_reads) == 1
    clock[0] += 2
    assert store.get_token(employer.employer_id) is None
    assert len(secret_reads) == 2


def test_renewal_flag_forces_the_next_read(secret_reads: list[str]) -> None:
    employer, _ = deps.get_employer_service().create("Acme")
    store = deps.get_embloy_token_store()
    store.put_token(employer.employer_id, make_client_token(), "2026-11-22T12:00:00.000Z")
    store.get_token(employer.employer_id)
    store.flag_needs_renewal(employer.employer_id)
    store.get_token(employer.employer_id)
    assert len(secret_reads) == 2
    assert store.get_status(employer.employer_id).needs_renewal is True


def test_flagging_an_unknown_employer_creates_no_profile(aws: None) -> None:
    with pytest.raises(NotFoundError):
        deps.get_embloy_token_store().flag_needs_renewal("emp-unknown")
    assert "Item" not in deps.get_table().get_item(Key={"PK": "EMPLOYER#emp-unknown", "SK": "PROFILE"})


def test_idempotency_result_survives_a_new_instance(aws: None) -> None:
    calls: list[int] = []

    def action() -> dict[str, Any]:
        calls.append(1)
        return {"status_code": 201, "body": {"application_id": f"app-{len(calls)}"}}

    settings = get_settings()
    first = PowertoolsIdempotency(settings.idempotency_table_name, expires_after_seconds=60)
    second = PowertoolsIdempotency(settings.idempotency_table_name, expires_after_seconds=60)

    one = first.run(IdempotentRequest("job", "k", "h"), action)
    two = second.run(IdempotentRequest("job", "k", "h"), action)
    other_job = second.run(IdempotentRequest("job-2", "k", "h"), action)

    assert one == two == {"status_code": 201, "body": {"application_id": "app-1"}}
    assert other_job["body"] == {"application_id": "app-2"}
    with pytest.raises(UnprocessableError):
        second.run(IdempotentRequest("job", "k", "other"), action)
    assert len(calls) == 2


def test_failed_action_is_not_remembered(aws: None) -> None:
    idempotency = PowertoolsIdempotency(get_settings().idempotency_table_name, expires_after_seconds=60)

    def failing() -> dict[str, Any]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        idempotency.run(IdempotentRequest("job", "k", "h"), failing)
    assert idempotency.run(IdempotentRequest("job", "k", "h"), lambda: {"ok": True}) == {"ok": True}


def test_duplicate_guard_claims_once_and_expires(aws: None) -> None:
    records = deps.get_application_records()
    assert records.claim_guard("job", "hash", now=100, until=200) is True
    assert records.claim_guard("job", "hash", now=150, until=250) is False
    assert records.claim_guard("job", "hash", now=201, until=300) is True
    records.release_guard("job", "hash")
    assert records.claim_guard("job", "hash", now=202, until=300) is True
