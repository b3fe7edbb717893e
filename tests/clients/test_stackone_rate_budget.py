"""The StackOne request budget shared by every process: windows, waits, deadlines, and the client's use."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from chalicelib.clients.stackone.auth import StackOneKeyAuth
from chalicelib.clients.stackone.client import StackOneClient
from chalicelib.clients.stackone.errors import StackOneBudgetExceededError, StackOneRateLimitedError
from chalicelib.clients.stackone.rate_budget import (
    InMemoryWindowCounter,
    RateBudgetExhaustedError,
    SharedRateBudget,
)
from chalicelib.errors import UpstreamUnavailableError

BASE = "https://api.stackone.test"


class FakeTime:
    """Wall clock and monotonic clock that move together, only when someone sleeps."""

    def __init__(self, start: float = 1_000_000.25) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def budget(time: FakeTime, counter: InMemoryWindowCounter, per_minute: int = 600) -> SharedRateBudget:
    return SharedRateBudget(
        counter, per_minute=per_minute, clock=time.clock, monotonic=time.monotonic, sleep=time.sleep
    )


def test_a_full_window_makes_the_caller_wait_for_the_next_one() -> None:
    time, counter = FakeTime(), InMemoryWindowCounter()
    limiter = budget(time, counter)  # 600/min: 10 per 1-second window

    waits = [limiter.acquire(deadline=time.now + 60) for _ in range(25)]

    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(0.75)  # to the start of the next second
    assert time.now == pytest.approx(1_000_002.0)  # 25 requests need three windows
    assert counter.takes == 25


def test_two_processes_share_one_budget() -> None:
    time, counter = FakeTime(), InMemoryWindowCounter()
    first, second = budget(time, counter), budget(time, counter)

    for _ in range(6):
        first.acquire(deadline=time.now + 60)
    for _ in range(4):
        second.acquire(deadline=time.now + 60)

    with pytest.raises(RateBudgetExhaustedError) as raised:
        second.acquire(deadline=time.now)  # the window is full and the caller cannot wait
    assert raised.value.wait_seconds == pytest.approx(0.75)


def test_no_sixty_second_span_exceeds_the_budget_plus_one_window() -> None:
    time, counter = FakeTime(start=5.5), InMemoryWindowCounter()
    limiter = budget(time, counter, per_minute=900)
    starts: list[float] = []

    for _ in range(2000):
        limiter.acquire(deadline=time.now + 600)
        starts.append(time.now)

    worst = max(sum(1 for t in starts if s <= t < s + 60) for s in starts)
    assert worst <= 915 < 1000  # StackOne's limit


def test_a_broken_counter_lets_requests_through() -> None:
    class Broken:
        def try_take(self, window: int, limit: int) -> bool:
            raise UpstreamUnavailableError(code="rate_budget_unavailable")

    time = FakeTime()
    limiter = SharedRateBudget(Broken(), per_minute=60, clock=time.clock, monotonic=time.monotonic)

    assert limiter.acquire(deadline=time.now) == 0.0


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/accounts/acc1").respond(
            200, json={"id": "acc1", "provider": "ashby", "status": "active", "origin_owner_id": "o",
                       "origin_owner_name": "O"},
        )  # fmt: skip
        yield router


def client(time: FakeTime, limiter: SharedRateBudget) -> StackOneClient:
    http = httpx.Client(base_url=BASE, auth=StackOneKeyAuth(lambda: "key"))
    return StackOneClient(
        http,
        sleep=time.sleep,
        monotonic=time.monotonic,
        retry_budget_seconds=0,
        rate_budget=limiter,
        rate_wait_seconds=0.5,
    )


def test_every_request_takes_a_slot_and_waits_inside_a_run(api: respx.MockRouter) -> None:
    time, counter = FakeTime(), InMemoryWindowCounter()
    stackone = client(time, budget(time, counter, per_minute=120))  # 2 per second

    with stackone.time_budget(10):
        for _ in range(5):
            stackone.get_account("acc1")

    assert counter.takes == 5 and api.calls.call_count == 5
    assert sum(time.sleeps) == pytest.approx(1.75)


def test_a_run_whose_budget_ends_before_a_slot_stops_as_budget_exceeded(api: respx.MockRouter) -> None:
    time, counter = FakeTime(), InMemoryWindowCounter()
    stackone = client(time, budget(time, counter, per_minute=60))

    with stackone.time_budget(0.5):
        stackone.get_account("acc1")
        with pytest.raises(StackOneBudgetExceededError):
            stackone.get_account("acc1")

    assert api.calls.call_count == 1


def test_a_handler_that_cannot_get_a_slot_soon_gets_503_with_retry_after(api: respx.MockRouter) -> None:
    time, counter = FakeTime(start=1_000_000.0), InMemoryWindowCounter()
    stackone = client(time, budget(time, counter, per_minute=60))
    stackone.get_account("acc1")

    with pytest.raises(StackOneRateLimitedError) as raised:
        stackone.get_account("acc1")  # the next slot is 1 s away; a handler waits at most 0.5 s

    assert raised.value.retry_after == 1
    assert api.calls.call_count == 1
