"""The application table's shape, shared by the tests, the local bootstrap and the deployment template.

Single-table design. Every item has `PK`/`SK`; two overloaded sparse GSIs; TTL on `expires_at` (epoch s).

Items (PK / SK; GSI1PK / GSI1SK; GSI2PK / GSI2SK):
- posting: ACCOUNT#{account_id} / POSTING#{posting_id};
  GSI1 (live only) LIVE#{shard} / {job_id}; GSI2 CHANGES#{shard} / {changed_at}#{job_id}
- account sync state: ACCOUNT#{account_id} / SYNC
- employer "sync now" rate limit: ACCOUNT#{account_id} / SYNCNOW (expires via TTL `expires_at`)
- employer: EMPLOYER#{employer_id} / PROFILE; GSI1 EMPLOYERS / {employer_id}
- employer API key: APIKEY#{sha256(key)} / APIKEY
- application record: EMPLOYER#{employer_id} / APPLICATION#{at}#{id}; GSI1 JOBAPPS#{job_id} / {at}#{id}
- per-job numbers: NUMBERS#{employer_id} / JOB#{job_id}#DAY#{yyyy-mm-dd} (a job's day) and
  NUMBERS#{employer_id} / ALL#DAY#{yyyy-mm-dd} (the employer's day); expire via TTL (docs/numbers.md)
- job alert: ALERT#{alert_id} / ALERT; GSI1 (active only) ALERTS#{frequency} / {last sent}#{alert_id};
  its address slot: ALERTADDR#{sha256(address)} / SLOT#{n} (see `chalicelib.aws.alerts_repository`)

Posting items carry the mapped posting as a compact JSON string in `doc` (see `chalicelib.models.posting`),
plus `job_id`, `status`, `content_hash`, `changed_at`, `first_seen_at`, `last_seen_at`, `closed_at`.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "PK"
SORT_KEY = "SK"
LIVE_INDEX = "GSI1"
CHANGES_INDEX = "GSI2"
TTL_ATTRIBUTE = "expires_at"
# Live-board and change-feed partitions are sharded so no single partition gets hot under sync writes.
BOARD_SHARDS = 4


def _gsi(name: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": f"{name}PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments for `create_table` (boto3) describing the application table."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (PARTITION_KEY, SORT_KEY, "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [_gsi(LIVE_INDEX), _gsi(CHANGES_INDEX)],
    }


def create_idempotency_table_kwargs(table_name: str) -> dict[str, Any]:
    """`create_table` arguments for the Powertools idempotency table (key `id`, TTL `expiration`)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    }
