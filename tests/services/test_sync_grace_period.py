"""A broken ATS link keeps the account's postings on the board for the grace period, then closes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from chalicelib.clients.stackone.errors import StackOneAuthError, StackOneError, StackOnePreconditionError
from chalicelib.services.sync import SyncPolicy, SyncService
from tests.services.sync_fakes import (
    FakeClock,
    FakeStackOne,
    InMemoryPostings,
    InMemoryPublisher,
    InMemoryStates,
    raw,
)

GRACE = timedelta(hours=72)


class World:
    def __init__(self) -> None:
        self.stackone = FakeStackOne()
        self.postings = InMemoryPostings()
        self.states = InMemoryStates()
        self.publisher = InMemoryPublisher()
        self.clock = FakeClock()
        self.service = SyncService(
            self.stackone,
            self.postings,
            self.states,
            self.publisher,
            policy=SyncPolicy(broken_link_grace_seconds=GRACE.total_seconds()),
            clock=self.clock,
            monotonic=self.clock.monotonic,
        )

    def linked(self, account_id: str, count: int) -> None:
        self.stackone.add_account(account_id)
        self.stackone.postings[account_id] = [raw(f"{account_id}-p{i}") for i in range(count)]
        assert self.service.sync_account(account_id, "run-0").outcome == "succeeded"


@pytest.fixture
def world() -> World:
    world = World()
    world.linked("acc1", 4)
    return world


def break_by_status(world: World) -> None:
    world.stackone.add_account("acc1", status="expired")


def break_by_401(world: World) -> None:
    world.stackone.page_errors[("acc1", 0)] = StackOneAuthError(status=401)


BREAKS = [pytest.param(break_by_status, id="status-expired"), pytest.param(break_by_401, id="401")]


@pytest.mark.parametrize("break_link", BREAKS)
def test_a_failing_credential_keeps_the_postings_live_until_the_deadline(
    world: World, break_link: Callable[[World], None]
) -> None:
    # GIVEN a synced account whose credential then fails
    world.clock.advance(minutes=15)
    failed_at = world.clock()
    break_link(world)
    # WHEN the next runs see the failure, up to just before the deadline
    first = world.service.sync_account("acc1", "run-1")
    world.clock.advance(hours=71, minutes=59)
    later = world.service.sync_account("acc1", "run-2")
    # THEN the postings stay on the board, and the deadline is the first failure plus the grace period
    assert (first.outcome, first.closed, later.outcome, later.closed) == (
        "needs_attention",
        0,
        "needs_attention",
        0,
    )
    assert len(world.postings.live_ids("acc1")) == 4
    state = world.states.states["acc1"]
    assert state.needs_attention is True
    assert state.attention_since == failed_at and state.grace_until == failed_at + GRACE
    assert state.live_postings == 4


@pytest.mark.parametrize("break_link", BREAKS)
def test_postings_close_at_the_first_run_past_the_deadline(
    world: World, break_link: Callable[[World], None]
) -> None:
    break_link(world)
    world.service.sync_account("acc1", "run-1")
    deadline = world.states.states["acc1"].grace_until
    assert deadline is not None
    world.clock.now = deadline
    report = world.service.sync_account("acc1", "run-2")
    assert (report.mode, report.outcome, report.closed, report.live_postings) == (
        "close",
        "needs_attention",
        4,
        0,
    )
    assert world.postings.live_ids("acc1") == set()
    state = world.states.states["acc1"]
    # the deadline stays on the state (the console says when the postings left), the flag too
    assert state.grace_until == deadline and state.needs_attention is True and state.live_postings == 0
    assert state.watermark is None  # a recovered link sweeps fully, reopening them


def test_stackone_closing_a_posting_still_closes_it_during_the_grace_period(world: World) -> None:
    # GIVEN an account in its grace period
    break_by_status(world)
    world.service.sync_account("acc1", "run-1")
    # WHEN StackOne's webhook says one posting was deleted
    assert world.service.close_posting("acc1", "acc1-p0") == "closed"
    # THEN that one leaves the board and the others stay
    assert world.postings.live_ids("acc1") == {"acc1-p1", "acc1-p2", "acc1-p3"}


def test_a_deleted_account_still_closes_at_once(world: World) -> None:
    del world.stackone.accounts["acc1"]
    report = world.service.sync_account("acc1", "run-1")
    assert report.closed == 4 and world.postings.live_ids("acc1") == set()
    assert world.states.states["acc1"].grace_until is None


@pytest.mark.parametrize("break_link", BREAKS)
def test_a_recovered_credential_clears_the_deadline(
    world: World, break_link: Callable[[World], None]
) -> None:
    break_link(world)
    world.service.sync_account("acc1", "run-1")
    # the employer reconnects: StackOne lists the account as active and answers again
    world.stackone.add_account("acc1")
    world.stackone.page_errors.clear()
    world.clock.advance(hours=1)
    assert world.service.sync_account("acc1", "run-2").outcome == "succeeded"
    state = world.states.states["acc1"]
    assert (state.needs_attention, state.attention_since, state.grace_until) == (False, None, None)
    # and a later failure starts a new, full grace period
    world.clock.advance(hours=100)
    restarted = world.clock()
    break_link(world)
    assert world.service.sync_account("acc1", "run-3").closed == 0
    assert world.states.states["acc1"].grace_until == restarted + GRACE


def test_postings_closed_at_the_deadline_come_back_after_reconnecting(world: World) -> None:
    break_by_status(world)
    world.service.sync_account("acc1", "run-1")
    world.clock.advance(hours=73)
    world.service.sync_account("acc1", "run-2")
    assert world.postings.live_ids("acc1") == set()
    world.stackone.add_account("acc1")
    world.clock.advance(minutes=15)
    report = world.service.sync_account("acc1", "run-3")
    assert (report.mode, report.outcome) == ("full", "succeeded")
    assert len(world.postings.live_ids("acc1")) == 4


def test_zero_grace_closes_at_the_first_failure() -> None:
    world = World()
    world.service = SyncService(
        world.stackone,
        world.postings,
        world.states,
        world.publisher,
        policy=SyncPolicy(broken_link_grace_seconds=0),
        clock=world.clock,
        monotonic=world.clock.monotonic,
    )
    world.linked("acc1", 2)
    error: StackOneError = StackOnePreconditionError(status=412)
    world.stackone.page_errors[("acc1", 0)] = error
    assert world.service.sync_account("acc1", "run-1").closed == 2


def test_the_schedule_keeps_checking_an_expired_account_while_its_postings_are_live(world: World) -> None:
    # An expired account is not active in StackOne, yet the fan-out sends it to the worker while it still
    # shows postings, so the deadline is checked on schedule; once closed, it is left alone.
    break_by_status(world)
    world.service.sync_account("acc1", "run-1")
    assert world.service.enqueue_all("tick-1") == 1
    world.clock.advance(hours=73)
    world.service.sync_account("acc1", "run-2")
    assert world.service.enqueue_all("tick-2") == 0
