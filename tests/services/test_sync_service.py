"""SyncService with in-memory collaborators: incremental/full, closing, fault isolation, fan-out."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.clients.stackone.errors import (
    StackOneAuthError,
    StackOneBudgetExceededError,
    StackOneError,
    StackOneForbiddenError,
    StackOnePreconditionError,
    StackOneServerError,
)
from chalicelib.clients.stackone.models import JobPostingsPage
from chalicelib.services.sync import CountingMetrics, SyncPolicy, SyncService
from tests.services.sync_fakes import (
    FakeClock,
    FakeStackOne,
    InMemoryPostings,
    InMemoryPublisher,
    InMemoryStates,
    raw,
)


class World:
    def __init__(self, policy: SyncPolicy | None = None) -> None:
        self.stackone = FakeStackOne()
        self.postings = InMemoryPostings()
        self.states = InMemoryStates()
        self.publisher = InMemoryPublisher()
        self.clock = FakeClock()
        self.metrics = CountingMetrics()
        self.service = SyncService(
            self.stackone,
            self.postings,
            self.states,
            self.publisher,
            policy=policy or SyncPolicy(ats_providers=frozenset({"greenhouse", "ashby"})),
            clock=self.clock,
            monotonic=self.clock.monotonic,
            metrics=self.metrics,
        )

    def account(self, account_id: str, count: int, **kwargs: str) -> None:
        self.stackone.add_account(account_id, **kwargs)
        self.stackone.postings[account_id] = [raw(f"{account_id}-p{i}") for i in range(count)]


@pytest.fixture
def world() -> World:
    return World()


def test_first_run_is_a_full_sweep_storing_live_postings(world: World) -> None:
    # GIVEN an account with 7 live postings, one draft and one internal
    world.account("acc1", 7)
    world.stackone.postings["acc1"] += [raw("draft", status="draft"), raw("secret", internal=True)]
    # WHEN it is synced
    report = world.service.sync_account("acc1", "run-1")
    # THEN only the 7 visible postings are stored, live, with seen/changed timestamps, in per-page batches
    assert (report.mode, report.outcome, report.upserted, report.closed) == ("full", "succeeded", 7, 0)
    assert world.postings.live_ids("acc1") == {f"acc1-p{i}" for i in range(7)}
    stored = world.postings.posting("acc1", "acc1-p0")
    assert stored.first_seen_at == stored.changed_at == stored.last_seen_at == world.clock.now
    assert stored.employer_id == "emp-acc1" and stored.company == "Company acc1"
    assert world.postings.write_calls == 3  # 3 pages of 3
    state = world.states.states["acc1"]
    assert (
        state.employer_id == "emp-acc1" and state.provider == "greenhouse" and state.company == "Company acc1"
    )
    assert state.last_outcome == "succeeded" and state.watermark == world.clock.now
    assert state.last_full_sweep_at == world.clock.now
    assert (state.upserted, state.unchanged, state.closed, state.live_postings) == (7, 0, 0, 7)
    assert state.last_run_id == "run-1" and state.last_finished_at is not None


def test_unchanged_resync_writes_no_posting(world: World) -> None:
    world.account("acc1", 7)
    world.service.sync_account("acc1", "run-1")
    writes_before = world.postings.items_written
    world.clock.advance(minutes=15)
    report = world.service.sync_account("acc1", "run-2", mode="full")
    assert world.postings.items_written == writes_before
    assert (report.upserted, report.unchanged, report.closed, report.live_postings) == (0, 7, 0, 7)


def test_only_changed_postings_are_written_and_changed_at_moves(world: World) -> None:
    world.account("acc1", 6)
    world.service.sync_account("acc1", "run-1")
    first_changed = world.postings.posting("acc1", "acc1-p2").changed_at
    world.clock.advance(minutes=15)
    world.stackone.postings["acc1"][2] = raw(
        "acc1-p2", title="Senior Job", updated_at="2026-03-01T12:05:00.000Z"
    )
    before = world.postings.items_written
    report = world.service.sync_account("acc1", "run-2", mode="full")
    assert world.postings.items_written - before == 1
    assert (report.upserted, report.unchanged) == (1, 5)
    posting = world.postings.posting("acc1", "acc1-p2")
    assert posting.title == "Senior Job"
    assert first_changed is not None and posting.changed_at is not None and posting.changed_at > first_changed
    assert posting.first_seen_at == first_changed  # first seen in run 1


def test_empty_pages_carrying_next_are_followed(world: World) -> None:
    world.account("acc1", 4)
    world.stackone.empty_first_page = True
    report = world.service.sync_account("acc1", "run-1")
    assert report.upserted == 4
    assert world.stackone.pages_requested("acc1") == 3  # empty, 3, 1


def test_delta_asks_for_updates_since_watermark_minus_overlap(world: World) -> None:
    world.account("acc1", 2)
    world.service.sync_account("acc1", "run-1")  # full sweep at 12:00
    world.clock.advance(minutes=15)
    world.service.sync_account("acc1", "run-2")
    updated_after = [u for op, _, u in world.stackone.requests if op == "page"]
    assert updated_after == [None, "2026-03-01T11:50:00.000Z"]  # 12:00 minus the 10 minute overlap
    assert world.states.states["acc1"].runs_since_full_sweep == 1
    assert world.states.states["acc1"].watermark == world.clock.now


def test_full_sweep_every_nth_run_and_when_watermark_is_old() -> None:
    world = World(SyncPolicy(full_every_n_runs=3, full_max_age_seconds=3600))
    world.account("acc1", 1)
    modes = []
    for run in range(4):
        modes.append(world.service.sync_account("acc1", f"run-{run}").mode)
        world.clock.advance(minutes=5)
    world.clock.advance(hours=2)
    modes.append(world.service.sync_account("acc1", "run-late").mode)
    assert modes == ["full", "delta", "delta", "full", "full"]


def test_full_sweep_closes_missing_and_reopens_returning_postings(world: World) -> None:
    # GIVEN a synced account
    world.account("acc1", 5)
    world.service.sync_account("acc1", "run-1")
    original_first_seen = world.postings.posting("acc1", "acc1-p3").first_seen_at
    # WHEN p3 disappears from StackOne and a full sweep runs
    removed = world.stackone.postings["acc1"].pop(3)
    world.clock.advance(hours=1)
    report = world.service.sync_account("acc1", "run-2", mode="full")
    # THEN p3 is closed and off the live set, with closed_at and a newer changed_at
    assert report.closed == 1 and report.live_postings == 4
    closed = world.postings.posting("acc1", "acc1-p3")
    assert closed.status == "closed" and closed.closed_at == world.clock.now
    assert closed.changed_at == world.clock.now
    # WHEN it comes back
    world.stackone.postings["acc1"].append(removed)
    world.clock.advance(hours=1)
    report = world.service.sync_account("acc1", "run-3", mode="full")
    # THEN it is live again with its original first_seen_at, no closed_at, and changed_at moved forward
    reopened = world.postings.posting("acc1", "acc1-p3")
    assert reopened.status == "live" and reopened.closed_at is None
    assert reopened.first_seen_at == original_first_seen
    assert reopened.changed_at == world.clock.now
    assert report.upserted == 1 and report.live_postings == 5


def test_posting_that_stops_being_live_is_closed_by_a_delta(world: World) -> None:
    world.account("acc1", 3)
    world.service.sync_account("acc1", "run-1")
    world.clock.advance(minutes=15)
    world.stackone.postings["acc1"][0] = raw(
        "acc1-p0", status="closed", updated_at="2026-03-01T12:10:00.000Z"
    )
    report = world.service.sync_account("acc1", "run-2")
    assert report.mode == "delta" and report.closed == 1
    assert world.postings.live_ids("acc1") == {"acc1-p1", "acc1-p2"}


def test_delta_never_closes_postings_it_did_not_see(world: World) -> None:
    world.account("acc1", 3)
    world.service.sync_account("acc1", "run-1")
    world.stackone.postings["acc1"].pop()
    world.clock.advance(minutes=15)
    report = world.service.sync_account("acc1", "run-2")
    assert report.mode == "delta" and report.closed == 0
    assert len(world.postings.live_ids("acc1")) == 3


def test_failed_listing_closes_nothing_and_keeps_the_watermark(world: World) -> None:
    # GIVEN a synced account
    world.account("acc1", 9)
    world.service.sync_account("acc1", "run-1")
    watermark = world.states.states["acc1"].watermark
    # WHEN a full sweep fails on the second page after retries, with postings missing from page 1
    world.stackone.postings["acc1"].pop(0)
    world.stackone.page_errors[("acc1", 1)] = StackOneServerError(status=502)
    world.clock.advance(hours=1)
    report = world.service.sync_account("acc1", "run-2", mode="full")
    # THEN nothing is closed, the watermark stays, and the failure is recorded
    assert report.outcome == "failed" and report.closed == 0
    assert len(world.postings.live_ids("acc1")) == 9
    state = world.states.states["acc1"]
    assert state.watermark == watermark
    assert state.last_outcome == "failed" and state.consecutive_failures == 1
    assert state.last_error == "stackone_unavailable: StackOne answered 502"
    assert state.needs_attention is False
    assert state.live_postings == 9


def test_budget_exhaustion_is_partial_and_keeps_the_watermark(world: World) -> None:
    world.account("acc1", 9)
    world.service.sync_account("acc1", "run-1")
    watermark = world.states.states["acc1"].watermark
    world.stackone.postings["acc1"].pop(0)
    world.stackone.page_errors[("acc1", 2)] = StackOneBudgetExceededError()
    world.clock.advance(hours=1)
    report = world.service.sync_account("acc1", "run-2", mode="full")
    assert report.outcome == "partial" and report.closed == 0
    assert world.states.states["acc1"].watermark == watermark
    assert world.states.states["acc1"].last_outcome == "partial"


def test_run_budget_checked_between_pages() -> None:
    world = World(SyncPolicy(time_budget_seconds=0.0))
    world.account("acc1", 3)
    report = world.service.sync_account("acc1", "run-1")
    assert report.outcome == "partial" and report.pages == 0
    assert world.states.states["acc1"].watermark is None


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (StackOneAuthError(status=401, error_code="AccountExpiredCredentialsError"), "reconnect"),
        (StackOneForbiddenError(status=403), "permissions"),
        (
            StackOnePreconditionError(status=412, error_code="AccountIntegrationInactiveError"),
            "integration_disabled",
        ),
    ],
)
def test_auth_failures_mark_the_account_and_leave_postings_alone(
    world: World, error: StackOneError, reason: str
) -> None:
    world.account("acc1", 4)
    world.service.sync_account("acc1", "run-1")
    stored_before = dict(world.postings.items)
    world.stackone.page_errors[("acc1", 0)] = error
    world.clock.advance(hours=1)
    report = world.service.sync_account("acc1", "run-2", mode="full")
    assert report.outcome == "needs_attention"
    assert world.postings.items == stored_before
    state = world.states.states["acc1"]
    assert state.needs_attention is True and state.attention_reason == reason
    assert state.last_outcome == "needs_attention" and state.consecutive_failures == 1
    assert state.last_error is not None and state.last_error.startswith(error.code)
    # and a later successful run clears the flag
    del world.stackone.page_errors[("acc1", 0)]
    world.service.sync_account("acc1", "run-3")
    assert world.states.states["acc1"].needs_attention is False
    assert world.states.states["acc1"].consecutive_failures == 0


def test_one_account_failing_does_not_affect_another(world: World) -> None:
    world.account("bad", 3)
    world.account("good", 3)
    world.stackone.account_errors["bad"] = StackOneAuthError(status=401)
    reports = [world.service.sync_account(a, "run-1") for a in ("bad", "good")]
    assert [r.outcome for r in reports] == ["needs_attention", "succeeded"]
    assert len(world.postings.live_ids("good")) == 3
    assert world.metrics.totals["AccountsFailed"] == 1


def test_deleted_account_gets_its_postings_closed(world: World) -> None:
    world.account("acc1", 3)
    world.service.sync_account("acc1", "run-1")
    del world.stackone.accounts["acc1"]
    world.clock.advance(minutes=15)
    report = world.service.sync_account("acc1", "run-2")
    assert (report.mode, report.closed, report.live_postings) == ("close", 3, 0)
    assert world.postings.live_ids("acc1") == set()
    state = world.states.states["acc1"]
    assert state.account_status == "deleted" and state.attention_reason == "account_deleted"


def test_suspended_account_gets_its_postings_closed_at_once(world: World) -> None:
    # (an inactive or expired account keeps them for the grace period: test_sync_grace_period.py)
    world.account("acc1", 3)
    world.service.sync_account("acc1", "run-1")
    world.stackone.add_account("acc1", status="suspended")
    report = world.service.sync_account("acc1", "run-2")
    assert report.closed == 3 and world.postings.live_ids("acc1") == set()
    assert world.states.states["acc1"].account_status == "suspended"


def test_unmappable_postings_are_skipped_not_fatal(world: World) -> None:
    world.account("acc1", 2)
    world.stackone.postings["acc1"].append({"title": "no id"})
    report = world.service.sync_account("acc1", "run-1")
    assert (report.outcome, report.upserted, report.skipped) == ("succeeded", 2, 1)


def test_enqueue_all_sends_one_message_per_active_ats_account(world: World) -> None:
    for i in range(23):
        world.stackone.add_account(f"a{i:02d}")
    world.stackone.add_account("crm", provider="hubspot")
    world.stackone.add_account("off", status="inactive")
    sent = world.service.enqueue_all("run-9")
    assert sent == 23
    assert sorted(m.account_id for m in world.publisher.messages) == [f"a{i:02d}" for i in range(23)]
    assert {m.run_id for m in world.publisher.messages} == {"run-9"}


def test_enqueue_all_includes_known_accounts_that_vanished(world: World) -> None:
    world.account("gone", 2)
    world.account("stays", 1)
    world.service.sync_account("gone", "run-1")
    del world.stackone.accounts["gone"]
    world.service.enqueue_all("run-2")
    assert sorted(m.account_id for m in world.publisher.messages) == ["gone", "stays"]
    world.service.sync_account("gone", "run-2")  # closes it; no longer "active"
    world.publisher.messages.clear()
    world.service.enqueue_all("run-3")
    assert [m.account_id for m in world.publisher.messages] == ["stays"]


def test_refresh_posting_and_close_posting(world: World) -> None:
    world.account("acc1", 2)
    world.service.sync_account("acc1", "run-1")
    world.stackone.postings["acc1"][0] = raw("acc1-p0", title="Renamed")
    world.clock.advance(minutes=1)
    assert world.service.refresh_posting("acc1", "acc1-p0") == "upserted"
    assert world.postings.posting("acc1", "acc1-p0").title == "Renamed"
    assert world.service.refresh_posting("acc1", "acc1-p0") == "unchanged"
    assert world.service.close_posting("acc1", "acc1-p1") == "closed"
    assert world.service.close_posting("acc1", "acc1-p1") == "unchanged"
    world.stackone.postings["acc1"].pop(0)
    assert world.service.refresh_posting("acc1", "acc1-p0") == "closed"  # 404 from StackOne
    assert world.postings.live_ids("acc1") == set()


def test_refresh_of_a_new_posting_uses_the_account_from_stackone(world: World) -> None:
    world.account("acc1", 1)
    assert world.service.refresh_posting("acc1", "acc1-p0") == "upserted"
    assert world.postings.posting("acc1", "acc1-p0").company == "Company acc1"


def test_next_page_is_fetched_while_the_current_one_is_processed(world: World) -> None:
    import threading

    # GIVEN a StackOne fake that signals when the second page is requested
    world.account("acc1", 6)
    second_page_requested = threading.Event()
    original = world.stackone.list_job_postings_page

    def list_page(
        account_id: str,
        *,
        cursor: str | None = None,
        updated_after: str | None = None,
        fields: str | None = None,
    ) -> JobPostingsPage:
        if cursor:
            second_page_requested.set()
        return original(account_id, cursor=cursor, updated_after=updated_after, fields=fields)

    world.stackone.list_job_postings_page = list_page  # type: ignore[method-assign]
    seen_during_first_write: list[bool] = []
    original_write = world.postings.write

    def write(postings: Any) -> int:
        if not seen_during_first_write:
            seen_during_first_write.append(second_page_requested.wait(timeout=5))
        return original_write(postings)

    world.postings.write = write  # type: ignore[method-assign]
    # WHEN the account syncs
    report = world.service.sync_account("acc1", "run-1")
    # THEN page 2 was already on its way while page 1 was being written
    assert seen_during_first_write == [True]
    assert report.upserted == 6
