"""DynamoDB fixed-window counters (moto)."""

from __future__ import annotations

from chalicelib import deps
from chalicelib.aws.rate_counters import DynamoDBRateCounters


def test_counts_up_to_the_limit_per_window_with_ttl(aws: None) -> None:
    counters = DynamoDBRateCounters(deps.get_table())
    hit = {"window_start": 1_800_000_000, "window_seconds": 600, "limit": 3}

    assert [counters.hit("apply", "abc", **hit) for _ in range(5)] == [True, True, True, False, False]
    assert counters.hit("apply", "abc", **{**hit, "window_start": 1_800_000_600})
    assert counters.hit("embloy", "abc", **hit)
    item = deps.get_table().get_item(Key={"PK": "RATE#apply#abc", "SK": "WINDOW#1800000000"})["Item"]
    assert (item["hits"], item["expires_at"]) == (3, 1_800_001_200)
