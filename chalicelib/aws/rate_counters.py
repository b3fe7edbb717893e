"""Fixed-window request counters: one conditional UpdateItem per request, expiring through the table's TTL.

Item: PK `RATE#{scope}#{subject}`, SK `WINDOW#{window start, epoch seconds}`, `hits`, `expires_at`.
A new window is a new item, so nothing ever has to be reset; TTL removes old windows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors, ConditionFailedError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


_COUNTERS = AwsErrors("storage_unavailable", "The rate limiter is unavailable.")


class DynamoDBRateCounters:
    """RateCounters on the application table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def hit(self, scope: str, subject: str, *, window_start: int, window_seconds: int, limit: int) -> bool:
        """Count one request in the window; False (and no count) when the window already has `limit`."""
        try:
            with _COUNTERS:
                self._table.update_item(
                    Key={"PK": f"RATE#{scope}#{subject}", "SK": f"WINDOW#{window_start}"},
                    UpdateExpression="ADD hits :one SET expires_at = :expires",
                    ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                    ExpressionAttributeValues={
                        ":one": 1,
                        ":limit": limit,
                        ":expires": window_start + 2 * window_seconds,
                    },
                )
        except ConditionFailedError:
            return False
        return True
