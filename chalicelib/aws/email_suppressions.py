"""Addresses the board never writes to again (a hard bounce or a complaint), in the application table.

Item: PK `SUPPRESSED#{sha256(lower-cased address)}`, SK `EMAIL`, the reason and when. No raw address is
stored: the check hashes the address it is about to write to.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.aws.errors import TABLE
from chalicelib.clock import isoformat

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def address_hash(address: str) -> str:
    """The key of an address wherever the board keeps one (suppressions, alert caps)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def _key(address: str) -> dict[str, str]:
    return {"PK": f"SUPPRESSED#{address_hash(address)}", "SK": "EMAIL"}


class DynamoDBEmailSuppressions:
    def __init__(self, table: Table) -> None:
        self._table = table

    @TABLE
    def is_suppressed(self, address: str) -> bool:
        return "Item" in self._table.get_item(Key=_key(address), ProjectionExpression="PK")

    @TABLE
    def suppress(self, address: str, *, reason: str, at: datetime) -> None:
        self._table.put_item(Item={**_key(address), "reason": reason, "suppressed_at": isoformat(at)})
