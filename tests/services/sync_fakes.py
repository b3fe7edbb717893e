"""In-memory collaborators of SyncService (no AWS, no HTTP), for the tests and `make bench-sync`.

The benchmark times the sync engine on these stores rather than on moto, whose in-process DynamoDB spends
far more CPU per request than the sync itself; `latency_ms` adds a fixed wait per DynamoDB request.
Only `chalicelib` is imported here, so the benchmark can use the stores without the test suite.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.aws.postings_repository import PostingMeta, StoredPosting
from chalicelib.clients.stackone.errors import StackOneError, StackOneNotFoundError
from chalicelib.clients.stackone.models import JobPostingsPage, LinkedAccount, ListPage
from chalicelib.clock import isoformat
from chalicelib.models.messages import SyncRequested
from chalicelib.models.posting import Posting
from chalicelib.models.sync_state import AccountSyncState, DepartmentsCache

# The repository's own value types, so the fake answers exactly what DynamoDBPostingsRepository does.
Stored = StoredPosting
Meta = PostingMeta


def _iso(moment: datetime | None) -> str:
    return isoformat(moment) if moment else ""


def _wait(latency_seconds: float, requests: int = 1) -> None:
    if latency_seconds:
        time.sleep(latency_seconds * requests)


class InMemoryPostings:
    """Postings by (account, posting id); counts write calls, write requests (batches of 25) and items."""

    def __init__(self, latency_ms: float = 0.0) -> None:
        self.items: dict[tuple[str, str], Stored] = {}
        self._latency = latency_ms / 1000
        self._lock = threading.Lock()
        self.write_calls = 0
        self.write_requests = 0
        self.items_written = 0

    def load_index(self, account_id: str) -> dict[str, Meta]:
        _wait(self._latency)
        return {
            pid: Meta(stored.content_hash, stored.posting.status, _iso(stored.posting.changed_at))
            for (aid, pid), stored in list(self.items.items())
            if aid == account_id
        }

    def get_many(self, account_id: str, posting_ids: Iterable[str]) -> dict[str, Stored]:
        ids = list(posting_ids)
        _wait(self._latency, -(-len(ids) // 100))
        return {pid: self.items[(account_id, pid)] for pid in ids if (account_id, pid) in self.items}

    def get(self, account_id: str, posting_id: str) -> Stored | None:
        _wait(self._latency)
        return self.items.get((account_id, posting_id))

    def write(self, postings: Sequence[tuple[Posting, str]]) -> int:
        batches = -(-len(postings) // 25)
        _wait(self._latency, batches)
        with self._lock:
            self.write_calls += 1
            self.write_requests += batches
            for posting, hash_ in postings:
                self.items[(posting.account_id, posting.posting_id)] = Stored(posting, hash_)
                self.items_written += 1
        return len(postings)

    def posting(self, account_id: str, posting_id: str) -> Posting:
        return self.items[(account_id, posting_id)].posting

    def live_ids(self, account_id: str) -> set[str]:
        return {
            pid for (aid, pid), s in self.items.items() if aid == account_id and s.posting.status == "live"
        }


class InMemoryStates:
    """Sync states and department caches; callers get copies, as from a real store."""

    def __init__(self, latency_ms: float = 0.0) -> None:
        self.states: dict[str, AccountSyncState] = {}
        self.departments: dict[str, DepartmentsCache] = {}
        self._latency = latency_ms / 1000
        self.department_puts = 0
        self.puts = 0

    def get(self, account_id: str) -> AccountSyncState | None:
        _wait(self._latency)
        state = self.states.get(account_id)
        return state.model_copy(deep=True) if state else None

    def get_many(self, account_ids: Iterable[str]) -> dict[str, AccountSyncState]:
        return {i: state for i in account_ids if (state := self.get(i)) is not None}

    def get_departments(self, account_id: str) -> DepartmentsCache | None:
        _wait(self._latency)
        cache = self.departments.get(account_id)
        return cache.model_copy(deep=True) if cache else None

    def put_departments(self, account_id: str, cache: DepartmentsCache) -> None:
        _wait(self._latency)
        self.department_puts += 1
        self.departments[account_id] = cache.model_copy(deep=True)

    def put(self, state: AccountSyncState) -> None:
        _wait(self._latency)
        self.puts += 1
        self.states[state.account_id] = state.model_copy(deep=True)

    def list_account_ids(self) -> list[str]:
        return list(self.states)


class InMemoryPublisher:
    def __init__(self) -> None:
        self.messages: list[SyncRequested] = []
        self.batches: list[int] = []

    def publish(self, messages: Sequence[SyncRequested]) -> int:
        self.messages.extend(messages)
        self.batches.append(len(messages))
        return len(messages)


@dataclass
class FakeStackOne:
    """Accounts and their raw postings; failures injected per account (on get_account or a page)."""

    page_size: int = 3
    accounts: dict[str, LinkedAccount] = field(default_factory=dict)
    postings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    account_errors: dict[str, StackOneError] = field(default_factory=dict)
    page_errors: dict[tuple[str, int], StackOneError] = field(default_factory=dict)  # (account, page index)
    empty_first_page: bool = False
    repeat_cursor: bool = False  # every page (after the first) says `next` = the cursor it was asked for
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # (op, account, updated_after)
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    departments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jobs_error: StackOneError | None = None
    listed_accounts_errors: list[StackOneError] = field(default_factory=list)  # raised by list_accounts

    def add_account(self, account_id: str, *, status: str = "active", provider: str = "greenhouse") -> None:
        self.accounts[account_id] = LinkedAccount(
            id=account_id,
            provider=provider,
            status=status,
            origin_owner_id=f"emp-{account_id}",
            origin_owner_name=f"Company {account_id}",
        )
        self.postings.setdefault(account_id, [])

    def list_accounts(self) -> list[LinkedAccount]:
        self.requests.append(("list_accounts", "", None))
        if self.listed_accounts_errors:
            raise self.listed_accounts_errors.pop(0)
        return list(self.accounts.values())

    def list_jobs_page(self, account_id: str, *, cursor: str | None = None) -> ListPage:
        self.requests.append(("jobs", account_id, None))
        if self.jobs_error is not None:
            raise self.jobs_error
        return ListPage(data=self.jobs.get(account_id, []))

    def list_departments_page(self, account_id: str, *, cursor: str | None = None) -> ListPage:
        self.requests.append(("departments", account_id, None))
        return ListPage(data=self.departments.get(account_id, []))

    def get_account(self, account_id: str) -> LinkedAccount:
        self.requests.append(("get_account", account_id, None))
        if account_id in self.account_errors:
            raise self.account_errors[account_id]
        if account_id not in self.accounts:
            raise StackOneNotFoundError(status=404)
        return self.accounts[account_id]

    def list_job_postings_page(
        self,
        account_id: str,
        *,
        cursor: str | None = None,
        updated_after: str | None = None,
        fields: str | None = None,
    ) -> JobPostingsPage:
        self.requests.append(("sweep" if fields else "page", account_id, updated_after))
        if self.repeat_cursor:
            rows = self.postings.get(account_id, [])[: self.page_size]
            return JobPostingsPage(data=rows, next=cursor or "again")
        index = int(cursor or 0)
        if (account_id, index) in self.page_errors:
            raise self.page_errors[(account_id, index)]
        rows = self.postings.get(account_id, [])
        if updated_after:
            rows = [r for r in rows if (r.get("updated_at") or "") > updated_after]
        if self.empty_first_page:
            # an "early cursor": an empty page that still carries `next`
            if index == 0:
                return JobPostingsPage(data=[], next="1")
            index -= 1
        chunk = rows[index * self.page_size : (index + 1) * self.page_size]
        has_more = (index + 1) * self.page_size < len(rows)
        offset = 1 if self.empty_first_page else 0
        return JobPostingsPage(data=chunk, next=str(index + 1 + offset) if has_more else None)

    def get_job_posting(self, account_id: str, posting_id: str) -> dict[str, Any]:
        self.requests.append(("get_posting", account_id, posting_id))
        for row in self.postings.get(account_id, []):
            if row.get("id") == posting_id:
                return row
        raise StackOneNotFoundError(status=404)

    @contextlib.contextmanager
    def time_budget(self, seconds: float) -> Iterator[None]:
        yield

    def pages_requested(self, account_id: str) -> int:
        return sum(1 for op, acc, _ in self.requests if op == "page" and acc == account_id)


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.mono = 0.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, **delta: float) -> None:
        step = timedelta(**delta)
        self.now += step
        self.mono += step.total_seconds()


def raw(posting_id: str, *, title: str | None = None, status: str = "live", internal: Any = "false",
        updated_at: str = "2026-02-01T00:00:00.000Z") -> dict[str, Any]:  # fmt: skip
    return {
        "id": posting_id,
        "remote_id": f"r-{posting_id}",
        "title": title or f"Job {posting_id}",
        "status": {"value": status},
        "internal": internal,
        "locations": [{"name": "Berlin"}],
        "content": {"html": f"<p>About {posting_id}</p>"},
        "updated_at": updated_at,
    }
