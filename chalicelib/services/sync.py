"""Syncing linked ATS accounts' postings from StackOne into the board's store.

One account per run: read the account, list its postings (a delta from the watermark, or a full sweep),
map them, write only what changed, close what a *complete* full listing no longer contains, and record
the outcome in the account's sync state. Failures stay inside the account: auth problems mark it as
needing attention, anything else is recorded and left for the next run, with the watermark unchanged.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from chalicelib.clients.stackone.errors import (
    StackOneAuthError,
    StackOneBudgetExceededError,
    StackOneError,
    StackOneForbiddenError,
    StackOneNotFoundError,
    StackOnePreconditionError,
)
from chalicelib.clients.stackone.models import JobPostingsPage, LinkedAccount
from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.models.messages import SyncRequested
from chalicelib.models.posting import Posting
from chalicelib.models.sync_state import AccountSyncState
from chalicelib.services.mapping import (
    AccountInfo,
    PostingMappingError,
    is_visible,
    map_posting,
    raw_posting_id,
    source_hash,
)

Mode = Literal["auto", "full", "delta"]

# --------------------------------------------------------------------------------------------------
# Collaborators (structural: the real adapters and the tests' in-memory fakes both fit).


class StackOneGateway(Protocol):
    def list_accounts(self) -> list[LinkedAccount]: ...

    def get_account(self, account_id: str) -> LinkedAccount: ...

    def list_job_postings_page(
        self, account_id: str, *, cursor: str | None = None, updated_after: str | None = None
    ) -> JobPostingsPage: ...

    def get_job_posting(self, account_id: str, posting_id: str) -> dict[str, Any]: ...

    def time_budget(self, seconds: float) -> contextlib.AbstractContextManager[None]: ...


class StoredPostingLike(Protocol):
    @property
    def posting(self) -> Posting: ...

    @property
    def content_hash(self) -> str: ...


class PostingMetaLike(Protocol):
    @property
    def content_hash(self) -> str: ...

    @property
    def status(self) -> str: ...


class PostingsStore(Protocol):
    def load_index(self, account_id: str) -> dict[str, Any]: ...

    def get_many(self, account_id: str, posting_ids: Iterable[str]) -> dict[str, Any]: ...

    def get(self, account_id: str, posting_id: str) -> Any: ...

    def write(self, postings: Sequence[tuple[Posting, str]]) -> int: ...


class SyncStateStore(Protocol):
    def get(self, account_id: str) -> AccountSyncState | None: ...

    def put(self, state: AccountSyncState) -> None: ...

    def list_account_ids(self) -> list[str]: ...


class SyncPublisher(Protocol):
    def publish(self, messages: Sequence[SyncRequested]) -> int: ...


class MetricsSink(Protocol):
    def count(self, name: str, value: int) -> None: ...


class SyncLogger(Protocol):
    def info(self, msg: object, *args: Any, **kwargs: Any) -> Any: ...

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> Any: ...


class NullMetrics:
    def count(self, name: str, value: int) -> None:
        return None


@dataclass
class CountingMetrics:
    """A metrics sink that adds up counts in memory (CLI summary, bench, tests)."""

    totals: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, value: int) -> None:
        self.totals[name] = self.totals.get(name, 0) + value


# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncPolicy:
    """Knobs of a run (from settings)."""

    overlap_seconds: int = 600
    full_every_n_runs: int = 24
    full_max_age_seconds: int = 86400
    time_budget_seconds: float = 240.0
    ats_providers: frozenset[str] | None = None  # None: every provider counts as ATS


@dataclass
class SyncReport:
    """What one account's run did."""

    account_id: str
    run_id: str
    mode: str = "delta"  # full, delta, close (the account's postings were closed), skipped
    outcome: str = "succeeded"  # succeeded, partial, failed, needs_attention
    upserted: int = 0
    unchanged: int = 0
    closed: int = 0
    skipped: int = 0
    live_postings: int = 0
    pages: int = 0
    error_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_ATTENTION_REASONS: tuple[tuple[type[StackOneError], str], ...] = (
    (StackOneAuthError, "reconnect"),  # expired or revoked credentials: re-link through the Hub
    (StackOneForbiddenError, "permissions"),
    (StackOnePreconditionError, "integration_disabled"),
)


