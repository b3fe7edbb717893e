"""Syncing linked ATS accounts' postings from StackOne into the board's store.

One account per run: read the account, list its postings (a delta from the watermark, or a full sweep),
map them, write only what changed, close what a *complete* full listing no longer contains, and record
the outcome in the account's sync state. Failures stay inside the account: auth problems mark it as
needing attention, anything else is recorded and left for the next run, with the watermark unchanged.

Guards against a StackOne that misbehaves: a listing that repeats a cursor or passes the page cap stops
(closing nothing, recorded as `paging_issue`); a posting that cannot be mapped or stored is skipped and
named in the sync state while the rest of the account syncs; a run that crashes records `failed` before
the error propagates, and a run that died without a word is marked failed by the next fan-out.
Deletions reach the board within the hour through a cheap existence sweep (ids and status only).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
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
from chalicelib.clients.stackone.models import JobPostingsPage, LinkedAccount, ListPage
from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.errors import AppError, UnstorableItemsError
from chalicelib.models.messages import SyncPublisher, SyncRequested
from chalicelib.models.posting import Posting
from chalicelib.models.sync_state import AccountSyncState, DepartmentsCache, SkippedPosting
from chalicelib.services.mapping import (
    AccountInfo,
    department_names,
    is_unplaced,
    is_visible,
    map_posting,
    raw_posting_id,
    source_hash,
)
from chalicelib.services.metrics import MetricsSink

Mode = Literal["auto", "full", "delta"]

# --------------------------------------------------------------------------------------------------
# Collaborators (structural: the real adapters and the tests' in-memory fakes both fit).


class StackOneGateway(Protocol):
    def list_accounts(self) -> list[LinkedAccount]: ...

    def get_account(self, account_id: str) -> LinkedAccount: ...

    def list_job_postings_page(
        self,
        account_id: str,
        *,
        cursor: str | None = None,
        updated_after: str | None = None,
        fields: str | None = None,
    ) -> JobPostingsPage: ...

    def list_jobs_page(self, account_id: str, *, cursor: str | None = None) -> ListPage: ...

    def list_departments_page(self, account_id: str, *, cursor: str | None = None) -> ListPage: ...

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


class DepartmentsStore(Protocol):
    def get_departments(self, account_id: str) -> DepartmentsCache | None: ...

    def put_departments(self, account_id: str, cache: DepartmentsCache) -> None: ...


class EmployerRegistry(Protocol):
    """Which StackOne origin owners are employers registered on the board."""

    def is_registered(self, employer_id: str) -> bool: ...

    def registered_ids(self) -> set[str]: ...


class EmployerRecords(Protocol):
    def get_employer(self, employer_id: str) -> Any: ...

    def list_employers(self) -> list[Any]: ...


class RepositoryEmployerRegistry:
    """EmployerRegistry over the employers repository (one GetItem, or one listing for the fan-out)."""

    def __init__(self, employers: EmployerRecords) -> None:
        self._employers = employers

    def is_registered(self, employer_id: str) -> bool:
        return bool(employer_id) and self._employers.get_employer(employer_id) is not None

    def registered_ids(self) -> set[str]:
        return {employer.employer_id for employer in self._employers.list_employers()}


class AttentionNotifier(Protocol):
    def review(self, state: AccountSyncState, *, postings_closed: int, now: datetime) -> None:
        """Tell the employer about an account that needs attention (recorded on `state`); never raises."""
        ...


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
    # A listing stops (as incomplete, closing nothing) after this many pages: 100,000 postings at 100.
    max_pages: int = 1000
    # A delta run also sweeps for deletions (ids and status only) when the last sweep is this old:
    # with a 15-minute schedule, every other run, so a deleted posting leaves within the hour.
    existence_sweep_seconds: int = 1500
    # How long the fan-out may retry listing the linked accounts (the sync_all Lambda has 60 s).
    fan_out_budget_seconds: float = 40.0
    # A run still "running" after this long died without recording an outcome (the worker's timeout).
    stale_run_seconds: float = 300.0
    # How many skipped postings a sync state names (the count covers all of them).
    skipped_names_kept: int = 20
    # A broken credential keeps the account's postings on the board this long after the first failure.
    broken_link_grace_seconds: float = 72 * 3600.0


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
    existence_sweep: bool = False
    skipped_postings: list[dict[str, str]] = field(default_factory=list)
    # Location names of this run's written postings that the gazetteer could not place (no distance
    # filter finds those postings), counted, and the first few distinct names.
    unplaced_locations: int = 0
    unplaced_names: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def unplaced(self, name: str, *, keep: int = 20) -> None:
        """Count a location name the gazetteer could not place, naming the first `keep` distinct ones."""
        self.unplaced_locations += 1
        if name not in self.unplaced_names and len(self.unplaced_names) < keep:
            self.unplaced_names.append(name[:200])

    def skip(self, posting_id: str | None, reason: str, *, keep: int = 20) -> None:
        """Count a posting left out of this run, naming the first `keep` of them."""
        self.skipped += 1
        if posting_id is not None and len(self.skipped_postings) < keep:
            self.skipped_postings.append({"posting_id": posting_id, "reason": reason})


# StackOne account statuses that a reconnect through the Hub fixes: like a 401/403/412, they start the
# grace period instead of closing the postings at once. Deleted, suspended or archived accounts close.
BROKEN_LINK_STATUSES = frozenset({"expired", "error", "inactive"})

_ATTENTION_REASONS: tuple[tuple[type[StackOneError], str], ...] = (
    (StackOneAuthError, "reconnect"),  # expired or revoked credentials: re-link through the Hub
    (StackOneForbiddenError, "permissions"),
    (StackOnePreconditionError, "integration_disabled"),
)


class _BudgetExhausted(Exception):
    """The run's time budget ran out between pages."""


