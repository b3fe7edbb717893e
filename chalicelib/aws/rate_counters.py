"""Fixed-window request counters: one conditional UpdateItem per request, expiring through the table's TTL.

Item: PK `RATE#{scope}#{subject}`, SK `WINDOW#{window start, epoch seconds}`, `hits`, `expires_at`.
A new window is a new item, so nothing ever has to be reset; TTL removes old windows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.errors import UpstreamUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class DynamoDBRateCounters:
    """RateCounters on the application table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def hit(self, scope: str, subject: str, *, window_start: int, window_seconds: int, limit: int) -> bool:
        """Count one request in the window; False (and no count) when the window already has `limit`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
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
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise UpstreamUnavailableError(
                "The rate limiter is unavailable.", code="storage_unavailable"
            ) from exc
        except BotoCoreError as exc:
            raise UpstreamUnavailableError(
                "The rate limiter is unavailable.", code="storage_unavailable"
            ) from exc
        return True
