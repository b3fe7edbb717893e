"""DynamoDBBoardRepository on moto: live index across shards, change feed pages, apply flags. No scans."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.aws.board_repository import DynamoDBBoardRepository
from chalicelib.aws.posting_items import board_shard
from chalicelib.clock import isoformat
from chalicelib.errors import UpstreamUnavailableError
from tests.api.board_factories import BASE_TIME, close_posting, make_posting, put_postings


def record_calls() -> list[str]:
    calls: list[str] = []
    deps.get_table().meta.client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    return calls


def test_load_live_reads_every_shard_of_the_live_index_and_skips_closed(aws: None) -> None:
    postings = put_postings(*[make_posting(f"Job {n}") for n in range(12)])
    close_posting(postings[0], BASE_TIME)
    calls = record_calls()
    repository = DynamoDBBoardRepository(deps.get_table())
    records = list(repository.load_live())
    assert {r.job_id for r in records} == {p.job_id for p in postings[1:]}
    assert all(r.status == "live" for r in records)
    assert calls == ["Query"] * 4  # one per shard, never a Scan
    by_id = {r.job_id: r for r in records}
    assert by_id[postings[3].job_id].load() == postings[3]
    assert (
        by_id[postings[3].job_id].changed_key
        == f"{isoformat(BASE_TIME - timedelta(days=1))}#{postings[3].job_id}"
    )


def test_changes_returns_a_shards_changes_after_a_point_in_pages(aws: None) -> None:
    postings = put_postings(*[make_posting(f"Job {n}", changed_at=BASE_TIME) for n in range(40)])
    shard = board_shard(postings[0].job_id)
    in_shard = [p for p in postings if board_shard(p.job_id) == shard]
    closed = close_posting(in_shard[0], BASE_TIME + timedelta(minutes=5))
    repository = DynamoDBBoardRepository(deps.get_table(), change_page_size=3)
    seen: list[Any] = []
    resume = None
    calls = record_calls()
    while True:
        page = repository.changes(shard, isoformat(BASE_TIME - timedelta(seconds=1)), resume)
        seen += page.records
        resume = page.resume
        if resume is None:
            break
    assert set(calls) == {"Query"}
    assert {r.job_id for r in seen} == {p.job_id for p in in_shard}
    assert [r.changed_key for r in seen] == sorted(r.changed_key for r in seen)
    assert {r.job_id: r.status for r in seen}[closed.job_id] == "closed"
    later = repository.changes(shard, isoformat(BASE_TIME + timedelta(minutes=1)), None)
    assert [r.job_id for r in later.records] == [closed.job_id]


def test_apply_flags_read_employer_profile_and_account_state_in_one_request(aws: None) -> None:
    table = deps.get_table()
    table.put_item(
        Item={
            "PK": "EMPLOYER#emp_1",
            "SK": "PROFILE",
            "embloy_configured": True,
            "embloy_needs_renewal": True,
        }
    )
    table.put_item(Item={"PK": "ACCOUNT#acc_1", "SK": "SYNC", "native_apply_unsupported": True})
    repository = DynamoDBBoardRepository(table)
    calls = record_calls()
    flags = repository.apply_flags("emp_1", "acc_1")
    assert calls == ["BatchGetItem"]
    assert flags.embloy_configured and flags.embloy_needs_renewal and flags.native_apply_unsupported
    empty = repository.apply_flags("emp_unknown", "acc_unknown")
    assert not (empty.embloy_configured or empty.embloy_needs_renewal or empty.native_apply_unsupported)


def test_storage_errors_become_a_typed_503(aws: None) -> None:
    import boto3

    missing = boto3.resource("dynamodb").Table("no-such-table")
    repository = DynamoDBBoardRepository(missing)
    with pytest.raises(UpstreamUnavailableError) as raised:
        list(repository.load_live())
    assert raised.value.code == "board_unavailable"


def test_posting_reads_one_item_by_the_key_in_the_job_id(aws: None) -> None:
    live, closed = put_postings(make_posting("Live"), make_posting("Closed"))
    close_posting(closed, BASE_TIME)
    repository = DynamoDBBoardRepository(deps.get_table())
    calls = record_calls()
    record = repository.posting(live.job_id)
    assert record is not None and record.status == "live" and record.load() == live
    closed_record = repository.posting(closed.job_id)
    assert closed_record is not None and closed_record.status == "closed"
    assert repository.posting(make_posting("Never stored").job_id) is None
    assert calls == ["GetItem"] * 3
