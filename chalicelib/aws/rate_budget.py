"""The shared StackOne request budget's counter: one small item (PK=RATE#{name}, SK=WINDOW).

The item holds the current window and how many slots of it are taken. Taking a slot is one conditional
UpdateItem: +1 while the window is current and not full. The first caller of a new window resets it
(a second conditional update), so the item never grows and needs no TTL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsErrors, ConditionFailedError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


_BUDGET = AwsErrors("rate_budget_unavailable", "The request budget is unavailable.")


class DynamoDBWindowCounter:
    """WindowCounter over the application table; `name` identifies the API key the budget belongs to."""

    def __init__(self, table: Table, name: str) -> None:
        self._table = table
        self._key = {"PK": f"RATE#{name}", "SK": "WINDOW"}

    def try_take(self, window: int, limit: int) -> bool:
        try:
            with _BUDGET:
                self._table.update_item(
                    Key=self._key,
                    UpdateExpression="ADD #taken :one",
                    ConditionExpression="#window = :window AND #taken < :limit",
                    ExpressionAttributeNames={"#window": "window", "#taken": "taken"},
                    ExpressionAttributeValues={":window": window, ":one": 1, ":limit": limit},
                )
            return True
        except ConditionFailedError:
            pass
        try:
            with _BUDGET:
                # Not the current window (or full): start this window if the stored one is older.
                self._table.update_item(
                    Key=self._key,
                    UpdateExpression="SET #window = :window, #taken = :one",
                    ConditionExpression="attribute_not_exists(#window) OR #window < :window",
                    ExpressionAttributeNames={"#window": "window", "#taken": "taken"},
                    ExpressionAttributeValues={":window": window, ":one": 1},
                )
            return True
        except ConditionFailedError:
            return False  # this window is full (or another process already moved past it)
