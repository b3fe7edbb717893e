"""Employer keys: random, prefixed, hashed at rest, revocable, rotatable, cached briefly."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import deps
from chalicelib.errors import ConflictError, InvalidRequestError
from chalicelib.services.employers import API_KEY_PREFIX, EmployerService, hash_api_key


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


def test_revocation_by_another_process_takes_effect_within_the_cache_ttl(aws: None) -> None:
    # The API process has the key cached; the operator's command line (another process) revokes it.
    clock = [1000.0]
    api_process = EmployerService(
        deps.get_employers_repository(), monotonic=lambda: clock[0], cache_ttl_seconds=30
    )
    operator = EmployerService(deps.get_employers_repository())
    employer, api_key = operator.create("Acme")
    assert api_process.authenticate(api_key) == employer.employer_id

    operator.revoke_key(employer.employer_id)

    clock[0] += 29
    assert api_process.authenticate(api_key) == employer.employer_id  # still inside the documented window
    clock[0] += 1
    assert api_process.authenticate(api_key) is None
    clock[0] += 1
    assert api_process.authenticate(api_key) is None  # and it stays refused (no stale cache entry)


def test_creating_an_existing_employer_id_fails_and_issues_no_key(aws: None) -> None:
    service = deps.get_employer_service()
    first, first_key = service.create("Acme", employer_id="emp_acme")

    with pytest.raises(ConflictError):
        service.create("Impostor", employer_id="emp_acme")

    assert service.get("emp_acme").name == "Acme"
    key_items = [i for i in deps.get_table().scan()["Items"] if str(i["PK"]).startswith("APIKEY#")]
    assert len(key_items) == 1
    assert service.authenticate(first_key) == first.employer_id


@pytest.mark.parametrize("employer_id", ["anonymous", "unavailable", "EMP", "a", "emp/../x"])
def test_reserved_or_malformed_employer_ids_are_refused(aws: None, employer_id: str) -> None:
    with pytest.raises(InvalidRequestError):
        deps.get_employer_service().create("Acme", employer_id=employer_id)
    assert deps.get_table().scan()["Items"] == []


def test_rotation_drops_the_old_key_from_this_process_cache(aws: None) -> None:
    service = deps.get_employer_service()
    employer, old_key = service.create("Acme")
    assert service.authenticate(old_key) == employer.employer_id  # now cached

    new_key = service.rotate_key(employer.employer_id)

    assert service.authenticate(old_key) is None
    assert service.authenticate(new_key) == employer.employer_id
    assert service.get(employer.employer_id).key_hash == hash_api_key(new_key)