class _ListingIncomplete(Exception):
    """A listing stopped early on purpose (repeated cursor, page cap): what was read is kept, nothing
    is closed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# The existence sweep reads only what tells whether a posting belongs on the board.
_SWEEP_FIELDS = "id,status,internal"


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
        departments: DepartmentsStore | None = None,
        employers: EmployerRegistry | None = None,
        attention: AttentionNotifier | None = None,
    ) -> None:
        self._stackone = stackone
        self._attention = attention  # None: employers are not emailed about their connections
        self._postings = postings
        self._states = states
        self._publisher = publisher
        self._departments = departments  # None: departments are not mapped
        self._employers = employers  # None: every owner counts as registered
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
        """One message per active ATS account of a registered employer, plus known accounts that must
        leave the board (vanished, inactive, or no longer a registered employer's) so they are closed.

        Listing the accounts is retried (5xx, timeouts, 429) within `fan_out_budget_seconds`. Runs that
        died without recording an outcome are marked failed here.
        """
        with self._stackone.time_budget(self._policy.fan_out_budget_seconds):
            listed = self._stackone.list_accounts()
        allowed = self._policy.ats_providers
        registered = self._employers.registered_ids() if self._employers is not None else None
        active_ids = [
            a.id
            for a in listed
            if a.status == "active"
            and (allowed is None or a.provider in allowed)
            and (registered is None or a.origin_owner_id in registered)
        ]
        active = set(active_ids)
        # Accounts we still believe active (or that still have postings on the board) but StackOne lists
        # as inactive or not at all, or whose owner is not a registered employer: the worker sees that
        # and closes their postings (once: then they are neither active nor showing postings).
        listed_ids = {a.id for a in listed}
        gone: list[str] = []
        now = self._clock()
        for account_id in self._states.list_account_ids():
            state = self._states.get(account_id)  # GetItem: the fan-out's role has no BatchGetItem
            if state is None:
                continue
            self._repair_stale_run(state, now)
            if account_id in active:
                continue
            unregistered = state.attention_reason == "employer_not_registered"
            if state.live_postings > 0 or (state.account_status == "active" and not unregistered):
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

    def _repair_stale_run(self, state: AccountSyncState, now: datetime) -> None:
        """A run still `running` long after its worker's timeout died (killed, out of memory): say so."""
        if state.last_outcome != "running" or state.last_started_at is None:
            return
        if (now - state.last_started_at).total_seconds() < self._policy.stale_run_seconds:
            return
        state.last_outcome = "failed"
        state.last_finished_at = now
        state.last_error = "run_interrupted: the run stopped without recording an outcome"
        state.consecutive_failures += 1
        self._states.put(state)
        self._log.warning(
            "sync run interrupted", extra={"account_id": state.account_id, "run_id": state.last_run_id}
        )

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
        swept = False
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
                state.label = account.label
                if account.status in BROKEN_LINK_STATUSES:
                    state.account_status = account.status
                    return self._broken_link(
                        state,
                        report,
                        started_at,
                        reason="account_inactive",
                        error=f"account_{account.status}: StackOne lists the account as {account.status}",
                    )
                if account.status != "active":
                    return self._close_account(
                        state, report, account_status=account.status, started_at=started_at
                    )
                if self._employers is not None and not self._employers.is_registered(info.employer_id):
                    # Never published: the owner is not an employer of this board.
                    return self._close_account(
                        state,
                        report,
                        account_status=account.status,
                        started_at=started_at,
                        reason="employer_not_registered",
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
                departments = self._load_departments(account_id, refresh=full, started=started, report=report)
                seen: set[str] = set()

                def postings_page(cursor: str | None) -> ListPage:
                    return self._stackone.list_job_postings_page(
                        account_id, cursor=cursor, updated_after=updated_after
                    )

                for raw_page in self._pages(postings_page, started, report, what="job postings"):
                    self._apply_page(raw_page, info, index, seen, report, departments)
                if full:
                    self._close_missing(account_id, index, seen, report)
                    swept = True
                elif self._wants_existence_sweep(state, started_at):
                    self._existence_sweep(account_id, index, started, report)
                    swept = True
        except _ListingIncomplete as exc:
            # What was read stays written; nothing is closed and the watermark stays, like a timeout.
            self._log.warning("listing stopped early", extra={**log_keys, "reason": exc.reason})
            return self._finish(
                state,
                report,
                "partial",
                started_at,
                error=f"paging_stopped: {exc.reason}",
                index=index,
                paging_issue=exc.reason,
            )
        except (_BudgetExhausted, StackOneBudgetExceededError):
            # Work done so far stays written; the watermark doesn't move, so the next run redoes the rest.
            return self._finish(
                state, report, "partial", started_at, error="budget_exhausted: time ran out", index=index
            )
        except StackOneError as exc:
            return self._fail(state, report, exc, started_at, index)
        except Exception as exc:
            # Anything else (the table unavailable, a bug): record it, then let the message be retried.
            self._record_crash(state, report, exc, started_at, index)
            raise
        return self._succeed(state, report, started_at, index, full=report.mode == "full", swept=swept)

    def _record_crash(
        self,
        state: AccountSyncState,
        report: SyncReport,
        exc: Exception,
        started_at: datetime,
        index: dict[str, PostingMetaLike] | None,
    ) -> None:
        code = exc.code if isinstance(exc, AppError) else "internal_error"
        try:
            self._finish(
                state, report, "failed", started_at, error=f"{code}: {type(exc).__name__}", index=index
            )
        except Exception:  # the store itself may be what failed; the next fan-out repairs the state
            self._log.warning(
                "could not record a failed run",
                extra={"account_id": report.account_id, "run_id": report.run_id},
            )

    def _wants_existence_sweep(self, state: AccountSyncState, now: datetime) -> bool:
        last = max(
            (moment for moment in (state.last_existence_sweep_at, state.last_full_sweep_at) if moment),
            default=None,
        )
        return last is None or (now - last).total_seconds() >= self._policy.existence_sweep_seconds

    def _existence_sweep(
        self, account_id: str, index: dict[str, PostingMetaLike], started: float, report: SyncReport
    ) -> None:
        """List only ids and status; close live postings StackOne no longer lists as visible.

        Deletions never show up in a delta, so without this a deleted posting stayed up until the next
        full sweep (up to a day). Closes nothing unless the listing is complete.
        """

        def page(cursor: str | None) -> ListPage:
            return self._stackone.list_job_postings_page(account_id, cursor=cursor, fields=_SWEEP_FIELDS)

        visible: set[str] = set()
        for raw_page in self._pages(page, started, report, what="existence sweep"):
            for raw in raw_page:
                posting_id = raw_posting_id(raw)
                if posting_id is not None and is_visible(raw):
                    visible.add(posting_id)
        report.existence_sweep = True
        self._close_missing(account_id, index, visible, report)

    def _load_departments(
        self, account_id: str, *, refresh: bool, started: float, report: SyncReport
    ) -> _DepartmentMap:
        """Job id -> department name: listed from StackOne on a full sweep, else the cached map (which
        is refreshed once in the run if a posting names a job it does not know, e.g. a new job)."""
        if self._departments is None:
            return _DepartmentMap({}, None)
        cached = self._departments.get_departments(account_id)

        def listed() -> dict[str, str]:
            return self._refresh_departments(account_id, cached, started, report)

        if refresh:
            return _DepartmentMap(listed(), None)
        return _DepartmentMap(dict(cached.by_job) if cached else {}, listed)

    def _refresh_departments(
        self, account_id: str, cached: DepartmentsCache | None, started: float, report: SyncReport
    ) -> dict[str, str]:
        """List the account's jobs and departments. The map is stored only when its hash changes, so an
        unchanged resync writes nothing. A provider without jobs or departments (or a failing listing)
        keeps the cached map: never fatal to the run."""
        assert self._departments is not None

        def every_item(fetch: Callable[[str | None], ListPage], what: str) -> list[Any]:
            pages = self._pages(fetch, started, report, what=what, prefetch=False)
            return [item for raw_page in pages for item in raw_page]

        try:
            jobs = every_item(lambda cursor: self._stackone.list_jobs_page(account_id, cursor=cursor), "jobs")
            departments = every_item(
                lambda cursor: self._stackone.list_departments_page(account_id, cursor=cursor), "departments"
            )
        except StackOneBudgetExceededError:
            raise
        except (StackOneError, _ListingIncomplete) as exc:
            self._log.warning(
                "departments not refreshed",
                extra={"account_id": account_id, "reason": getattr(exc, "code", None) or str(exc)},
            )
            return dict(cached.by_job) if cached else {}
        by_job = department_names(jobs, departments)
        hash_ = hashlib.sha256(json.dumps(by_job, sort_keys=True).encode()).hexdigest()
        if (cached is None and by_job) or (cached is not None and cached.content_hash != hash_):
            self._departments.put_departments(
                account_id, DepartmentsCache(content_hash=hash_, by_job=by_job, refreshed_at=self._clock())
            )
        return by_job

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
        fetch_page: Callable[[str | None], ListPage],
        started: float,
        report: SyncReport,
        *,
        what: str,
        prefetch: bool = True,
    ) -> Iterator[list[Any]]:
        """Pages of raw items, following `next` until empty (short and empty pages included).

        Pages stay sequential (each cursor comes from the previous page), but with `prefetch` the next
        page is fetched while the caller processes the current one, so hashing, mapping and writing hide
        behind StackOne's latency instead of adding to it. A cursor StackOne already gave, or more than
        `max_pages` pages, ends the listing as incomplete (`_ListingIncomplete`) after the page in hand:
        a listing that would never end costs one repeated request, not a run's whole budget.
        """
        budget = self._policy.time_budget_seconds
        max_pages = self._policy.max_pages

        def fetch(cursor: str | None) -> ListPage:
            if self._monotonic() - started >= budget:
                raise _BudgetExhausted()
            return fetch_page(cursor)

        cursors: set[str] = set()
        pages = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pages") as prefetcher:
            page = fetch(None)
            while True:
                pages += 1
                report.pages += 1
                cursor = page.next.strip() if page.next and page.next.strip() else None
                stop: str | None = None
                if cursor is not None and cursor in cursors:
                    stop = f"{what}: StackOne repeated a page cursor (page {pages})"
                elif cursor is not None and pages >= max_pages:
                    stop = f"{what}: more than {max_pages} pages"
                if cursor is not None:
                    cursors.add(cursor)
                pending = None
                if cursor is not None and stop is None and prefetch:
                    # The copied context carries the client's time budget into the prefetching thread.
                    pending = prefetcher.submit(contextvars.copy_context().run, fetch, cursor)
                yield page.data
                if stop is not None:
                    raise _ListingIncomplete(stop)
                if cursor is None:
                    return
                page = pending.result() if pending is not None else fetch(cursor)

    def _apply_page(
        self,
        raw_page: Iterable[Any],
        info: AccountInfo,
        index: dict[str, PostingMetaLike],
        seen: set[str],
        report: SyncReport,
        departments: _DepartmentMap | None = None,
    ) -> None:
        """Write what changed on one page: unchanged postings are recognised by hash, without mapping.

        A posting that cannot be read, mapped or stored is skipped and named in the report; it never
        fails the page or the account.
        """
        keep = self._policy.skipped_names_kept
        changed: list[tuple[Posting, str]] = []
        for raw in raw_page:
            posting_id = raw_posting_id(raw)
            if posting_id is None:
                report.skip(None, "no id", keep=keep)
                continue
            if posting_id in seen:
                continue  # some providers repeat a posting across pages: count it once
            seen.add(posting_id)
            try:
                status = "live" if is_visible(raw) else "closed"
                department = departments.for_job(raw.get("job_id")) if departments is not None else None
                hash_ = source_hash(raw, info, department)
            except Exception as exc:  # e.g. a field of a type no JSON encoder takes
                report.skip(posting_id, f"unreadable: {type(exc).__name__}", keep=keep)
                continue
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
                mapped = map_posting(raw, info, department)
            except Exception as exc:  # PostingMappingError, bad text (lone surrogates), odd shapes
                report.skip(posting_id, f"unmappable: {type(exc).__name__}", keep=keep)
                continue
            changed.append((mapped, hash_))
            if mapped.status == "live":
                for location in mapped.locations:
                    if is_unplaced(location):
                        report.unplaced(location.name, keep=keep)
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
        self._write(writes, index, report)

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
        self._write(writes, index, report)

    @staticmethod
    def _closed(entry: StoredPostingLike, now: datetime) -> tuple[Posting, str]:
        previous = entry.posting
        posting = previous.model_copy(
            update={"status": "closed", "closed_at": now, "changed_at": _advance(previous.changed_at, now)}
        )
        return posting, entry.content_hash  # the source hash is kept: an unchanged return reopens it

    def _write(
        self, writes: list[tuple[Posting, str]], index: dict[str, PostingMetaLike], report: SyncReport
    ) -> None:
        if not writes:
            return
        rejected: dict[str, str] = {}
        try:
            self._postings.write(writes)
        except UnstorableItemsError as exc:  # the store wrote every other posting
            rejected = exc.rejected
        for posting, hash_ in writes:
            reason = rejected.get(posting.posting_id)
            if reason is None:
                index[posting.posting_id] = _Meta(hash_, posting.status)
                continue
            if posting.status == "live":
                report.upserted -= 1
            else:
                report.closed -= 1
            report.skip(posting.posting_id, f"unstorable: {reason}", keep=self._policy.skipped_names_kept)

    def _close_account(
        self,
        state: AccountSyncState,
        report: SyncReport,
        *,
        account_status: str,
        started_at: datetime,
        reason: str | None = None,
        outcome: str = "succeeded",
        error: str | None = None,
        grace_expired: bool = False,
    ) -> SyncReport:
        """The account is deleted, no longer active in StackOne, not a registered employer's, or its
        broken link outlived the grace period: take its postings off the board."""
        report.mode = "close"
        if not grace_expired:  # closed for another reason: no deadline to show
            state.attention_since = state.grace_until = None
        index = self._postings.load_index(report.account_id)
        self._close_missing(report.account_id, index, set(), report)
        state.account_status = account_status
        # Its postings are closed although unchanged at the source: when the account comes back, only a
        # full sweep (not a delta from the old watermark) reopens them.
        state.watermark = None
        state.needs_attention = True
        state.attention_reason = reason or (
            "account_deleted" if account_status == "deleted" else "account_inactive"
        )
        self._log.info(
            "account closed",
            extra={
                "account_id": report.account_id,
                "run_id": report.run_id,
                "account_status": account_status,
                "closed": report.closed,
            },
        )
        return self._finish(state, report, outcome, started_at, error=error, index=index, keep_attention=True)

    def _broken_link(
        self,
        state: AccountSyncState,
        report: SyncReport,
        started_at: datetime,
        *,
        reason: str,
        error: str,
        index: dict[str, PostingMetaLike] | None = None,
    ) -> SyncReport:
        """The account's credential fails: its postings stay on the board until the grace deadline
        (set at the first failure), and close at the first run past it."""
        state.needs_attention = True
        state.attention_reason = reason
        if state.grace_until is None:
            state.attention_since = started_at
            state.grace_until = started_at + timedelta(seconds=self._policy.broken_link_grace_seconds)
        if started_at < state.grace_until:
            return self._finish(
                state, report, "needs_attention", started_at, error=error, index=index, keep_attention=True
            )
        self._log.info(
            "broken link grace period over",
            extra={
                "account_id": report.account_id,
                "run_id": report.run_id,
                "since": isoformat(state.attention_since or started_at),
            },
        )
        return self._close_account(
            state,
            report,
            account_status=state.account_status or "active",
            started_at=started_at,
            reason=reason,
            outcome="needs_attention",
            error=error,
            grace_expired=True,
        )

    def _succeed(
        self,
        state: AccountSyncState,
        report: SyncReport,
        started_at: datetime,
        index: dict[str, PostingMetaLike] | None,
        *,
        full: bool,
        swept: bool = False,
    ) -> SyncReport:
        state.watermark = started_at
        if swept:
            state.last_existence_sweep_at = started_at
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
            return self._broken_link(state, report, started_at, reason=reason, error=detail, index=index)
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
        paging_issue: str | None = None,
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
        state.skipped_postings = [SkippedPosting.model_validate(entry) for entry in report.skipped_postings]
        state.paging_issue = paging_issue
        state.unplaced_locations = report.unplaced_locations
        state.unplaced_location_names = list(report.unplaced_names)
        state.live_postings = report.live_postings
        state.last_error = error
        if outcome == "succeeded":
            state.consecutive_failures = 0
        else:
            state.consecutive_failures += 1
        if not keep_attention and outcome == "succeeded":
            state.needs_attention = False
            state.attention_reason = None
            state.attention_since = state.grace_until = None  # the link works again
        if self._attention is not None:
            self._attention.review(state, postings_closed=report.closed, now=state.last_finished_at)
        self._states.put(state)
        self._record(report)
        return report

    def _record(self, report: SyncReport) -> None:
        self._metrics.count("PostingsUpserted", report.upserted)
        self._metrics.count("PostingsUnchanged", report.unchanged)
        self._metrics.count("PostingsClosed", report.closed)
        if report.skipped:
            self._metrics.count("PostingsSkipped", report.skipped)
        if report.unplaced_locations:
            self._metrics.count("LocationsUnplaced", report.unplaced_locations)
        if report.outcome in ("failed", "needs_attention"):
            self._metrics.count("AccountsFailed", 1)
        elif report.outcome == "succeeded":
            self._metrics.count("AccountsSucceeded", 1)
        log = self._log.info if report.outcome == "succeeded" else self._log.warning
        log("account sync finished", extra={**report.as_dict()})

    # Webhooks -------------------------------------------------------------------------------------

    def refresh_posting(self, account_id: str, posting_id: str) -> str:
        """Re-read one posting from StackOne and store it; returns "upserted", "closed" or "unchanged"."""
        state = self._states.get(account_id)
        if state is not None and state.attention_reason == "employer_not_registered":
            return self.close_posting(account_id, posting_id)  # never published
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
        started = self._monotonic()
        departments = self._load_departments(account_id, refresh=False, started=started, report=report)
        self._apply_page([raw], info, index, set(), report, departments)
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


class _DepartmentMap:
    """Job id -> department name for one run; a job id the map does not know refreshes it, once."""

    def __init__(self, by_job: dict[str, str], refresh: Callable[[], dict[str, str]] | None) -> None:
        self._by_job = by_job
        self._refresh = refresh

    def for_job(self, job_id: Any) -> str | None:
        if not isinstance(job_id, str) or not job_id:
            return None
        if job_id not in self._by_job and self._refresh is not None:
            refresh, self._refresh = self._refresh, None
            self._by_job = refresh()
        return self._by_job.get(job_id) or None  # "": the job has no named department


@dataclass(frozen=True)
class _Meta:
    content_hash: str
    status: str
