"""Posting items: the sync's write side (batched) and the reads it needs, through the one codec."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import AwsErrors
from chalicelib.aws.posting_items import item_to_posting, posting_key, posting_to_item
from chalicelib.errors import UnstorableItemsError
from chalicelib.models.posting import Posting

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass(frozen=True)
class StoredPosting:
    """A posting as stored, with the content hash it was written with."""

    posting: Posting
    content_hash: str


@dataclass(frozen=True)
class PostingMeta:
    """The few attributes the sync compares against (read with a projection, without the document)."""

    content_hash: str
    status: str
    changed_at: str


_META_PROJECTION = "SK, content_hash, #status, changed_at"
# DynamoDB's item limit is 400 KB (names and values); what is left after this for the attribute names.
MAX_ITEM_BYTES = 390_000

_POSTINGS = AwsErrors("table_unavailable", "The postings table is unavailable.")


class _ItemRejected(Exception):
    """DynamoDB refused an item (ValidationException): that item is unstorable, the table is fine."""


_REJECTABLE = AwsErrors(_POSTINGS.code, _POSTINGS.message, expect={"ValidationException": _ItemRejected})


def _stored(item: dict[str, Any]) -> StoredPosting:
    return StoredPosting(posting=item_to_posting(item), content_hash=str(item.get("content_hash", "")))


class DynamoDBPostingsRepository:
    """Postings of linked accounts at PK=ACCOUNT#{account_id}, SK=POSTING#{posting_id}."""

    def __init__(self, table: Table) -> None:
        self._table = table

    @_POSTINGS
    def load_account(self, account_id: str) -> dict[str, StoredPosting]:
        """Every stored posting of the account (live and closed), by StackOne posting id."""
        from boto3.dynamodb.conditions import Key

        stored: dict[str, StoredPosting] = {}
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(f"ACCOUNT#{account_id}")
            & Key("SK").begins_with("POSTING#"),
        }
        while True:
            result = self._table.query(**kwargs)
            for item in result.get("Items", []):
                entry = _stored(item)
                stored[entry.posting.posting_id] = entry
            if "LastEvaluatedKey" not in result:
                return stored
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    @_POSTINGS
    def load_index(self, account_id: str) -> dict[str, PostingMeta]:
        """Hash, status and changed_at of every stored posting of the account, by posting id."""
        from boto3.dynamodb.conditions import Key

        index: dict[str, PostingMeta] = {}
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(f"ACCOUNT#{account_id}")
            & Key("SK").begins_with("POSTING#"),
            "ProjectionExpression": _META_PROJECTION,
            "ExpressionAttributeNames": {"#status": "status"},
        }
        while True:
            result = self._table.query(**kwargs)
            for item in result.get("Items", []):
                posting_id = str(item["SK"]).removeprefix("POSTING#")
                index[posting_id] = PostingMeta(
                    content_hash=str(item.get("content_hash", "")),
                    status=str(item.get("status", "")),
                    changed_at=str(item.get("changed_at", "")),
                )
            if "LastEvaluatedKey" not in result:
                return index
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    @_POSTINGS
    def get_many(self, account_id: str, posting_ids: Iterable[str]) -> dict[str, StoredPosting]:
        """Full stored postings by id (BatchGetItem, 100 keys per request; missing ids are absent)."""
        ids = list(dict.fromkeys(posting_ids))
        found: dict[str, StoredPosting] = {}
        client = self._table.meta.client
        for start in range(0, len(ids), 100):
            keys = [posting_key(account_id, posting_id) for posting_id in ids[start : start + 100]]
            request: dict[str, Any] = {self._table.name: {"Keys": keys}}
            while request:
                result = client.batch_get_item(RequestItems=request)
                for item in result.get("Responses", {}).get(self._table.name, []):
                    entry = _stored(item)
                    found[entry.posting.posting_id] = entry
                request = result.get("UnprocessedKeys") or {}
        return found

    @_POSTINGS
    def get(self, account_id: str, posting_id: str) -> StoredPosting | None:
        item = self._table.get_item(Key=posting_key(account_id, posting_id)).get("Item")
        return _stored(item) if item else None

    def write(self, postings: Sequence[tuple[Posting, str]] | Iterable[tuple[Posting, str]]) -> int:
        """Put (posting, content_hash) pairs with BatchWriteItem (25 per request, unprocessed retried).

        A posting that cannot be stored (text that is not valid Unicode, an item over DynamoDB's size
        limit, or one DynamoDB refuses) never stops the others: they are written, then
        UnstorableItemsError names the refused ones by posting id.
        """
        items: list[tuple[str, dict[str, Any]]] = []
        rejected: dict[str, str] = {}
        for posting, hash_ in postings:
            try:
                item = posting_to_item(posting, hash_=hash_)
                size = sum(len(str(value).encode()) for value in item.values())
            except (ValueError, UnicodeError):  # PydanticSerializationError is a ValueError
                rejected[posting.posting_id] = "invalid_text"
                continue
            if size > MAX_ITEM_BYTES:
                rejected[posting.posting_id] = "too_large"
                continue
            items.append((posting.posting_id, item))
        try:
            with _REJECTABLE, self._table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
                for _, item in items:
                    batch.put_item(Item=item)
        except _ItemRejected:
            # One item spoiled its batch: put them one by one (puts are idempotent) to find it.
            for posting_id, item in items:
                try:
                    with _REJECTABLE:
                        self._table.put_item(Item=item)
                except _ItemRejected:
                    rejected[posting_id] = "rejected"
        if rejected:
            raise UnstorableItemsError(rejected)
        return len(items)
