"""SyncService against a StackOne that misbehaves: paging guard, poison postings, crashes, deletions,
departments and registered owners (in-memory collaborators)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.clients.stackone.errors import StackOneUnsupportedError
from chalicelib.errors import UnstorableItemsError, UpstreamUnavailableError
from chalicelib.models.posting import Posting
from chalicelib.services.sync import SyncPolicy, SyncService
from tests.services.sync_fakes import (
    FakeClock,
    FakeStackOne,
    InMemoryPostings,
    InMemoryPublisher,
    InMemoryStates,
    raw,
)


class Registry:
    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = set(ids)

    def is_registered(self, employer_id: str) -> bool:
        return employer_id in self.ids

    def registered_ids(self) -> set[str]:
        return set(self.ids)


class World:
    def __init__(self, policy: SyncPolicy | None = None, registry: Registry | None = None) -> None:
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
            policy=policy or SyncPolicy(),
            clock=self.clock,
            monotonic=self.clock.monotonic,
            departments=self.states,
            employers=registry,
        )

    def account(self, account_id: str, count: int) -> None:
        self.stackone.add_account(account_id)
        self.stackone.postings[account_id] = [raw(f"{account_id}-p{i}") for i in range(count)]

    def requests(self, op: str) -> int:
        return sum(1 for kind, _, _ in self.stackone.requests if kind == op)


# 1. Paging guard ------------------------------------------------------------------------------------


def test_a_repeating_cursor_ends_the_listing_after_one_repeat_and_closes_nothing() -> None:
    world = World()
    world.account("acc1", 3)
    world.service.sync_account("acc1", "run-1", "full")
    world.stackone.postings["acc1"].append(raw("acc1-new"))
    world.stackone.repeat_cursor = True
    world.stackone.requests.clear()

    report = world.service.sync_account("acc1", "run-2", "full")

    assert report.outcome == "partial"
    assert world.requests("page") == 2  # the first page and one repeat of its cursor
    state = world.states.states["acc1"]
    assert state.paging_issue is not None and "repeated a page cursor" in state.paging_issue
    assert state.last_error is not None and state.last_error.startswith("paging_stopped")
    assert world.postings.live_ids("acc1") == {"acc1-p0", "acc1-p1", "acc1-p2"}  # nothing closed


def test_the_page_cap_ends_a_listing_as_incomplete() -> None:
    world = World(SyncPolicy(max_pages=2))
    world.account("acc1", 10)  # 4 pages of 3

    report = world.service.sync_account("acc1", "run-1", "full")

    assert report.outcome == "partial"
    assert world.requests("page") == 2
    assert "more than 2 pages" in (world.states.states["acc1"].paging_issue or "")
    assert world.states.states["acc1"].watermark is None


def test_a_complete_run_clears_the_paging_issue() -> None:
    world = World()
    world.account("acc1", 3)
    world.stackone.repeat_cursor = True
    world.service.sync_account("acc1", "run-1", "full")
    world.stackone.repeat_cursor = False

    world.service.sync_account("acc1", "run-2", "full")

    assert world.states.states["acc1"].paging_issue is None
    assert world.states.states["acc1"].last_outcome == "succeeded"


# 3. Poison isolation ----------------------------------------------------------------------------------


def test_a_posting_that_cannot_be_mapped_is_skipped_and_named_and_the_rest_syncs() -> None:
    world = World()
    world.account("acc1", 4)
    # An id that is not valid Unicode text: the board id cannot be derived from it.
    world.stackone.postings["acc1"].insert(1, raw("bad\ud800id"))
    world.stackone.postings["acc1"].insert(2, None)  # type: ignore[arg-type]

    report = world.service.sync_account("acc1", "run-1", "full")

    assert report.outcome == "succeeded"
    assert world.postings.live_ids("acc1") == {f"acc1-p{i}" for i in range(4)}
    state = world.states.states["acc1"]
    assert state.skipped == 2
    assert [(s.posting_id, s.reason) for s in state.skipped_postings] == [
        ("bad\ud800id", "unmappable: UnicodeEncodeError")
    ]


class RejectingPostings(InMemoryPostings):
    """Refuses postings whose title the real table could not store; writes the others."""

    def write(self, postings: Sequence[tuple[Posting, str]]) -> int:
        good = [(p, h) for p, h in postings if "POISON" not in p.title]
        super().write(good)
        rejected = {p.posting_id: "invalid_text" for p, _ in postings if "POISON" in p.title}
        if rejected:
            raise UnstorableItemsError(rejected)
        return len(good)


def test_a_posting_the_store_refuses_is_skipped_named_and_not_counted_as_live() -> None:
    world = World()
    world.postings = RejectingPostings()
    world.service = SyncService(
        world.stackone, world.postings, world.states, world.publisher, clock=world.clock,
        monotonic=world.clock.monotonic,
    )  # fmt: skip
    world.account("acc1", 3)
    world.stackone.postings["acc1"].append(raw("acc1-poison", title="POISON"))

    report = world.service.sync_account("acc1", "run-1", "full")

    assert report.outcome == "succeeded"
    assert report.upserted == 3 and report.live_postings == 3
    state = world.states.states["acc1"]
    assert [(s.posting_id, s.reason) for s in state.skipped_postings] == [
        ("acc1-poison", "unstorable: invalid_text")
    ]


class BrokenIndex(InMemoryPostings):
    def load_index(self, account_id: str) -> dict[str, Any]:
        raise UpstreamUnavailableError("down", code="table_unavailable")


def test_a_crashing_run_records_failed_before_the_error_propagates() -> None:
    world = World()
    world.postings = BrokenIndex()
    world.service = SyncService(
        world.stackone, world.postings, world.states, world.publisher, clock=world.clock,
        monotonic=world.clock.monotonic,
    )  # fmt: skip
    world.account("acc1", 3)

    with pytest.raises(UpstreamUnavailableError):
        world.service.sync_account("acc1", "run-1", "full")

    state = world.states.states["acc1"]
    assert state.last_outcome == "failed"
    assert state.last_error == "table_unavailable: UpstreamUnavailableError"


def test_the_fan_out_marks_a_run_that_died_while_running_as_failed() -> None:
    world = World()
    world.account("acc1", 1)
    world.service.sync_account("acc1", "run-1", "full")
    state = world.states.states["acc1"]
    state.last_outcome = "running"  # as a run killed by its Lambda timeout leaves it
    state.last_started_at = world.clock.now
    world.states.put(state)
    world.clock.advance(seconds=299)
    world.service.enqueue_all("sched-1")
    assert world.states.states["acc1"].last_outcome == "running"  # may still be going

    world.clock.advance(seconds=2)
    world.service.enqueue_all("sched-2")

    repaired = world.states.states["acc1"]
    assert repaired.last_outcome == "failed"
    assert repaired.last_error is not None and repaired.last_error.startswith("run_interrupted")


# 4. Deletions within the hour ----------------------------------------------------------------------


def test_a_delta_run_sweeps_for_deletions_once_the_last_sweep_is_old_enough() -> None:
    world = World()
    world.account("acc1", 5)
    world.service.sync_account("acc1", "run-1", "full")
    deleted = world.stackone.postings["acc1"].pop(2)  # gone at the source: never in a delta
    world.clock.advance(minutes=15)
    world.stackone.requests.clear()

    early = world.service.sync_account("acc1", "run-2", "delta")

    assert early.existence_sweep is False and world.requests("sweep") == 0
    assert deleted["id"] in world.postings.live_ids("acc1")

    world.clock.advance(minutes=15)
    late = world.service.sync_account("acc1", "run-3", "delta")

    assert late.mode == "delta" and late.existence_sweep is True and late.closed == 1
    assert world.requests("sweep") == 2  # 4 postings, pages of 3: ids and status only
    assert deleted["id"] not in world.postings.live_ids("acc1")
    assert world.states.states["acc1"].last_existence_sweep_at == world.clock.now


def test_an_incomplete_sweep_closes_nothing() -> None:
    world = World()
    world.account("acc1", 4)
    world.service.sync_account("acc1", "run-1", "full")
    world.stackone.postings["acc1"].pop(0)
    world.clock.advance(minutes=30)
    world.stackone.repeat_cursor = True

    report = world.service.sync_account("acc1", "run-2", "delta")

    assert report.outcome == "partial" and report.closed == 0
    assert len(world.postings.live_ids("acc1")) == 4


# 5. Registered employers only ------------------------------------------------------------------------


def test_only_accounts_of_registered_employers_are_enqueued_and_synced() -> None:
    world = World(registry=Registry({"emp-acc1"}))
    world.account("acc1", 2)
    world.account("acc2", 2)

    world.service.enqueue_all("sched-1")
    report = world.service.sync_account("acc2", "run-1", "full")

    assert [m.account_id for m in world.publisher.messages] == ["acc1"]
    assert report.mode == "close" and world.postings.live_ids("acc2") == set()
    assert world.states.states["acc2"].attention_reason == "employer_not_registered"


def test_an_owner_that_is_no_longer_registered_has_its_postings_closed() -> None:
    registry = Registry({"emp-acc1"})
    world = World(registry=registry)
    world.account("acc1", 3)
    world.service.sync_account("acc1", "run-1", "full")
    registry.ids.clear()

    world.service.enqueue_all("sched-1")  # still has live postings: enqueued so the worker closes them
    assert [m.account_id for m in world.publisher.messages] == ["acc1"]
    world.service.sync_account("acc1", "run-2")
    world.publisher.messages.clear()
    world.service.enqueue_all("sched-2")  # nothing left to close: not enqueued again

    assert world.postings.live_ids("acc1") == set()
    assert world.publisher.messages == []


def test_the_fan_out_lists_accounts_inside_a_retry_budget() -> None:
    budgets: list[float] = []
    world = World(SyncPolicy(fan_out_budget_seconds=33))
    world.account("acc1", 1)
    original = world.stackone.time_budget

    def recording(seconds: float) -> Any:
        budgets.append(seconds)
        return original(seconds)

    world.stackone.time_budget = recording  # type: ignore[method-assign]

    world.service.enqueue_all("sched-1")

    assert budgets == [33]


# 7. Departments --------------------------------------------------------------------------------------


def departments_world() -> World:
    world = World()
    world.account("acc1", 3)
    rows = world.stackone.postings["acc1"]
    rows[0]["job_id"], rows[1]["job_id"], rows[2]["job_id"] = "job-a", "job-b", "job-unknown"
    world.stackone.jobs["acc1"] = [
        {"id": "job-a", "department_ids": ["d-eng"]},
        {"id": "job-b", "department_ids": ["d-missing", "d-sales"]},
    ]
    world.stackone.departments["acc1"] = [
        {"id": "d-eng", "name": "Engineering"},
        {"id": "d-sales", "name": "Sales"},
    ]
    return world


def test_a_full_sweep_maps_each_posting_department_from_its_job() -> None:
    world = departments_world()

    world.service.sync_account("acc1", "run-1", "full")

    assert world.postings.posting("acc1", "acc1-p0").department == "Engineering"
    assert world.postings.posting("acc1", "acc1-p1").department == "Sales"
    assert world.postings.posting("acc1", "acc1-p2").department is None


def test_an_unchanged_resync_writes_no_posting_and_no_department_cache() -> None:
    world = departments_world()
    world.service.sync_account("acc1", "run-1", "full")
    written, puts = world.postings.items_written, world.states.department_puts

    world.service.sync_account("acc1", "run-2", "full")

    assert world.postings.items_written == written
    assert world.states.department_puts == puts == 1


def test_a_department_change_rewrites_only_its_postings_and_deltas_use_the_cache() -> None:
    world = departments_world()
    world.service.sync_account("acc1", "run-1", "full")
    world.stackone.departments["acc1"][0]["name"] = "Platform Engineering"
    written = world.postings.items_written

    world.service.sync_account("acc1", "run-2", "full")
    world.stackone.requests.clear()
    world.stackone.postings["acc1"][1]["title"] = "Edited"
    world.stackone.postings["acc1"][1]["updated_at"] = "2026-03-01T12:30:00.000Z"
    world.service.sync_account("acc1", "run-3", "delta")

    assert world.postings.items_written == written + 2
    assert world.postings.posting("acc1", "acc1-p0").department == "Platform Engineering"
    assert world.postings.posting("acc1", "acc1-p1").department == "Sales"  # from the cache
    assert world.requests("jobs") == 0


def test_a_provider_without_jobs_keeps_syncing_postings() -> None:
    world = departments_world()
    world.service.sync_account("acc1", "run-1", "full")
    world.stackone.jobs_error = StackOneUnsupportedError(status=501)
    world.clock.advance(seconds=timedelta(days=2).total_seconds())

    report = world.service.sync_account("acc1", "run-2", "full")

    assert report.outcome == "succeeded"
    assert world.postings.posting("acc1", "acc1-p0").department == "Engineering"  # cached map kept


def test_a_new_posting_of_a_job_the_cache_does_not_know_refreshes_the_departments_once() -> None:
    world = departments_world()
    world.service.sync_account("acc1", "run-1", "full")
    world.stackone.jobs["acc1"].append({"id": "job-new", "department_ids": ["d-eng"]})
    world.stackone.postings["acc1"] += [
        {**raw("acc1-new1", updated_at="2026-03-01T12:30:00.000Z"), "job_id": "job-new"},
        {**raw("acc1-new2", updated_at="2026-03-01T12:30:00.000Z"), "job_id": "job-unlisted"},
    ]
    world.stackone.requests.clear()

    world.service.sync_account("acc1", "run-2", "delta")

    assert world.postings.posting("acc1", "acc1-new1").department == "Engineering"
    assert world.postings.posting("acc1", "acc1-new2").department is None
    assert world.requests("jobs") == 1  # one refresh, even for a job StackOne does not list


def test_an_account_that_comes_back_after_being_closed_gets_a_full_sweep() -> None:
    world = World()
    world.account("acc1", 4)
    world.service.sync_account("acc1", "run-1", "full")
    world.stackone.accounts[
        "acc1"
    ].status = "suspended"  # closes at once (a broken link waits: test_sync_grace_period)
    world.service.sync_account("acc1", "run-2")
    assert world.postings.live_ids("acc1") == set()
    world.stackone.accounts["acc1"].status = "active"
    world.clock.advance(minutes=15)

    report = world.service.sync_account("acc1", "run-3")  # nothing changed at the source meanwhile

    assert report.mode == "full"
    assert len(world.postings.live_ids("acc1")) == 4


def test_get_accounts_shows_a_run_past_the_worker_timeout_as_failed() -> None:
    from chalicelib.models.sync_state import AccountSyncState, SkippedPosting
    from chalicelib.services.accounts import shown_state

    clock = FakeClock()
    state = AccountSyncState(
        account_id="acc1",
        last_outcome="running",
        last_started_at=clock.now,
        skipped_postings=[SkippedPosting(posting_id="p1", reason="unstorable: invalid_text")],
    )

    fresh = shown_state(state, clock.now + timedelta(seconds=299), timedelta(seconds=300))
    stale = shown_state(state, clock.now + timedelta(seconds=301), timedelta(seconds=300))

    assert fresh.last_outcome == "running"
    assert stale.last_outcome == "failed" and (stale.last_error or "").startswith("run_interrupted")
    assert stale.skipped_postings == state.skipped_postings
