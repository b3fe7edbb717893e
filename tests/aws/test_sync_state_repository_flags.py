"""The sync-state write keeps flags that other areas set on the same item."""

from __future__ import annotations

from chalicelib import deps
from chalicelib.models.sync_state import AccountSyncState


def test_put_keeps_native_apply_unsupported_flag(aws: None) -> None:
    repository = deps.get_sync_state_repository()
    repository.put(AccountSyncState(account_id="acc_1", employer_id="emp_1"))
    deps.get_table().update_item(
        Key={"PK": "ACCOUNT#acc_1", "SK": "SYNC"},
        UpdateExpression="SET native_apply_unsupported = :t",
        ExpressionAttributeValues={":t": True},
    )

    repository.put(AccountSyncState(account_id="acc_1", employer_id="emp_1", upserted=3))

    item = deps.get_table().get_item(Key={"PK": "ACCOUNT#acc_1", "SK": "SYNC"})["Item"]
    assert item["native_apply_unsupported"] is True
    stored = repository.get("acc_1")
    assert stored is not None and stored.upserted == 3
