"""Employers and their API keys: random, shown once, stored only as a hash, revocable and rotatable."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cachetools import TTLCache

from chalicelib.clock import Clock, utcnow
from chalicelib.errors import InvalidRequestError, NotFoundError

API_KEY_PREFIX = "jbk_"
# 32 random bytes = 256 bits; urlsafe base64 gives 43 characters.
_KEY_BYTES = 32
_MAX_KEY_LENGTH = 128
_EMPLOYER_ID = re.compile(r"[a-z0-9_-]{3,64}")
# Principal ids the authorizer uses for "no employer" (see chalicelib.api.auth).
_RESERVED_IDS = frozenset({"anonymous", "unavailable"})
# Bounds the in-process cache of verified keys (one entry per active key seen by this process).
_MAX_CACHED_KEYS = 1000


@dataclass(frozen=True)
class Employer:
    employer_id: str
    name: str
    created_at: datetime
    key_hash: str | None = None  # the employer's current key; None when revoked


@dataclass(frozen=True)
class ApiKeyRecord:
    key_hash: str
    employer_id: str
    revoked: bool


class EmployersRepository(Protocol):
    def put_employer(self, employer: Employer) -> None: ...  # ConflictError if the id exists
    def get_employer(self, employer_id: str) -> Employer | None: ...
    def list_employers(self) -> list[Employer]: ...
    def put_key(self, key_hash: str, employer_id: str, created_at: datetime) -> None: ...
    def get_key(self, key_hash: str) -> ApiKeyRecord | None: ...
    def revoke_key(self, key_hash: str, revoked_at: datetime) -> None: ...
    def set_current_key(self, employer_id: str, key_hash: str | None) -> None: ...


def hash_api_key(api_key: str) -> str:
    """SHA-256 of the key. Keys carry 256 random bits, so a fast hash is enough (no dictionary to attack)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def looks_like_api_key(candidate: str) -> bool:
    return candidate.startswith(API_KEY_PREFIX) and 16 < len(candidate) <= _MAX_KEY_LENGTH


class EmployerService:
    """Creates employers, issues/rotates/revokes keys and authenticates requests by key."""

    def __init__(
        self,
        repository: EmployersRepository,
        *,
        now: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        token_factory: Callable[[int], str] = secrets.token_urlsafe,
        cache_ttl_seconds: float = 30.0,
    ) -> None:
        self._repository = repository
        self._now = now
        self._token_factory = token_factory
        # key hash -> employer_id; lets a warm request skip DynamoDB.
        self._cache: TTLCache[str, str] = TTLCache(
            maxsize=_MAX_CACHED_KEYS, ttl=cache_ttl_seconds, timer=monotonic
        )
        self._lock = threading.Lock()

    def create(self, name: str, *, employer_id: str | None = None) -> tuple[Employer, str]:
        """Create an employer and its first key; the plain key is returned once and never stored.

        `employer_id` is for operators who must match an existing StackOne `origin_owner_id`.
        """
        name = name.strip()
        if employer_id is not None and (
            not _EMPLOYER_ID.fullmatch(employer_id) or employer_id in _RESERVED_IDS
        ):
            raise InvalidRequestError("Employer ids are 3-64 characters of a-z, 0-9, '_' and '-'.")
        if not name or len(name) > 200:
            raise InvalidRequestError("An employer name of 1-200 characters is required.")
        api_key, key_hash = self._new_key()
        employer = Employer(
            employer_id=employer_id or f"emp_{uuid.uuid4().hex[:16]}",
            name=name,
            created_at=self._now(),
            key_hash=key_hash,
        )
        # Employer first: it fails on a taken id before any key exists for it.
        self._repository.put_employer(employer)
        self._repository.put_key(key_hash, employer.employer_id, employer.created_at)
        return employer, api_key

    def get(self, employer_id: str) -> Employer:
        employer = self._repository.get_employer(employer_id)
        if employer is None:
            raise NotFoundError(f"No employer {employer_id}.", code="employer_not_found")
        return employer

    def list(self) -> list[Employer]:
        return self._repository.list_employers()

    def rotate_key(self, employer_id: str) -> str:
        """Issue a new key and revoke the old one; returns the new plain key (shown once)."""
        employer = self.get(employer_id)
        api_key, key_hash = self._new_key()
        self._repository.put_key(key_hash, employer_id, self._now())
        self._repository.set_current_key(employer_id, key_hash)
        if employer.key_hash:
            self._repository.revoke_key(employer.key_hash, self._now())
            self._forget(employer.key_hash)
        return api_key

    def revoke_key(self, employer_id: str) -> None:
        """Revoke the employer's current key; it has no valid key until rotated."""
        employer = self.get(employer_id)
        if employer.key_hash:
            self._repository.revoke_key(employer.key_hash, self._now())
            self._forget(employer.key_hash)
        self._repository.set_current_key(employer_id, None)

    def authenticate(self, api_key: str) -> str | None:
        """The employer id a key belongs to, or None for unknown, revoked or malformed keys.

        A verified key is trusted for `cache_ttl_seconds` without another DynamoDB read, so a key revoked
        by another process (the operator's command line) stops working within that time.
        """
        if not looks_like_api_key(api_key):
            return None
        key_hash = hash_api_key(api_key)
        with self._lock:
            cached = self._cache.get(key_hash)
        if cached is not None:
            return cached
        record = self._repository.get_key(key_hash)
        # The lookup is by SHA-256 of the key, so nothing the caller controls is compared byte by byte
        # against a secret; the stored hash is still checked in constant time as defence in depth.
        if record is None or record.revoked or not hmac.compare_digest(record.key_hash, key_hash):
            self._forget(key_hash)
            return None
        with self._lock:
            self._cache[key_hash] = record.employer_id
        return record.employer_id

    def _forget(self, key_hash: str) -> None:
        with self._lock:
            self._cache.pop(key_hash, None)

    def _new_key(self) -> tuple[str, str]:
        api_key = API_KEY_PREFIX + self._token_factory(_KEY_BYTES)
        return api_key, hash_api_key(api_key)
