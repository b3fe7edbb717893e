"""Posting items: the sync's write side (batched) and the reads it needs, through the one codec."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.aws.posting_items import item_to_posting, posting_key, posting_to_item
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.posting import Posting

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass(frozen=True)
class StoredPosting:
    """A posting as stored, with the content hash it was written with."""

    posting: Posting
    content_hash: str


def _stored(item: dict[str, Any]) -> StoredPosting:
    return StoredPosting(posting=item_to_posting(item), content_hash=str(item.get("content_hash", "")))


class DynamoDBPostingsRepository:
    """Postings of linked accounts at PK=ACCOUNT#{account_id}, SK=POSTING#{posting_id}."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def load_account(self, account_id: str) -> dict[str, StoredPosting]:
        """Every stored posting of the account (live and closed), by StackOne posting id."""
        from boto3.dynamodb.conditions import Key
        from botocore.exceptions import BotoCoreError, ClientError

        stored: dict[str, StoredPosting] = {}
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(f"ACCOUNT#{account_id}")
            & Key("SK").begins_with("POSTING#"),
        }
        try:
            while True:
                result = self._table.query(**kwargs)
                for item in result.get("Items", []):
                    entry = _stored(item)
                    stored[entry.posting.posting_id] = entry
                if "LastEvaluatedKey" not in result:
                    return stored
                kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]
        except (BotoCoreError, ClientError) as exc:
            raise UpstreamUnavailableError(
                "The postings table is unavailable.", code="table_unavailable"
            ) from exc

    def get(self, account_id: str, posting_id: str) -> StoredPosting | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            item = self._table.get_item(Key=posting_key(account_id, posting_id)).get("Item")
        except (BotoCoreError, ClientError) as exc:
            raise UpstreamUnavailableError(
                "The postings table is unavailable.", code="table_unavailable"
            ) from exc
        return _stored(item) if item else None

    def write(self, postings: Sequence[tuple[Posting, str]] | Iterable[tuple[Posting, str]]) -> int:
        """Put (posting, content_hash) pairs with BatchWriteItem (25 per request, unprocessed retried)."""
        from botocore.exceptions import BotoCoreError, ClientError

        written = 0
        try:
            with self._table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
                for posting, hash_ in postings:
                    batch.put_item(Item=posting_to_item(posting, hash_=hash_))
                    written += 1
        except (BotoCoreError, ClientError) as exc:
            raise UpstreamUnavailableError(
                "The postings table is unavailable.", code="table_unavailable"
            ) from exc
        return written
