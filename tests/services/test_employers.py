"""Employer keys: random, prefixed, hashed at rest, revocable, rotatable, cached briefly."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import deps
from chalicelib.services.employers import API_KEY_PREFIX, hash_api_key


def test_create_returns_prefixed_key_stored_only_as_hash(aws: None) -> None:
    employer, api_key = deps.get_employer_service().create("Acme")
    assert api_key.startswith(API_KEY_PREFIX)
    assert len(api_key) >= len(API_KEY_PREFIX) + 43  # 256 bits, urlsafe base64
    items = deps.get_table().scan()["Items"]
    assert all(api_key not in repr(item) for item in items)
    assert any(item["PK"] == f"APIKEY#{hash_api_key(api_key)}" for item in items)
    assert deps.get_employer_service().authenticate(api_key) == employer.employer_id


@pytest.mark.parametrize("candidate", ["", "jbk_short", "nope_" + "x" * 50, "jbk_" + "x" * 60])
def test_authenticate_rejects_malformed_and_unknown_keys(aws: None, candidate: str) -> None:
    assert deps.get_employer_service().authenticate(candidate) is None


def test_rotate_revokes_old_key_and_issues_new(aws: None) -> None:
    service = deps.get_employer_service()
    employer, old_key = service.create("Acme")
    new_key = service.rotate_key(employer.employer_id)
    deps.reset_dependencies()  # a cold process: no cached authentications
    service = deps.get_employer_service()
    assert service.authenticate(old_key) is None
    assert service.authenticate(new_key) == employer.employer_id


def test_revoke_takes_effect_in_the_same_process(aws: None) -> None:
    service = deps.get_employer_service()
    employer, api_key = service.create("Acme")
    assert service.authenticate(api_key) == employer.employer_id
    service.revoke_key(employer.employer_id)
    assert service.authenticate(api_key) is None


def test_authenticate_uses_cache_when_warm(aws: None) -> None:
    service = deps.get_employer_service()
    employer, api_key = service.create("Acme")
    service.authenticate(api_key)
    calls: list[Any] = []
    repository = deps.get_employers_repository()
    original = repository.get_key

    def counting_get_key(key_hash: str) -> Any:
        calls.append(key_hash)
        return original(key_hash)

    repository.get_key = counting_get_key  # type: ignore[method-assign]
    assert service.authenticate(api_key) == employer.employer_id
    assert calls == []