class _BudgetExhausted(Exception):
    """The run's time budget ran out between pages."""


def new_run_id() -> str:
    return uuid.uuid4().hex


def _advance(previous: datetime | None, now: datetime) -> datetime:
    """`changed_at` only ever moves forward, even when two changes land in one millisecond."""
    if previous is not None and now <= previous:
        return previous + timedelta(milliseconds=1)
    return now


class SyncService:
    """Syncs accounts; receives every collaborator (no AWS or HTTP imports here)."""

    def __init__(
        self,
        stackone: StackOneGateway,
        postings: PostingsStore,
        states: SyncStateStore,
        publisher: SyncPublisher,
        *,
        policy: SyncPolicy | None = None,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: MetricsSink | None = None,
        logger: SyncLogger | None = None,
    ) -> None:
        self._stackone = stackone
        self._postings = postings
        self._states = states
        self._publisher = publisher
        self._policy = policy or SyncPolicy()
        self._clock = clock
        self._monotonic = monotonic
        self._metrics = metrics or NullMetrics()
        if logger is None:
            from chalicelib.observability import logger as default_logger

            logger = default_logger
        self._log = logger

    # Fan-out --------------------------------------------------------------------------------------

    def active_ats_accounts(self) -> list[LinkedAccount]:
        """StackOne's linked accounts that are active and on an ATS provider."""
        allowed = self._policy.ats_providers
        return [
            account
            for account in self._stackone.list_accounts()
            if account.status == "active" and (allowed is None or account.provider in allowed)
        ]

    def enqueue_all(self, run_id: str) -> int:
        """One message per active ATS account, plus known accounts that vanished (to close them)."""
        listed = self._stackone.list_accounts()
        allowed = self._policy.ats_providers
        active_ids = [
            a.id for a in listed if a.status == "active" and (allowed is None or a.provider in allowed)
        ]
        # Accounts we still believe active but StackOne lists as inactive or not at all: the worker
        # sees that through GET /accounts/{id} and closes their postings (once: then they're not active).
        listed_ids = {a.id for a in listed}
        gone: list[str] = []
        for account_id in self._states.list_account_ids():
            if account_id in active_ids:
                continue
            state = self._states.get(account_id)
            if state is not None and state.account_status == "active":
                gone.append(account_id)
        messages = [
            SyncRequested(account_id=account_id, run_id=run_id, reason="schedule")
            for account_id in [*active_ids, *gone]
        ]
        sent = self._publisher.publish(messages) if messages else 0
        self._log.info(
            "sync fan-out",
            extra={"run_id": run_id, "enqueued": sent, "listed": len(listed_ids), "gone": len(gone)},
        )
        return sent

    def request_sync(self, account_id: str, *, reason: Any = "operator", mode: Mode = "auto") -> str:
        """Enqueue a sync of one account now; returns its run id."""
        run_id = new_run_id()
        self._publisher.publish(
            [SyncRequested(account_id=account_id, run_id=run_id, reason=reason, mode=mode)]
        )
        return run_id

    # One account ----------------------------------------------------------------------------------

    def sync_account(self, account_id: str, run_id: str, mode: Mode = "auto") -> SyncReport:
        """Sync one account. Never raises for StackOne failures: they end up in the sync state."""
        started_at = self._clock()
        started = self._monotonic()
        state = self._states.get(account_id) or AccountSyncState(account_id=account_id)
        report = SyncReport(account_id=account_id, run_id=run_id)
        log_keys = {"account_id": account_id, "run_id": run_id}
        budget = self._policy.time_budget_seconds
        index: dict[str, PostingMetaLike] | None = None
        try:
            with self._stackone.time_budget(budget):
                try:
                    account = self._stackone.get_account(account_id)
                except StackOneNotFoundError:
                    return self._close_account(state, report, account_status="deleted", started_at=started_at)
                info = AccountInfo(
                    account_id=account_id,
                    employer_id=account.origin_owner_id,
                    company=account.origin_owner_name,
                    provider=account.provider,
                )
                state.employer_id, state.company, state.provider = (
                    info.employer_id,
                    info.company,
                    info.provider,
                )
                if account.status != "active":
                    return self._close_account(
                        state, report, account_status=account.status, started_at=started_at
                    )
                full = self._wants_full_sweep(state, mode, started_at)
                report.mode = "full" if full else "delta"
                state.last_run_id, state.last_started_at, state.last_outcome = run_id, started_at, "running"
                state.account_status = "active"
                self._states.put(state)
                self._log.info("account sync started", extra={**log_keys, "mode": report.mode})
                updated_after = None
                if not full and state.watermark is not None:
                    overlap = timedelta(seconds=self._policy.overlap_seconds)
                    updated_after = isoformat(state.watermark - overlap)
                index = self._postings.load_index(account_id)
                seen: set[str] = set()
                for raw_page in self._pages(account_id, updated_after, started, budget, report):
                    self._apply_page(raw_page, info, index, seen, report)
                if full:
                    self._close_missing(account_id, index, seen, report)
        except (_BudgetExhausted, StackOneBudgetExceededError):
            # Work done so far stays written; the watermark doesn't move, so the next run redoes the rest.
            return self._finish(
                state, report, "partial", started_at, error="budget_exhausted: time ran out", index=index
            )
        except StackOneError as exc:
            return self._fail(state, report, exc, started_at, index)
        return self._succeed(state, report, started_at, index, full=report.mode == "full")

    def _wants_full_sweep(self, state: AccountSyncState, mode: Mode, now: datetime) -> bool:
        if mode == "full":
            return True
        if mode == "delta" and state.watermark is not None:
            return False
        if state.watermark is None or state.last_full_sweep_at is None:
            return True
        if (now - state.last_full_sweep_at).total_seconds() >= self._policy.full_max_age_seconds:
            return True
        return state.runs_since_full_sweep + 1 >= self._policy.full_every_n_runs

    def _pages(
        self,
        account_id: str,
        updated_after: str | None,
        started: float,
        budget: float,
        report: SyncReport,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of raw postings, following `next` until empty (short and empty pages included).

        Pages stay sequential (each cursor comes from the previous page), but the next page is fetched
        while the caller processes the current one, so hashing, mapping and writing hide behind
        StackOne's latency instead of adding to it.
        """

        def fetch(cursor: str | None) -> JobPostingsPage:
            if self._monotonic() - started >= budget:
                raise _BudgetExhausted()
            return self._stackone.list_job_postings_page(
                account_id, cursor=cursor, updated_after=updated_after
            )

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"pages-{account_id[:16]}") as prefetcher:
            page = fetch(None)
            while True:
                report.pages += 1
                cursor = page.next.strip() if page.next and page.next.strip() else None
                # The copied context carries the client's time budget into the prefetching thread.
                pending = prefetcher.submit(contextvars.copy_context().run, fetch, cursor) if cursor else None
                yield page.data
                if pending is None:
                    return
                page = pending.result()

    def _apply_page(
        self,
        raw_page: Iterable[Any],
        info: AccountInfo,
        index: dict[str, PostingMetaLike],
        seen: set[str],
        report: SyncReport,
    ) -> None:
        """Write what changed on one page: unchanged postings are recognised by hash, without mapping."""
        changed: list[tuple[Posting, str]] = []
        for raw in raw_page:
            posting_id = raw_posting_id(raw)
            if posting_id is None:
                report.skipped += 1
                continue
            if posting_id in seen:
                continue  # some providers repeat a posting across pages: count it once
            seen.add(posting_id)
            status = "live" if is_visible(raw) else "closed"
            hash_ = source_hash(raw, info)
            existing = index.get(posting_id)
            if existing is None and status != "live":
                continue  # never on the board: nothing to store or close
            if existing is not None:
                if existing.content_hash == hash_ and existing.status == status:
                    report.unchanged += status == "live"
                    continue
                if existing.status != "live" and status != "live":
                    continue  # closed and still closed: its content no longer matters to the board
            try:
                mapped = map_posting(raw, info)
            except (PostingMappingError, ValueError):
                report.skipped += 1
                continue
            changed.append((mapped, hash_))
        if not changed:
            return
        now = self._clock()
        previous = self._postings.get_many(
            info.account_id, [m.posting_id for m, _ in changed if m.posting_id in index]
        )
        writes: list[tuple[Posting, str]] = []
        for mapped, hash_ in changed:
            entry = previous.get(mapped.posting_id)
            posting = self._stamped(mapped, entry.posting if entry else None, now)
            writes.append((posting, hash_))
            if posting.status == "live":
                report.upserted += 1
            else:
                report.closed += 1
        self._write(writes, index)

    @staticmethod
    def _stamped(mapped: Posting, previous: Posting | None, now: datetime) -> Posting:
        """The mapped posting with its history: first seen kept, changed_at forward, closed_at set."""
        closing = mapped.status != "live"
        return mapped.model_copy(
            update={
                # a reopened or edited posting keeps when it was first seen
                "first_seen_at": (previous.first_seen_at if previous else None) or now,
                "last_seen_at": now,
                "changed_at": _advance(previous.changed_at if previous else None, now),
                "closed_at": now if closing else None,
            }
        )

    def _close_missing(
        self, account_id: str, index: dict[str, PostingMetaLike], seen: set[str], report: SyncReport
    ) -> None:
        """Close live postings a complete listing did not contain."""
        missing = [pid for pid, meta in index.items() if pid not in seen and meta.status == "live"]
        if not missing:
            return
        now = self._clock()
        writes = [self._closed(entry, now) for entry in self._postings.get_many(account_id, missing).values()]
        report.closed += len(writes)
        self._write(writes, index)

    @staticmethod
    def _closed(entry: StoredPostingLike, now: datetime) -> tuple[Posting, str]:
        previous = entry.posting
        posting = previous.model_copy(
            update={"status": "closed", "closed_at": now, "changed_at": _advance(previous.changed_at, now)}
        )
        return posting, entry.content_hash  # the source hash is kept: an unchanged return reopens it

    def _write(self, writes: list[tuple[Posting, str]], index: dict[str, PostingMetaLike]) -> None:
        if not writes:
            return
        self._postings.write(writes)
        for posting, hash_ in writes:
            index[posting.posting_id] = _Meta(hash_, posting.status)

    def _close_account(
        self, state: AccountSyncState, report: SyncReport, *, account_status: str, started_at: datetime
    ) -> SyncReport:
        """The account is deleted or no longer active in StackOne: take its postings off the board."""
        report.mode = "close"
        index = self._postings.load_index(report.account_id)
        self._close_missing(report.account_id, index, set(), report)
        state.account_status = account_status
        state.needs_attention = True
        state.attention_reason = "account_deleted" if account_status == "deleted" else "account_inactive"
        self._log.info(
            "account closed",
            extra={
                "account_id": report.account_id,
                "run_id": report.run_id,
                "account_status": account_status,
                "closed": report.closed,
            },
        )
        return self._finish(state, report, "succeeded", started_at, index=index, keep_attention=True)

    def _succeed(
        self,
        state: AccountSyncState,
        report: SyncReport,
        started_at: datetime,
        index: dict[str, PostingMetaLike] | None,
        *,
        full: bool,
    ) -> SyncReport:
        state.watermark = started_at
        if full:
            state.last_full_sweep_at = started_at
            state.runs_since_full_sweep = 0
        else:
            state.runs_since_full_sweep += 1
        return self._finish(state, report, "succeeded", started_at, index=index)

    def _fail(
        self,
        state: AccountSyncState,
        report: SyncReport,
        exc: StackOneError,
        started_at: datetime,
        index: dict[str, PostingMetaLike] | None,
    ) -> SyncReport:
        reason = next((r for error_type, r in _ATTENTION_REASONS if isinstance(exc, error_type)), None)
        # A short, fixed description: StackOne's body may echo provider data, so it is never stored.
        detail = f"{exc.code}: StackOne answered {exc.status}" if exc.status else f"{exc.code}: {exc.message}"
        if exc.error_code:
            detail += f" ({exc.error_code})"
        if reason is not None:
            state.needs_attention = True
            state.attention_reason = reason
            return self._finish(
                state, report, "needs_attention", started_at, error=detail, index=index, keep_attention=True
            )
        return self._finish(state, report, "failed", started_at, error=detail, index=index)

    def _finish(
        self,
        state: AccountSyncState,
        report: SyncReport,
        outcome: str,
        started_at: datetime,
        *,
        error: str | None = None,
        index: dict[str, PostingMetaLike] | None = None,
        keep_attention: bool = False,
    ) -> SyncReport:
        report.outcome = outcome
        report.error_code = error.split(":", 1)[0] if error else None
        if index is not None:
            report.live_postings = sum(1 for meta in index.values() if meta.status == "live")
        else:
            report.live_postings = state.live_postings
        state.last_run_id = report.run_id
        state.last_started_at = started_at
        state.last_finished_at = self._clock()
        state.last_outcome = outcome  # type: ignore[assignment]
        state.last_mode = report.mode
        state.upserted, state.unchanged, state.closed = report.upserted, report.unchanged, report.closed
        state.skipped = report.skipped
        state.live_postings = report.live_postings
        state.last_error = error
        if outcome == "succeeded":
            state.consecutive_failures = 0
        else:
            state.consecutive_failures += 1
        if not keep_attention and outcome == "succeeded":
            state.needs_attention = False
            state.attention_reason = None
        self._states.put(state)
        self._record(report)
        return report

    def _record(self, report: SyncReport) -> None:
        self._metrics.count("PostingsUpserted", report.upserted)
        self._metrics.count("PostingsUnchanged", report.unchanged)
        self._metrics.count("PostingsClosed", report.closed)
        if report.outcome in ("failed", "needs_attention"):
            self._metrics.count("AccountsFailed", 1)
        elif report.outcome == "succeeded":
            self._metrics.count("AccountsSucceeded", 1)
        log = self._log.info if report.outcome == "succeeded" else self._log.warning
        log("account sync finished", extra={**report.as_dict()})

    # Webhooks -------------------------------------------------------------------------------------

    def refresh_posting(self, account_id: str, posting_id: str) -> str:
        """Re-read one posting from StackOne and store it; returns "upserted", "closed" or "unchanged"."""
        info = self._account_info(account_id)
        try:
            raw = self._stackone.get_job_posting(account_id, posting_id)
        except StackOneNotFoundError:
            return self.close_posting(account_id, posting_id)
        existing = self._postings.get(account_id, posting_id)
        index: dict[str, PostingMetaLike] = {}
        if existing is not None:
            index[posting_id] = _Meta(existing.content_hash, existing.posting.status)
        report = SyncReport(account_id=account_id, run_id="webhook")
        self._apply_page([raw], info, index, set(), report)
        if report.upserted:
            kind = "upserted"
        elif report.closed:
            kind = "closed"
        else:
            return "unchanged"
        self._log.info(
            "posting refreshed", extra={"account_id": account_id, "posting_id": posting_id, "change": kind}
        )
        return kind

    def close_posting(self, account_id: str, posting_id: str) -> str:
        existing = self._postings.get(account_id, posting_id)
        if existing is None or existing.posting.status != "live":
            return "unchanged"
        self._postings.write([self._closed(existing, self._clock())])
        self._log.info("posting closed", extra={"account_id": account_id, "posting_id": posting_id})
        return "closed"

    def close_account(self, account_id: str, run_id: str, *, account_status: str = "deleted") -> SyncReport:
        state = self._states.get(account_id) or AccountSyncState(account_id=account_id)
        report = SyncReport(account_id=account_id, run_id=run_id)
        return self._close_account(state, report, account_status=account_status, started_at=self._clock())

    def _account_info(self, account_id: str) -> AccountInfo:
        state = self._states.get(account_id)
        if state is not None and state.employer_id and state.company and state.provider:
            return AccountInfo(account_id, state.employer_id, state.company, state.provider)
        account = self._stackone.get_account(account_id)
        return AccountInfo(account_id, account.origin_owner_id, account.origin_owner_name, account.provider)


@dataclass(frozen=True)
class _Meta:
    content_hash: str
    status: str
