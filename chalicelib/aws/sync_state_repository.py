"""Per-account sync state items (PK=ACCOUNT#{id}, SK=SYNC)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import TABLE
from chalicelib.aws.table_schema import LIVE_INDEX
from chalicelib.models.sync_state import AccountSyncState, DepartmentsCache

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


_KNOWN_ACCOUNTS = "SYNCSTATES"


def _key(account_id: str) -> dict[str, str]:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "SYNC"}


class DynamoDBSyncStateRepository:
    """Stores the state as a JSON document plus a few top-level attributes for conditions."""

    def __init__(self, table: Table) -> None:
        self._table = table

    @TABLE
    def get(self, account_id: str) -> AccountSyncState | None:
        item = self._table.get_item(Key=_key(account_id), ConsistentRead=True).get("Item")
        return self._from_item(item) if item else None

    @TABLE
    def get_many(self, account_ids: Iterable[str]) -> dict[str, AccountSyncState]:
        """States by account id (missing accounts are absent), with BatchGetItem in chunks of 100."""
        ids = list(dict.fromkeys(account_ids))
        states: dict[str, AccountSyncState] = {}
        resource = self._table.meta.client
        for start in range(0, len(ids), 100):
            request: dict[str, Any] = {
                self._table.name: {"Keys": [_key(i) for i in ids[start : start + 100]]}
            }
            while request:
                result = resource.batch_get_item(RequestItems=request)
                for item in result.get("Responses", {}).get(self._table.name, []):
                    state = self._from_item(item)
                    states[state.account_id] = state
                request = result.get("UnprocessedKeys") or {}
        return states

    @TABLE
    def put(self, state: AccountSyncState) -> None:
        """Write the state. An update, not a put, so flags other areas keep on the item (e.g. the apply
        flow's `native_apply_unsupported`) survive every sync run."""
        self._table.update_item(
            Key=_key(state.account_id),
            UpdateExpression="SET #doc = :doc, employer_id = :owner, needs_attention = :attention, "
            "GSI1PK = :gsi1pk, GSI1SK = :gsi1sk",
            ExpressionAttributeNames={"#doc": "doc"},
            ExpressionAttributeValues={
                ":doc": state.model_dump_json(),
                ":owner": state.employer_id or "",
                ":attention": state.needs_attention,
                # Every known account on one small GSI1 partition, so the schedule can find accounts
                # StackOne no longer lists (deleted) and close their postings.
                ":gsi1pk": _KNOWN_ACCOUNTS,
                ":gsi1sk": state.account_id,
            },
        )

    @TABLE
    def get_departments(self, account_id: str) -> DepartmentsCache | None:
        """The account's cached job -> department map (PK=ACCOUNT#{id}, SK=DEPARTMENTS), if any."""
        key = {"PK": f"ACCOUNT#{account_id}", "SK": "DEPARTMENTS"}
        item = self._table.get_item(Key=key).get("Item")
        return DepartmentsCache.model_validate_json(str(item["doc"])) if item else None

    @TABLE
    def put_departments(self, account_id: str, cache: DepartmentsCache) -> None:
        self._table.put_item(
            Item={
                "PK": f"ACCOUNT#{account_id}",
                "SK": "DEPARTMENTS",
                "content_hash": cache.content_hash,
                "doc": cache.model_dump_json(),
            }
        )

    @TABLE
    def list_account_ids(self) -> list[str]:
        """Ids of every account that has a sync state (one GSI1 query, paged)."""
        from boto3.dynamodb.conditions import Key

        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "IndexName": LIVE_INDEX,
            "KeyConditionExpression": Key("GSI1PK").eq(_KNOWN_ACCOUNTS),
            "ProjectionExpression": "GSI1SK",
        }
        while True:
            result = self._table.query(**kwargs)
            ids.extend(str(item["GSI1SK"]) for item in result.get("Items", []))
            if "LastEvaluatedKey" not in result:
                return ids
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    @staticmethod
    def _from_item(item: dict[str, Any]) -> AccountSyncState:
        return AccountSyncState.model_validate(json.loads(str(item["doc"])))
