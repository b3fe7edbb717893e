"""Per-account "sync now" rate limit: one conditional write per request, no read on the happy path.

Item: PK `ACCOUNT#{account_id}`, SK `SYNCNOW`, `requested_at` (ISO), `expires_at` (epoch seconds, the
table's TTL attribute). TTL deletion is lazy (up to days late), so the condition compares `expires_at`
itself rather than relying on the item being gone.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors, ConditionFailedError
from chalicelib.clock import Clock, isoformat, utcnow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _key(account_id: str) -> dict[str, str]:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "SYNCNOW"}


_LIMITER = AwsErrors("storage_unavailable", "The rate limiter is unavailable.")


class DynamoDBSyncNowLimiter:
    """SyncNowLimiter on the application table."""

    def __init__(self, table: Table, *, now: Clock = utcnow) -> None:
        self._table = table
        self._now = now

    def try_acquire(self, account_id: str, interval_seconds: int) -> int | None:
        """Take the account's slot for `interval_seconds`; None if taken now, else seconds to wait."""
        now = self._now()
        epoch = math.floor(now.timestamp())
        try:
            with _LIMITER:
                self._table.put_item(
                    Item={
                        **_key(account_id),
                        "requested_at": isoformat(now),
                        "expires_at": epoch + interval_seconds,
                    },
                    ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
                    ExpressionAttributeValues={":now": epoch},
                )
            return None
        except ConditionFailedError:
            pass  # taken: how long until it frees up
        with _LIMITER:
            item = self._table.get_item(Key=_key(account_id), ConsistentRead=True).get("Item") or {}
        expires_at = int(str(item.get("expires_at", epoch + interval_seconds)))
        return max(1, min(interval_seconds, expires_at - epoch))

    @_LIMITER
    def release(self, account_id: str) -> None:
        """Give the slot back (the sync could not be queued, so the employer may retry at once)."""
        self._table.delete_item(Key=_key(account_id))
