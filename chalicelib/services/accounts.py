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
from chalicelib.errors import NotFoundError, ThrottledError, UpstreamError
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
    """Why the account needs its employer, if it does (StackOne's status first, then the last sync)."""
    attention = _STATUS_ATTENTION.get(account.status.lower())
    if attention is not None:
        details = "; ".join(r.description for r in account.status_reasons or [] if r.description)
        if details:
            return attention.model_copy(update={"reason": f"{attention.reason} StackOne says: {details}"})
        return attention
    if state is not None and state.needs_attention:
        reason = state.attention_reason or "The ATS refused the last sync's credentials."
        return AttentionView(reason=f"{reason} Reconnect the account to resume syncing.", action="reconnect")
    return None


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
        """The employer's accounts (every page), each merged with its sync state."""
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
        return [
            account_view(account, shown_state(state, now, self._stale_after) if state else None)
            for account in owned
            for state in [states.get(account.id)]
        ]

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
        """Queue a sync of one of the employer's accounts, at most once per interval per account."""
        self.owned_account(employer_id, account_id)
        retry_after = self._limiter.try_acquire(account_id, self._interval)
        if retry_after is not None:
            raise ThrottledError(
                f"A sync of this account was requested recently; try again in {retry_after} s.",
                code="sync_recently_requested",
                retry_after=retry_after,
            )
        run_id = self._run_ids()
        try:
            self._publisher.publish(
                [SyncRequested(account_id=account_id, run_id=run_id, mode=mode, reason="employer")]
            )
        except Exception:
            self._limiter.release(account_id)  # nothing was queued: let the employer retry at once
            raise
        return SyncQueuedResponse(account_id=account_id, run_id=run_id, mode=mode)


def _account_not_found(account_id: str) -> NotFoundError:
    return NotFoundError(f"No linked account {account_id} for this employer.", code="account_not_found")
