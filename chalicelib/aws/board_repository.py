"""The board's reads from the application table: the sparse live index and the change feed. Never a scan.

- Snapshot build (off the request path): GSI1 `LIVE#{shard}` partitions, every shard (in parallel), paginated.
- Refresh: GSI2 `CHANGES#{shard}` with `GSI2SK > {after}`: one Query (one page) per call.
- Detail: one GetItem of the posting (its key is encoded in the job id).
- Apply flags: one BatchGetItem of the employer profile and the account's sync-state item.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import AwsErrors
from chalicelib.aws.posting_items import item_to_posting, posting_key
from chalicelib.aws.table_schema import BOARD_SHARDS, CHANGES_INDEX, LIVE_INDEX
from chalicelib.models.posting import parse_job_id
from chalicelib.services.board.records import ApplyFlags, ChangePage, PostingRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# Only what the board needs from a posting item (GSI keys stay out of the response).
_PROJECTION = "#j, #s, #c, #h, #d, #k"
_NAMES = {
    "#j": "job_id",
    "#s": "status",
    "#c": "changed_at",
    "#h": "content_hash",
    "#d": "doc",
    "#k": "GSI2SK",
}

_FLAGS_PROJECTION = "PK, embloy_configured, embloy_needs_renewal, native_apply_unsupported"

BOARD_STORAGE = AwsErrors("board_unavailable", "The job board's storage is not answering; try again shortly.")


def _record(item: dict[str, Any]) -> PostingRecord:
    changed_key = str(item.get("GSI2SK") or f"{item['changed_at']}#{item['job_id']}")
    return PostingRecord(
        job_id=str(item["job_id"]),
        status=str(item.get("status", "live")),
        changed_key=changed_key,
        content_hash=str(item.get("content_hash", "")),
        load=lambda: item_to_posting(item),
    )


class DynamoDBBoardRepository:
    """BoardSource on the single application table."""

    def __init__(self, table: Table, *, shards: int = BOARD_SHARDS, change_page_size: int = 100) -> None:
        self._table = table
        self.shards = shards
        self._change_page_size = change_page_size

    def _query(self, **kwargs: Any) -> dict[str, Any]:
        return self._call(self._table.query, **kwargs)

    @staticmethod
    @BOARD_STORAGE
    def _call(operation: Any, **kwargs: Any) -> dict[str, Any]:
        return dict(operation(**kwargs))

    def load_live(self) -> Iterator[PostingRecord]:
        """Every live posting, streamed: the shards are read in parallel, one page ahead each at most, so
        a board of any size passes through in bounded memory.

        Threads share the table's low-level client (thread-safe; the resource object is not).
        """
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        with ThreadPoolExecutor(max_workers=self.shards) as pool:
            pending: dict[Future[tuple[list[PostingRecord], Any | None]], int] = {
                pool.submit(self._live_page, shard, None): shard for shard in range(self.shards)
            }
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    shard = pending.pop(future)
                    records, resume = future.result()
                    if resume is not None:
                        pending[pool.submit(self._live_page, shard, resume)] = shard
                    yield from records

    def _live_page(self, shard: int, resume: Any | None) -> tuple[list[PostingRecord], Any | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table.name,
            "IndexName": LIVE_INDEX,
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": f"LIVE#{shard}"},
            "ProjectionExpression": _PROJECTION,
            "ExpressionAttributeNames": _NAMES,
        }
        if resume is not None:
            kwargs["ExclusiveStartKey"] = resume
        page = self._call(self._table.meta.client.query, **kwargs)
        return [_record(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage:
        """One page of a shard's change feed after `after` (a changed_at), oldest first."""
        kwargs: dict[str, Any] = {
            "IndexName": CHANGES_INDEX,
            "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK > :after",
            "ExpressionAttributeValues": {":pk": f"CHANGES#{shard}", ":after": after},
            "ProjectionExpression": _PROJECTION,
            "ExpressionAttributeNames": _NAMES,
            "Limit": self._change_page_size,
        }
        if resume is not None:
            kwargs["ExclusiveStartKey"] = resume
        page = self._query(**kwargs)
        return ChangePage(
            records=[_record(item) for item in page.get("Items", [])], resume=page.get("LastEvaluatedKey")
        )

    def posting(self, job_id: str) -> PostingRecord | None:
        """The posting item behind a board id (any status), or None."""
        account_id, posting_id = parse_job_id(job_id)
        item = self._call(
            self._table.get_item,
            Key=posting_key(account_id, posting_id),
            ProjectionExpression=_PROJECTION,
            ExpressionAttributeNames=_NAMES,
        ).get("Item")
        return _record(item) if item else None

    @BOARD_STORAGE
    def apply_flags(self, employer_id: str, account_id: str) -> ApplyFlags:
        """Embloy token state of the employer and native-apply support of the account, in one request."""
        keys = [
            {"PK": f"EMPLOYER#{employer_id}", "SK": "PROFILE"},
            {"PK": f"ACCOUNT#{account_id}", "SK": "SYNC"},
        ]
        request: dict[str, Any] = {
            self._table.name: {
                "Keys": keys,
                "ProjectionExpression": _FLAGS_PROJECTION,
            }
        }
        items: list[dict[str, Any]] = []
        for _ in range(3):  # unprocessed keys are rare for two small items; bounded retries
            result = self._table.meta.client.batch_get_item(RequestItems=request)
            items.extend(result.get("Responses", {}).get(self._table.name, []))
            request = result.get("UnprocessedKeys") or {}
            if not request:
                break
        by_key = {str(item["PK"]): item for item in items}
        profile = by_key.get(f"EMPLOYER#{employer_id}", {})
        sync_state = by_key.get(f"ACCOUNT#{account_id}", {})
        return ApplyFlags(
            embloy_configured=bool(profile.get("embloy_configured", False)),
            embloy_needs_renewal=bool(profile.get("embloy_needs_renewal", False)),
            native_apply_unsupported=bool(sync_state.get("native_apply_unsupported", False)),
        )
