"""Per-client, per-job fixed-window limits on public writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.errors import ThrottledError
from chalicelib.services.rate_limits import PublicWriteLimiter


class InMemoryRateCounters:
    def __init__(self) -> None:
        self.hits: dict[tuple[str, str, int], int] = {}

    def hit(self, scope: str, subject: str, *, window_start: int, window_seconds: int, limit: int) -> bool:
        key = (scope, subject, window_start)
        if self.hits.get(key, 0) >= limit:
            return False
        self.hits[key] = self.hits.get(key, 0) + 1
        return True


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def limiter(counters: InMemoryRateCounters, clock: Clock) -> PublicWriteLimiter:
    return PublicWriteLimiter(counters, limit=2, window_seconds=60, salt="s", now=clock)


def test_each_client_and_job_has_its_own_budget() -> None:
    counters, clock = InMemoryRateCounters(), Clock()
    limits = limiter(counters, clock)
    for _ in range(2):
        limits.check("apply", "198.51.100.7", "job-1")
    with pytest.raises(ThrottledError) as caught:
        limits.check("apply", "198.51.100.7", "job-1")
    assert caught.value.retry_after == 55  # until the window ends
    limits.check("apply", "198.51.100.8", "job-1")
    limits.check("apply", "198.51.100.7", "job-2")
    limits.check("embloy", "198.51.100.7", "job-1")


def test_a_new_window_gives_a_new_budget() -> None:
    counters, clock = InMemoryRateCounters(), Clock()
    limits = limiter(counters, clock)
    for _ in range(2):
        limits.check("apply", "198.51.100.7", "job-1")
    clock.now += timedelta(seconds=55)
    limits.check("apply", "198.51.100.7", "job-1")


def test_client_addresses_are_not_stored() -> None:
    counters = InMemoryRateCounters()
    limiter(counters, Clock()).check("apply", "198.51.100.7", "job-1")
    assert not any("198.51.100.7" in subject for _, subject, _ in counters.hits)
