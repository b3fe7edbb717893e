"""What the apply flows read and flag in the table: one posting (one GetItem), and the account's
`native_apply_unsupported` capability flag on its sync-state item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.aws.errors import TABLE, ConditionFailedError
from chalicelib.aws.posting_items import item_to_posting, posting_key
from chalicelib.models.posting import Posting

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class DynamoDBApplyPostings:
    """PostingSource and ApplyCapabilities over the application table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def get_posting(self, account_id: str, posting_id: str) -> Posting | None:
        with TABLE:
            item = self._table.get_item(Key=posting_key(account_id, posting_id)).get("Item")
        return item_to_posting(item) if item else None

    def mark_native_apply_unsupported(self, account_id: str) -> None:
        """Set `native_apply_unsupported` on the account's existing sync-state item (never create one)."""
        try:
            with TABLE:
                self._table.update_item(
                    Key={"PK": f"ACCOUNT#{account_id}", "SK": "SYNC"},
                    UpdateExpression="SET native_apply_unsupported = :yes",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues={":yes": True},
                )
        except ConditionFailedError:
            pass  # no sync state yet: nothing to flag
