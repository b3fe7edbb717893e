"""The numbers items on the application table (moto): ADD sums, expiry, and the key ranges read back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import deps
from chalicelib.aws.numbers_repository import DynamoDBNumbers
from chalicelib.errors import UpstreamUnavailableError

TODAY = date(2026, 12, 7)


def store() -> DynamoDBNumbers:
    return DynamoDBNumbers(deps.get_table(), retention_days=100)


def item(key: dict[str, str]) -> dict[str, Any]:
    return dict(deps.get_table().get_item(Key=key)["Item"])


def test_each_add_is_one_update_that_sums_into_the_item_and_sets_its_expiry(aws: None) -> None:
    numbers = store()

    numbers.add("e1", "job1", TODAY, {"views": 3, "apply_starts": 1, "applications": 0}, "Platform Engineer")
    numbers.add("e1", "job1", TODAY, {"views": 2, "embloy_clicks": 1}, "Platform Engineer")

    stored = item({"PK": "NUMBERS#e1", "SK": f"JOB#job1#DAY#{TODAY.isoformat()}"})
    assert (stored["views"], stored["apply_starts"], stored["embloy_clicks"]) == (5, 1, 1)
    assert "applications" not in stored  # a zero is not written
    assert stored["job_title"] == "Platform Engineer"
    expires = datetime(2026, 12, 7, tzinfo=UTC) + timedelta(days=100)
    assert int(stored["expires_at"]) == int(expires.timestamp())
    # Nothing about visitors: the key, the day, the counters, the title and the expiry.
    assert set(stored) <= {
        "PK",
        "SK",
        "day",
        "views",
        "apply_starts",
        "embloy_clicks",
        "job_title",
        "expires_at",
    }


def test_the_reads_return_only_the_asked_days_and_kind(aws: None) -> None:
    numbers = store()
    for offset in range(5):
        day = TODAY - timedelta(days=offset)
        numbers.add("e1", "job1", day, {"views": offset + 1}, "A")
        numbers.add("e1", "job2", day, {"views": 10}, "B")
        numbers.add("e1", None, day, {"views": offset + 11}, None)
        numbers.add("e2", "job9", day, {"views": 99}, "Theirs")

    start = TODAY - timedelta(days=2)
    totals = numbers.totals("e1", start, TODAY)
    jobs = numbers.jobs("e1", start, TODAY)
    one = numbers.jobs("e1", start, TODAY, job_id="job1")

    assert sorted((row.day, row.counts["views"]) for row in totals) == [
        (TODAY - timedelta(days=2), 13),
        (TODAY - timedelta(days=1), 12),
        (TODAY, 11),
    ]
    assert all(row.job_id is None for row in totals)
    assert sorted((row.job_id, row.day) for row in jobs) == sorted(
        (job, TODAY - timedelta(days=o)) for job in ("job1", "job2") for o in range(3)
    )
    assert {row.title for row in jobs} == {"A", "B"}
    assert sorted(row.counts["views"] for row in one) == [1, 2, 3]


def test_a_failing_table_is_an_upstream_error_with_the_numbers_code(aws: None) -> None:
    boto3.client("dynamodb").delete_table(TableName=deps.get_table().name)

    with pytest.raises(UpstreamUnavailableError) as raised:
        store().add("e1", "job1", TODAY, {"views": 1}, None)

    assert raised.value.code == "numbers_unavailable"
    assert isinstance(raised.value.__cause__, ClientError)
