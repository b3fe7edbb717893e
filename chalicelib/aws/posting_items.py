"""The one codec between a Posting and its DynamoDB item (sync writes it, the board reads it)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib.aws.table_schema import BOARD_SHARDS
from chalicelib.clock import isoformat
from chalicelib.models.posting import Posting

# Fields that change on every sighting and so must not count as a content change.
_VOLATILE = {"first_seen_at", "last_seen_at", "changed_at", "closed_at", "status"}


def posting_key(account_id: str, posting_id: str) -> dict[str, str]:
    return {"PK": f"ACCOUNT#{account_id}", "SK": f"POSTING#{posting_id}"}


def board_shard(job_id: str) -> int:
    """Stable shard of a posting on the live-board and change-feed indexes."""
    return int(hashlib.sha256(job_id.encode()).hexdigest()[:8], 16) % BOARD_SHARDS


def content_hash(posting: Posting) -> str:
    """Hash of what the board shows; unchanged content means no write."""
    document = posting.model_dump(mode="json", exclude=_VOLATILE)
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def posting_to_item(posting: Posting, *, hash_: str | None = None) -> dict[str, Any]:
    """The item for a posting: `doc` holds the compact JSON; live postings join the sparse live index."""
    if posting.changed_at is None:
        raise ValueError("a stored posting needs changed_at")
    shard = board_shard(posting.job_id)
    item: dict[str, Any] = {
        **posting_key(posting.account_id, posting.posting_id),
        "job_id": posting.job_id,
        "employer_id": posting.employer_id,
        "status": posting.status,
        "content_hash": hash_ or content_hash(posting),
        "changed_at": isoformat(posting.changed_at),
        "doc": posting.model_dump_json(exclude_none=True),
        "GSI2PK": f"CHANGES#{shard}",
        "GSI2SK": f"{isoformat(posting.changed_at)}#{posting.job_id}",
    }
    if posting.status == "live":
        item["GSI1PK"] = f"LIVE#{shard}"
        item["GSI1SK"] = posting.job_id
    return item


def item_to_posting(item: dict[str, Any]) -> Posting:
    return Posting.model_validate_json(str(item["doc"]))
