"""Replay guard for webhooks: one conditional put per delivery, expiring through the table's TTL."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.aws.errors import TABLE, ConditionFailedError
from chalicelib.errors import UpstreamUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _key(digest: str) -> dict[str, str]:
    return {"PK": f"WEBHOOK#{digest}", "SK": "WEBHOOK"}


class DynamoDBWebhookReplayGuard:
    """Items PK=WEBHOOK#{sha256(body)}, SK=WEBHOOK with `expires_at` (epoch seconds, TTL)."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def claim(self, digest: str, *, now: datetime, expires_at: datetime) -> bool:
        try:
            with TABLE:
                self._table.put_item(
                    Item={**_key(digest), "expires_at": int(expires_at.timestamp())},
                    # An expired item may linger until TTL deletes it: it no longer counts as a replay.
                    ConditionExpression="attribute_not_exists(PK) OR expires_at < :now",
                    ExpressionAttributeValues={":now": int(now.timestamp())},
                )
        except ConditionFailedError:
            return False
        return True

    def release(self, digest: str) -> None:
        with contextlib.suppress(UpstreamUnavailableError), TABLE:  # else the claim simply expires
            self._table.delete_item(Key=_key(digest))
