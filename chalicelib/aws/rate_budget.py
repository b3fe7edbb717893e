"""The shared StackOne request budget's counter: one small item (PK=RATE#{name}, SK=WINDOW).

The item holds the current window and how many slots of it are taken. Taking a slot is one conditional
UpdateItem: +1 while the window is current and not full. The first caller of a new window resets it
(a second conditional update), so the item never grows and needs no TTL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import UpstreamUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoDBWindowCounter:
    """WindowCounter over the application table; `name` identifies the API key the budget belongs to."""

    def __init__(self, table: Table, name: str) -> None:
        self._table = table
        self._key = {"PK": f"RATE#{name}", "SK": "WINDOW"}

    def try_take(self, window: int, limit: int) -> bool:
        try:
            try:
                self._table.update_item(
                    Key=self._key,
                    UpdateExpression="ADD #taken :one",
                    ConditionExpression="#window = :window AND #taken < :limit",
                    ExpressionAttributeNames={"#window": "window", "#taken": "taken"},
                    ExpressionAttributeValues={":window": window, ":one": 1, ":limit": limit},
                )
                return True
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
            try:
                # Not the current window (or full): start this window if the stored one is older.
                self._table.update_item(
                    Key=self._key,
                    UpdateExpression="SET #window = :window, #taken = :one",
                    ConditionExpression="attribute_not_exists(#window) OR #window < :window",
                    ExpressionAttributeNames={"#window": "window", "#taken": "taken"},
                    ExpressionAttributeValues={":window": window, ":one": 1},
                )
                return True
            except ClientError as exc:
                if _conditional_failed(exc):
                    return False  # this window is full (or another process already moved past it)
                raise
        except (BotoCoreError, ClientError) as exc:
            raise UpstreamUnavailableError(
                "The request budget is unavailable.", code="rate_budget_unavailable"
            ) from exc
