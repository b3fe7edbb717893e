"""SnapshotBuilder: a full build first, then incremental builds from the previous snapshot and the change
feed, sharing files between versions; the result always answers as a full rebuild of the same board."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from chalicelib.services.board import bitmaps
from chalicelib.services.board.bitmaps import BitmapState, merge_plan
from chalicelib.services.board.engine import BoardEngine, Plan
from chalicelib.services.board.snapshot import STORED_REFRESH, SnapshotBuilder, SnapshotManifest, materialize
from tests.api.board_factories import make_posting
from tests.services.board_fakes import DirectorySnapshotStore, FakeTime, InMemoryBoardSource


@pytest.fixture
def source() -> InMemoryBoardSource:
    return InMemoryBoardSource()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def store(tmp_path: Path) -> DirectorySnapshotStore:
    return DirectorySnapshotStore(tmp_path / "s3")


def make_builder(
    source: InMemoryBoardSource,
    store: DirectorySnapshotStore,
    tmp_path: Path,
    fake_time: FakeTime,
    name: str = "build",
) -> SnapshotBuilder:
    return SnapshotBuilder(source, store, work_directory=tmp_path / name, clock=fake_time.clock)


def open_board(store: DirectorySnapshotStore, manifest: SnapshotManifest, directory: Path) -> BoardEngine:
    directory.mkdir(parents=True)
    materialize(manifest, directory, store)
    return BoardEngine(directory, fingerprint=manifest.fingerprint)


def answers(engine: BoardEngine) -> dict[str, Any]:
    """What the board answers to a few queries: ids in order, totals, facets."""
    found: dict[str, Any] = {}
    for name, plan in {
        "all": Plan(),
        "word": Plan(terms=("engineer",), relevance=True, prefix_last=False),
        "filter": Plan(filters=(("location", ("munich",)),)),
        "pay": Plan(filters=(("pay_min", ("EUR:70000",)),)),
        "posted": Plan(filters=(("posted_within", ("7d",)),)),
    }.items():
        page = engine.search(plan, after=None, limit=100)
        found[name] = ([hit.job_id for hit in page.hits], page.total, page.facets)
    found["fingerprint"] = engine.fingerprint
    return found


def change_the_board(source: InMemoryBoardSource, fake_time: FakeTime, round_number: int) -> None:
    """Close a few postings, retitle a few, add a few (each change stamped now)."""
    fake_time.advance(120)
    items = sorted(source.items.values(), key=lambda posting: posting.job_id)
    for posting in items[round_number::7][:3]:
        source.put(posting.model_copy(update={"status": "closed", "changed_at": fake_time.now}))
    for posting in items[round_number + 1 :: 5][:3]:
        if posting.status == "live":
            source.put(
                posting.model_copy(
                    update={"title": f"Staff Engineer {round_number}", "changed_at": fake_time.now}
                )
            )
    for n in range(4):
        source.put(
            make_posting(
                f"Engineer {round_number}.{n}",
                posting_id=f"added-{round_number}-{n}",  # ids fixed: the same postings change in any run
                locations=("Munich, Germany",) if n % 2 else ("Berlin, Germany",),
                posted_days_ago=n * 3,
                changed_at=fake_time.now,
            )
        )
    fake_time.advance(60)  # past the overlap: the next build's feed starts after these


def test_later_builds_apply_only_the_changes_and_answer_as_a_full_rebuild(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, fake_time: FakeTime, tmp_path: Path
) -> None:
    for n in range(30):
        source.put(make_posting(f"Engineer {n}", posted_days_ago=n % 10, changed_at=fake_time.now))
    fake_time.advance(60)
    builder = make_builder(source, store, tmp_path, fake_time)
    first = builder.build()
    assert first.published and first.stats["full"] == 1.0
    for round_number in range(4):
        change_the_board(source, fake_time, round_number)
        report = builder.build()
        assert report.published and "full" not in report.stats
        # The feed since the previous snapshot, not the board: 3 closed, at most 3 retitled, 4 new.
        assert report.stats["feed_records"] <= 10
        # Only the files that changed were uploaded.
        assert report.manifest is not None and report.stats["uploaded_bytes"] < report.manifest.size
    incremental = report.manifest
    full = make_builder(source, store, tmp_path, fake_time, "rebuild").build(full=True).manifest
    assert incremental is not None and full is not None
    assert incremental.postings == full.postings == sum(p.status == "live" for p in source.items.values())
    assert incremental.fingerprint == full.fingerprint
    ours = open_board(store, incremental, tmp_path / "ours")
    theirs = open_board(store, full, tmp_path / "theirs")
    assert answers(ours) == answers(theirs)
    assert answers(ours)["filter"][1] > 0 and answers(ours)["pay"][1] > 0


def test_freed_slots_are_given_again_so_slots_stay_about_the_live_postings(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, fake_time: FakeTime, tmp_path: Path
) -> None:
    for n in range(20):
        source.put(make_posting(f"Engineer {n}", posting_id=f"initial-{n}", changed_at=fake_time.now))
    builder = make_builder(source, store, tmp_path, fake_time)
    written = len(source.items)
    builder.build()
    for round_number in range(5):
        change_the_board(source, fake_time, round_number)
        report = builder.build()
        written += int(report.stats["added"])
    report = builder.build()  # nothing changed: the same board
    assert report.manifest is not None
    directory = tmp_path / "copy"
    directory.mkdir()
    materialize(report.manifest, directory, store)
    state = BitmapState.read(directory)
    live = sum(posting.status == "live" for posting in source.items.values())
    # Every changed posting took a new slot, but freed ones were given again: what stays free is about
    # what the last build freed itself (3 closures and 3 retitles a round), not every slot ever written.
    assert state.slots <= live + 6
    assert state.slots < written - 15


def test_a_build_on_demand_or_after_a_format_change_starts_from_every_live_posting(
    source: InMemoryBoardSource,
    store: DirectorySnapshotStore,
    fake_time: FakeTime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source.put(make_posting("Engineer", changed_at=fake_time.now))
    builder = make_builder(source, store, tmp_path, fake_time)
    builder.build()
    assert "full" in builder.build(full=True).stats
    assert "full" not in builder.build().stats
    current = store.pointer
    assert current is not None
    store.pointer = dataclasses.replace(current, format=current.format - 1)
    assert "full" in builder.build().stats


def test_a_new_builder_starts_from_the_stored_snapshot(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, fake_time: FakeTime, tmp_path: Path
) -> None:
    for n in range(10):
        source.put(make_posting(f"Engineer {n}", changed_at=fake_time.now))
    make_builder(source, store, tmp_path, fake_time, "first").build()
    change_the_board(source, fake_time, 0)
    # Another invocation (a cold builder): it downloads the current snapshot and applies the changes.
    report = make_builder(source, store, tmp_path, fake_time, "second").build()
    assert "full" not in report.stats and report.stats["downloaded_bytes"] > 0
    assert report.manifest is not None
    assert report.manifest.postings == sum(p.status == "live" for p in source.items.values())


def test_small_segments_merge_into_their_older_neighbours() -> None:
    size = bitmaps.SEGMENT_SLOTS
    # A full build's big segments stay; a small one is too small to join one.
    assert merge_plan([size, size, 1000]) == []
    # Similar small segments merge, and an empty one is dropped.
    assert merge_plan([size, 1000, 900]) == [(1, 3)]
    assert merge_plan([size, 1000, 0]) == [(1, 3)]
    assert merge_plan([0]) == [(0, 1)]
    # A run of equal small segments collapses into one.
    assert merge_plan([size, 100, 100, 100, 100]) == [(1, 5)]
    # Never into a segment larger than SEGMENT_SLOTS.
    assert merge_plan([size - 10, size - 10]) == []


def test_segments_stay_few_over_many_incremental_builds(
    source: InMemoryBoardSource,
    store: DirectorySnapshotStore,
    fake_time: FakeTime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(40):
        source.put(make_posting(f"Engineer {n}", changed_at=fake_time.now))
    builder = make_builder(source, store, tmp_path, fake_time)
    builder.build()
    for round_number in range(12):
        change_the_board(source, fake_time, round_number % 5)
        report = builder.build()
        assert report.stats["segments"] <= 4
    assert report.manifest is not None
    engine = open_board(store, report.manifest, tmp_path / "final")
    assert len(engine) == report.manifest.postings


def test_files_still_in_use_are_uploaded_again_before_the_bucket_would_expire_them(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, fake_time: FakeTime, tmp_path: Path
) -> None:
    for n in range(10):
        source.put(make_posting(f"Engineer {n}", changed_at=fake_time.now))
    builder = make_builder(source, store, tmp_path, fake_time)
    first = builder.build().manifest
    fake_time.advance(3600)
    soon = builder.build()
    assert soon.manifest is not None and first is not None
    # An hour later nothing changed: no file is uploaded again.
    assert soon.stats["uploaded_bytes"] < soon.manifest.size / 10
    fake_time.advance(STORED_REFRESH.total_seconds())
    later = builder.build()
    assert later.manifest is not None
    assert later.stats["uploaded_bytes"] == later.manifest.size
    assert {file.stored_at for file in later.manifest.files} == {later.manifest.built_at}


def test_a_process_moving_to_a_newer_snapshot_downloads_only_the_files_that_changed(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, fake_time: FakeTime, tmp_path: Path
) -> None:
    from chalicelib.services.board.query import BoardQuery
    from chalicelib.services.board.service import BoardService

    for n in range(30):
        source.put(make_posting(f"Engineer {n}", changed_at=fake_time.now))
    fake_time.advance(60)
    builder = make_builder(source, store, tmp_path, fake_time)
    first = builder.build().manifest
    service = BoardService(
        source,
        store,
        local_directory=tmp_path / "process",
        public_base_url="https://board.test/",
        board_name="Test Board",
        cursor_key=b"test",
        embloy_providers=[],
        snapshot_switch_changes=0,
        snapshot_check_seconds=30,
        clock=fake_time.clock,
        monotonic=fake_time.monotonic,
    )
    query = BoardQuery.from_params({"limit": ["100"]})
    service.list_jobs(query)
    assert first is not None and service.stats.extra["downloaded_bytes"] == first.size
    change_the_board(source, fake_time, 0)
    second = builder.build().manifest
    assert second is not None
    fake_time.advance(31)
    service.list_jobs(query)
    assert service.settle(10)
    service.list_jobs(query)
    assert service.snapshot == second
    had = {file.sha256 for file in first.files}
    new_files = sum(file.stored for file in second.files if file.sha256 not in had)
    # meta.json is rewritten by the process's own commits: it is checked, and linked only when unchanged.
    assert service.stats.extra["downloaded_bytes"] <= new_files + max(
        f.stored for f in second.files if f.name == "meta.json"
    )
    assert service.stats.extra["downloaded_bytes"] < second.size
    body = service.list_jobs(query).body
    assert body is not None and body["total"] == second.postings


def test_builders_sharing_a_work_directory_take_turns(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, fake_time: FakeTime, tmp_path: Path
) -> None:
    import threading

    # GIVEN two builders on one work directory (the scheduled and the requested builder of one machine),
    # the second asked to build while the first is uploading
    source.put(make_posting("Engineer", posting_id="shared-0", changed_at=fake_time.now))
    scheduled = make_builder(source, store, tmp_path, fake_time, name="work")
    requested = make_builder(source, store, tmp_path, fake_time, name="work")
    scheduled.build()
    fake_time.advance(60)
    source.put(make_posting("Nurse", posting_id="shared-1", changed_at=fake_time.now))
    fake_time.advance(60)
    reports: list[Any] = []
    upload = store.upload
    other = threading.Thread(target=lambda: reports.append(requested.build()))

    def upload_while_the_other_builds(manifest: SnapshotManifest, packed: Path) -> None:
        store.upload = upload  # type: ignore[method-assign]
        other.start()
        other.join(timeout=1)  # it builds now if nothing makes it wait
        upload(manifest, packed)

    store.upload = upload_while_the_other_builds  # type: ignore[method-assign]
    # WHEN the first builds (and the second with it)
    reports.append(scheduled.build())
    other.join(timeout=30)
    # THEN neither lost its files to the other's clean-up: both finished, and the board holds both postings
    assert len(reports) == 2
    assert all(report.manifest is not None for report in reports)
    assert store.pointer is not None and store.pointer.postings == 2
    # AND each one builds again from what the other left
    fake_time.advance(60)
    assert scheduled.build().manifest is not None
    assert requested.build().manifest is not None
