"""Sync-state repository: every known account can be listed without a scan."""

from __future__ import annotations

from chalicelib import deps
from chalicelib.models.sync_state import AccountSyncState


def test_list_account_ids_returns_every_state(aws: None) -> None:
    repository = deps.get_sync_state_repository()
    for account_id in ("a1", "a2", "a3"):
        repository.put(AccountSyncState(account_id=account_id, account_status="active"))
    repository.put(AccountSyncState(account_id="a2", account_status="deleted"))  # overwrite, not a duplicate
    assert sorted(repository.list_account_ids()) == ["a1", "a2", "a3"]
    state = repository.get("a2")
    assert state is not None and state.account_status == "deleted"
