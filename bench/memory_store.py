"""In-memory stand-ins for the DynamoDB repositories, for timing the sync engine without moto's cost.

moto emulates DynamoDB in the benchmark's own process and spends far more CPU per request than the sync
itself (seconds per 250-item query on a shared machine), which real DynamoDB spends on its side. The
timing rounds use these stores (optionally with a fixed per-request latency); the write counts come
from the moto rounds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.models.posting import Posting
from chalicelib.models.sync_state import AccountSyncState, DepartmentsCache


@dataclass(frozen=True)
class _Stored:
    posting: Posting
    content_hash: str


@dataclass(frozen=True)
class _Meta:
    content_hash: str
    status: str


class MemoryPostings:
    """Postings by (account, posting id); counts write requests (batches of 25) and items."""

    def __init__(self, latency_ms: float = 0.0) -> None:
        self._items: dict[tuple[str, str], _Stored] = {}
        self._latency = latency_ms / 1000
        self._lock = threading.Lock()
        self.write_requests = 0
        self.items_written = 0

    def _wait(self, requests: int = 1) -> None:
        if self._latency:
            time.sleep(self._latency * requests)

    def load_index(self, account_id: str) -> dict[str, _Meta]:
        self._wait()
        return {
            pid: _Meta(stored.content_hash, stored.posting.status)
            for (aid, pid), stored in list(self._items.items())
            if aid == account_id
        }

    def get_many(self, account_id: str, posting_ids: Iterable[str]) -> dict[str, _Stored]:
        ids = list(posting_ids)
        self._wait(-(-len(ids) // 100))
        return {pid: self._items[(account_id, pid)] for pid in ids if (account_id, pid) in self._items}

    def get(self, account_id: str, posting_id: str) -> _Stored | None:
        self._wait()
        return self._items.get((account_id, posting_id))

    def write(self, postings: Sequence[tuple[Posting, str]]) -> int:
        batches = -(-len(postings) // 25)
        self._wait(batches)
        with self._lock:
            self.write_requests += batches
            self.items_written += len(postings)
            for posting, hash_ in postings:
                self._items[(posting.account_id, posting.posting_id)] = _Stored(posting, hash_)
        return len(postings)


class MemoryStates:
    def __init__(self, latency_ms: float = 0.0) -> None:
        self._states: dict[str, str] = {}
        self._departments: dict[str, str] = {}
        self.department_puts = 0
        self._latency = latency_ms / 1000
        self.puts = 0

    def get(self, account_id: str) -> AccountSyncState | None:
        if self._latency:
            time.sleep(self._latency)
        doc = self._states.get(account_id)
        return AccountSyncState.model_validate_json(doc) if doc else None

    def put(self, state: AccountSyncState) -> None:
        if self._latency:
            time.sleep(self._latency)
        self._states[state.account_id] = state.model_dump_json()
        self.puts += 1

    def get_many(self, account_ids: Iterable[str]) -> dict[str, AccountSyncState]:
        return {i: state for i in account_ids if (state := self.get(i)) is not None}

    def list_account_ids(self) -> list[str]:
        return list(self._states)

    def get_departments(self, account_id: str) -> DepartmentsCache | None:
        if self._latency:
            time.sleep(self._latency)
        doc = self._departments.get(account_id)
        return DepartmentsCache.model_validate_json(doc) if doc else None

    def put_departments(self, account_id: str, cache: DepartmentsCache) -> None:
        if self._latency:
            time.sleep(self._latency)
        self._departments[account_id] = cache.model_dump_json()
        self.department_puts += 1


class MemoryPublisher:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    def publish(self, messages: Sequence[Any]) -> int:
        self.messages.extend(messages)
        return len(messages)
