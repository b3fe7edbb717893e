"""An employer's linked StackOne accounts: ownership, sync health, and "sync now"."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Literal, Protocol

from chalicelib.clients.stackone.errors import (
    StackOneAuthError,
    StackOneForbiddenError,
    StackOneNotFoundError,
)
from chalicelib.clients.stackone.models import LinkedAccount
from chalicelib.clock import Clock, utcnow
from chalicelib.errors import AppError, ConflictError, NotFoundError, ThrottledError, UpstreamError
from chalicelib.models.employer_api import (
    AccountView,
    AttentionView,
    SkippedPostingView,
    StatusReasonView,
    SyncQueuedResponse,
    SyncView,
)
from chalicelib.models.messages import SyncPublisher, SyncRequested
from chalicelib.models.sync_state import AccountSyncState
from chalicelib.observability import logger

# The sync's attention reasons (AccountSyncState.attention_reason), in the employer's words.
_STATE_ATTENTION: dict[str, str] = {
    "reconnect": "The ATS refused the board's access: the credentials have expired or were revoked.",
    "permissions": "The ATS no longer lets the board read your job postings (a permission was removed).",
    "integration_disabled": "The integration with your ATS is disabled for this connection.",
    "account_inactive": "The connection to your ATS is no longer active.",
}
# An account linked this recently without any sync yet gets its first sync when the console lists it
# (StackOne's `account.created` webhook does the same where webhooks are configured; older ones wait for
# the schedule).
FIRST_SYNC_WINDOW = timedelta(hours=1)

# StackOne account statuses that mean syncing cannot work until someone acts.
_STATUS_ATTENTION: dict[str, AttentionView] = {
    "expired": AttentionView(
        reason="The ATS credentials have expired. Reconnect the account to resume syncing.",
        action="reconnect",
    ),
    "error": AttentionView(
        reason="StackOne reports an error with this connection. Reconnect the account.",
        action="reconnect",
    ),
    "inactive": AttentionView(
        reason="The connection is inactive. Reconnect the account to resume syncing.",
        action="reconnect",
    ),
    "suspended": AttentionView(
        reason="The connection is suspended. Contact the job board's operator.",
        action="contact_operator",
    ),
}


class AccountsGateway(Protocol):
    def list_accounts(self, *, origin_owner_id: str | None = None) -> list[LinkedAccount]: ...
    def get_account(self, account_id: str) -> LinkedAccount: ...


class SyncStates(Protocol):
    def get_many(self, account_ids: Iterable[str]) -> dict[str, AccountSyncState]: ...


class SyncNowLimiter(Protocol):
    def try_acquire(self, account_id: str, interval_seconds: int) -> int | None: ...
    def release(self, account_id: str) -> None: ...


def platform_error() -> UpstreamError:
    """StackOne refusing the board's own API key: an operator problem, not the employer's credentials."""
    return UpstreamError(
        "StackOne rejected the job board's API key; the operator must check the StackOne configuration.",
        code="stackone_key_rejected",
    )


def attention_for(account: LinkedAccount, state: AccountSyncState | None) -> AttentionView | None:
    """Why the account needs its employer, if it does (StackOne's status first, then the last sync),
    with the broken link's grace deadline when the sync has seen it."""
    grace = (
        {"since": state.attention_since, "postings_close_at": state.grace_until}
        if state is not None and state.grace_until is not None
        else {}
    )
    attention = _STATUS_ATTENTION.get(account.status.lower())
    if attention is not None:
        details = "; ".join(r.description for r in account.status_reasons or [] if r.description)
        reason = f"{attention.reason} StackOne says: {details}" if details else attention.reason
        return attention.model_copy(update={"reason": reason, **grace})
    if state is not None and state.needs_attention:
        code = state.attention_reason or ""
        reason = _STATE_ATTENTION.get(code, code or "The ATS refused the last sync's credentials.")
        return AttentionView(
            reason=f"{reason} Reconnect the account to resume syncing.", action="reconnect", **grace
        )
    return None


def reconnected_since_failure(account: LinkedAccount, state: AccountSyncState | None) -> bool:
    """StackOne lists the account as active and changed it after the sync last saw it fail (the employer
    went through the Hub again): a new sync is how the board finds out whether the link works."""
    if state is None or not state.needs_attention or account.status.lower() != "active":
        return False
    # The last run's end, not the first failure: once a sync after the re-link failed too, the link is
    # still broken (and listing the accounts stops queueing syncs for it).
    failed_at = state.last_finished_at or state.attention_since
    return account.updated_at is not None and failed_at is not None and account.updated_at > failed_at


def reconnect_required(account: LinkedAccount, state: AccountSyncState | None) -> bool:
    """A sync cannot work until the employer reconnects the account through the Hub."""
    attention = attention_for(account, state)
    if attention is None or attention.action != "reconnect":
        return False
    return not reconnected_since_failure(account, state)


INTERRUPTED = "run_interrupted: the run stopped without recording an outcome"


def shown_state(state: AccountSyncState, now: datetime, stale_after: timedelta) -> AccountSyncState:
    """A run still `running` past the worker's timeout died without a word: show it as failed (the
    next fan-out records that too)."""
    if state.last_outcome != "running" or state.last_started_at is None:
        return state
    if now - state.last_started_at < stale_after:
        return state
    return state.model_copy(
        update={
            "last_outcome": "failed",
            "last_error": INTERRUPTED,
            "consecutive_failures": state.consecutive_failures + 1,
        }
    )


def account_view(account: LinkedAccount, state: AccountSyncState | None) -> AccountView:
    attention = attention_for(account, state)
    return AccountView(
        account_id=account.id,
        provider=account.provider,
        provider_name=account.provider_name,
        label=account.label,
        status=account.status,
        status_reasons=[
            StatusReasonView.model_validate(r.model_dump()) for r in account.status_reasons or []
        ],
        created_at=account.created_at,
        sync=SyncView(
            last_run_started_at=state.last_started_at,
            last_run_finished_at=state.last_finished_at,
            last_outcome=state.last_outcome,
            live_postings=state.live_postings,
            last_error=state.last_error,
            consecutive_failures=state.consecutive_failures,
            skipped=state.skipped,
            skipped_postings=[
                SkippedPostingView(posting_id=entry.posting_id, reason=entry.reason)
                for entry in state.skipped_postings
            ],
            paging_issue=state.paging_issue,
            unplaced_locations=state.unplaced_locations,
            unplaced_location_names=list(state.unplaced_location_names),
        )
        if state
        else SyncView(),
        needs_attention=attention is not None,
        attention=attention,
    )


class AccountsService:
    """Lists, checks ownership of, and queues syncs for an employer's linked accounts."""

    def __init__(
        self,
        stackone: AccountsGateway,
        sync_states: SyncStates,
        publisher: SyncPublisher,
        limiter: SyncNowLimiter,
        *,
        sync_now_min_interval_seconds: int = 60,
        run_ids: Callable[[], str] = lambda: uuid.uuid4().hex,
        stale_run_seconds: float = 300.0,
        now: Clock = utcnow,
    ) -> None:
        self._stale_after = timedelta(seconds=stale_run_seconds)
        self._now = now
        self._stackone = stackone
        self._sync_states = sync_states
        self._publisher = publisher
        self._limiter = limiter
        self._interval = sync_now_min_interval_seconds
        self._run_ids = run_ids

    def list_for(self, employer_id: str) -> list[AccountView]:
        """The employer's accounts (every page), each merged with its sync state.

        A just-linked account that was never synced, or one reconnected since its link broke, gets a
        sync queued at once (at most once per sync-now interval), so its postings need not wait for the
        schedule.
        """
        try:
            accounts = self._stackone.list_accounts(origin_owner_id=employer_id)
        except (StackOneAuthError, StackOneForbiddenError) as exc:
            raise platform_error() from exc
        # StackOne filters by owner; filter again so a misbehaving filter can never leak another's account.
        owned = [account for account in accounts if account.origin_owner_id == employer_id]
        states: Mapping[str, AccountSyncState] = (
            self._sync_states.get_many(a.id for a in owned) if owned else {}
        )
        now = self._now()
        for account in owned:
            state = states.get(account.id)
            just_linked = (
                state is None
                and account.status.lower() == "active"
                and account.created_at is not None
                and now - account.created_at < FIRST_SYNC_WINDOW
            )
            if just_linked or reconnected_since_failure(account, state):
                self._queue_quietly(account.id, "full")
        return [
            account_view(account, shown_state(state, now, self._stale_after) if state else None)
            for account in owned
            for state in [states.get(account.id)]
        ]

    def _queue_quietly(self, account_id: str, mode: Literal["auto", "full"]) -> None:
        """Queue a sync unless one was requested within the interval; a failure never fails the listing
        (the schedule picks the account up anyway)."""
        try:
            if self._limiter.try_acquire(account_id, self._interval) is not None:
                return
            self._queue(account_id, mode)
        except AppError as exc:
            logger.warning("first sync not queued", extra={"account_id": account_id, "error_code": exc.code})

    def owned_account(self, employer_id: str, account_id: str) -> LinkedAccount:
        """The linked account if it belongs to the employer; NotFoundError otherwise (never 403, so
        another employer's account ids cannot be probed)."""
        try:
            account = self._stackone.get_account(account_id)
        except StackOneNotFoundError as exc:
            raise _account_not_found(account_id) from exc
        except (StackOneAuthError, StackOneForbiddenError) as exc:
            raise platform_error() from exc
        if account.origin_owner_id != employer_id:
            raise _account_not_found(account_id)
        return account

    def request_sync(
        self, employer_id: str, account_id: str, mode: Literal["auto", "full"] = "auto"
    ) -> SyncQueuedResponse:
        """Queue a sync of one of the employer's accounts, at most once per interval per account.

        An account whose link is broken is refused (ConflictError `reconnect_required`): the sync would
        be refused by the ATS too, and only reconnecting through the Hub fixes it.
        """
        account = self.owned_account(employer_id, account_id)
        state = self._sync_states.get_many([account_id]).get(account_id)
        if reconnect_required(account, state):
            raise ConflictError(
                "This account's connection to the ATS is broken: reconnect it (mint a connect session with "
                "its account_id and open the Hub), then the board syncs it.",
                code="reconnect_required",
            )
        retry_after = self._limiter.try_acquire(account_id, self._interval)
        if retry_after is not None:
            raise ThrottledError(
                f"A sync of this account was requested recently; try again in {retry_after} s.",
                code="sync_recently_requested",
                retry_after=retry_after,
            )
        run_id = self._queue(account_id, mode)
        return SyncQueuedResponse(account_id=account_id, run_id=run_id, mode=mode)

    def _queue(self, account_id: str, mode: Literal["auto", "full"]) -> str:
        run_id = self._run_ids()
        try:
            self._publisher.publish(
                [SyncRequested(account_id=account_id, run_id=run_id, mode=mode, reason="employer")]
            )
        except Exception:
            self._limiter.release(account_id)  # nothing was queued: let the employer retry at once
            raise
        return run_id


def _account_not_found(account_id: str) -> NotFoundError:
    return NotFoundError(f"No linked account {account_id} for this employer.", code="account_not_found")
