"""The request deadline: time left, nested scopes, and handing it to worker threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.deadline import (
    ANSWER_RESERVE_SECONDS,
    FOLLOW_UP_RESERVE_SECONDS,
    current_deadline,
    deadline_scope,
    in_current_context,
    upstream_time_is_up,
)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_left_shrinks_with_the_clock_and_never_goes_negative() -> None:
    clock = FakeMonotonic()
    with deadline_scope(10.0, clock) as deadline:
        assert deadline.remaining() == pytest.approx(10.0 - ANSWER_RESERVE_SECONDS)
        assert deadline.cap(20.0) == pytest.approx(10.0 - ANSWER_RESERVE_SECONDS)
        assert deadline.cap(3.0) == 3.0  # a client's own shorter timeout stays
        assert deadline.cap(None) == pytest.approx(10.0 - ANSWER_RESERVE_SECONDS)
        clock.now += 8.0
        assert deadline.cap(3.0) == pytest.approx(2.0 - ANSWER_RESERVE_SECONDS)
        assert deadline.cap(3.0, FOLLOW_UP_RESERVE_SECONDS) == pytest.approx(
            2.0 - ANSWER_RESERVE_SECONDS - FOLLOW_UP_RESERVE_SECONDS
        )
        assert not upstream_time_is_up()
        clock.now += 5.0
        assert deadline.remaining() == 0.0
        assert deadline.exhausted()
        assert upstream_time_is_up()


def test_there_is_no_deadline_outside_a_request() -> None:
    assert current_deadline() is None
    assert not upstream_time_is_up()
    with deadline_scope(1.0):
        assert current_deadline() is not None
    assert current_deadline() is None


def test_a_nested_scope_never_extends_the_time_of_its_caller() -> None:
    clock = FakeMonotonic()
    with deadline_scope(2.0, clock) as outer:
        with deadline_scope(10.0, clock) as inner:
            assert inner is outer
        with deadline_scope(1.0, clock) as shorter:
            assert shorter.expires_at == pytest.approx(101.0)
        assert current_deadline() is outer


def test_worker_threads_see_the_deadline_only_when_handed_the_context() -> None:
    seen: list[object] = []

    def deadline_in_worker(_: int) -> object:
        return current_deadline()

    with deadline_scope(5.0) as deadline, ThreadPoolExecutor(max_workers=2) as pool:
        handed = list(pool.map(in_current_context(deadline_in_worker), range(4)))
        bare = threading.Thread(target=lambda: seen.append(current_deadline()))
        bare.start()
        bare.join()
    assert handed == [deadline] * 4
    assert seen == [None]  # a thread of its own (a background catch-up) keeps its own budgets
