"""DynamoDB postings repository (moto): batched writes through the shared codec, account loads."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib import deps
from chalicelib.aws.posting_items import board_shard, content_hash, posting_key
from chalicelib.aws.postings_repository import DynamoDBPostingsRepository
from chalicelib.models.posting import Posting, make_job_id
from chalicelib.settings import get_settings
from tests.sync_support import WriteCounter

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def posting(posting_id: str, *, account_id: str = "acc1", status: str = "live") -> Posting:
    return Posting(
        job_id=make_job_id(account_id, posting_id),
        account_id=account_id,
        posting_id=posting_id,
        employer_id="emp1",
        company="Acme",
        provider="greenhouse",
        title=f"Job {posting_id}",
        status=status,
        first_seen_at=NOW,
        last_seen_at=NOW,
        changed_at=NOW,
    )


def test_writes_are_batched_and_read_back(aws: None) -> None:
    counter = WriteCounter()
    counter.register(deps.get_boto3_session())
    repository = DynamoDBPostingsRepository(deps.get_table())
    postings = [posting(f"p{i:02d}") for i in range(60)] + [posting("other", account_id="acc2")]
    written = repository.write([(p, content_hash(p)) for p in postings])
    assert written == 61
    table = get_settings().table_name
    assert counter.items[table] == 61
    assert counter.requests[table] == 3  # 25 + 25 + 11 items per BatchWriteItem
    loaded = repository.load_account("acc1")
    assert sorted(loaded) == [f"p{i:02d}" for i in range(60)]
    assert loaded["p07"].posting == postings[7]
    assert loaded["p07"].content_hash == content_hash(postings[7])
    assert repository.get("acc2", "other") is not None
    assert repository.get("acc2", "missing") is None


def test_items_follow_the_board_codec(aws: None) -> None:
    repository = DynamoDBPostingsRepository(deps.get_table())
    live, closed = posting("live"), posting("gone", status="closed")
    repository.write([(live, "h1"), (closed, "h2")])
    item = deps.get_table().get_item(Key=posting_key("acc1", "live"))["Item"]
    shard = board_shard(live.job_id)
    assert item["GSI1PK"] == f"LIVE#{shard}" and item["GSI1SK"] == live.job_id
    assert item["GSI2PK"] == f"CHANGES#{shard}"
    assert item["GSI2SK"] == f"2026-03-01T12:00:00.000Z#{live.job_id}"
    assert item["content_hash"] == "h1"
    closed_item = deps.get_table().get_item(Key=posting_key("acc1", "gone"))["Item"]
    assert "GSI1PK" not in closed_item and closed_item["status"] == "closed"


def test_index_and_get_many_read_what_the_sync_compares(aws: None) -> None:
    repository = DynamoDBPostingsRepository(deps.get_table())
    repository.write(
        [(posting(f"p{i:03d}"), f"h{i}") for i in range(130)] + [(posting("c", status="closed"), "hc")]
    )
    index = repository.load_index("acc1")
    assert len(index) == 131
    assert (index["p007"].content_hash, index["p007"].status) == ("h7", "live")
    assert index["c"].status == "closed"
    assert index["p007"].changed_at == "2026-03-01T12:00:00.000Z"
    found = repository.get_many("acc1", [f"p{i:03d}" for i in range(120)] + ["missing"])
    assert len(found) == 120  # two BatchGetItem requests, the missing id absent
    assert found["p119"].posting.title == "Job p119"
