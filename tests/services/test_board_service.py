"""BoardService: opens the newest snapshot, stays fresh from the change feed, never rebuilds from items."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.aws.posting_items import board_shard
from chalicelib.errors import InvalidRequestError, NotFoundError, UpstreamUnavailableError
from chalicelib.services.board.query import BoardQuery
from chalicelib.services.board.records import ApplyFlags
from chalicelib.services.board.service import BoardService
from chalicelib.services.board.snapshot import SnapshotBuilder
from tests.api.board_factories import make_posting
from tests.services.board_fakes import SHARDS, DirectorySnapshotStore, FakeTime, InMemoryBoardSource


@pytest.fixture
def source() -> InMemoryBoardSource:
    return InMemoryBoardSource()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def store(tmp_path: Path) -> DirectorySnapshotStore:
    return DirectorySnapshotStore(tmp_path / "s3")


@pytest.fixture
def builder(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, tmp_path: Path, fake_time: FakeTime
) -> Any:
    return SnapshotBuilder(source, store, work_directory=tmp_path / "build", clock=fake_time.clock)


@pytest.fixture
def make_service(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, fake_time: FakeTime, tmp_path: Path
) -> Any:
    def make(**kwargs: Any) -> BoardService:
        options: dict[str, Any] = {"refresh_seconds": 5.0, "overlap_seconds": 30.0, **kwargs}
        return BoardService(
            source,
            store,
            local_directory=tmp_path / "process",
            public_base_url="https://board.test/",
            board_name="Test Board",
            cursor_key=b"test",
            embloy_providers=["lever", "ashby"],
            clock=fake_time.clock,
            monotonic=fake_time.monotonic,
            **options,
        )

    return make


def job_ids(service: BoardService, **params: str) -> list[str]:
    body = service.list_jobs(BoardQuery.from_params({k: [v] for k, v in params.items()})).body
    assert body is not None
    return [item["job_id"] for item in body["data"]]


def test_a_cold_process_opens_the_snapshot_and_reads_only_the_feed_after_it(
    source: InMemoryBoardSource,
    store: DirectorySnapshotStore,
    builder: Any,
    fake_time: FakeTime,
    make_service: Any,
) -> None:
    old = [source.put(make_posting(f"Engineer {n}", posted_days_ago=n + 1)) for n in range(3)]
    builder.build()
    assert source.live_loads == 1
    fake_time.advance(120)
    new = source.put(make_posting("Fresh Engineer", posted_days_ago=0, changed_at=fake_time.now))
    service = make_service()
    before = source.requests
    assert job_ids(service) == [new.job_id] + [p.job_id for p in old]
    assert source.requests - before == SHARDS  # one change-feed page per shard, nothing else
    assert source.live_loads == 1  # the request path never reads the whole live index
    assert store.downloads == 1
    assert service.stats.applied_changes == 1  # the snapshot's own postings were skipped by version
    for _ in range(5):
        fake_time.advance(0.5)
        job_ids(service)
    assert source.requests - before == SHARDS  # fresh enough: no request at all


def test_without_any_snapshot_the_board_fills_from_the_change_feed(
    source: InMemoryBoardSource, make_service: Any
) -> None:
    posting = source.put(make_posting())
    service = make_service()
    assert job_ids(service) == [posting.job_id]
    assert service.snapshot is None and source.live_loads == 0


def test_a_change_is_visible_on_the_next_request_however_quiet_the_board(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    source.put(make_posting())
    builder.build()
    service = make_service()
    job_ids(service)
    added = []
    for minute in range(3):  # one request a minute; each finds every shard's new changes
        fake_time.advance(60)
        added.append(source.put(make_posting(f"Job {minute}", changed_at=fake_time.now)))
        before = source.requests
        assert added[-1].job_id in job_ids(service)
        assert source.requests - before == SHARDS


def test_closed_posting_disappears_within_the_refresh_interval(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    posting = source.put(make_posting())
    other = source.put(make_posting("Other"))
    builder.build()
    service = make_service()
    assert len(job_ids(service)) == 2
    fake_time.advance(1)
    source.put(posting.model_copy(update={"status": "closed", "changed_at": fake_time.now}))
    assert posting.job_id in job_ids(service)  # not yet due: the copy is still fresh enough
    fake_time.advance(5)
    assert job_ids(service) == [other.job_id]
    with pytest.raises(NotFoundError):
        service.get_job(posting.job_id)


def test_changes_from_a_lagging_writer_inside_the_overlap_are_applied(
    source: InMemoryBoardSource, fake_time: FakeTime, make_service: Any
) -> None:
    service = make_service()
    job_ids(service)
    fake_time.advance(60)
    first = source.put(make_posting("First", changed_at=fake_time.now))
    job_ids(service)
    fake_time.advance(6)
    # A writer whose clock is 20 s behind commits after we have read past its timestamp.
    late = source.put(make_posting("Late", changed_at=fake_time.now - timedelta(seconds=20)))
    fake_time.advance(6)
    assert set(job_ids(service)) == {first.job_id, late.job_id}


def test_older_versions_and_rereads_do_not_undo_newer_changes(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    posting = source.put(make_posting("Original"))
    builder.build()
    service = make_service()
    job_ids(service)
    fake_time.advance(6)
    source.put(posting.model_copy(update={"title": "Renamed", "changed_at": fake_time.now}))
    assert [hit["title"] for hit in service.list_jobs(BoardQuery()).body["data"]] == ["Renamed"]
    from tests.services.board_fakes import record_of

    service._apply(record_of(posting))  # a stale version arrives late
    service.board().commit()
    for _ in range(3):  # overlap re-reads of the same version are skipped without decoding
        fake_time.advance(6)
        job_ids(service)
    assert [hit["title"] for hit in service.list_jobs(BoardQuery()).body["data"]] == ["Renamed"]
    assert service.stats.applied_changes == 1


def test_a_long_change_feed_continues_on_the_following_requests(
    source: InMemoryBoardSource, fake_time: FakeTime, make_service: Any
) -> None:
    service = make_service(pages_per_refresh=1)
    job_ids(service)
    fake_time.advance(10)
    source.page_size = 2
    added = [source.put(make_posting(f"Job {n}", changed_at=fake_time.now)) for n in range(24)]
    for _ in range(12):
        job_ids(service)
    assert set(job_ids(service, limit="100")) == {p.job_id for p in added}


def test_a_failing_refresh_keeps_serving_the_board(
    source: InMemoryBoardSource, fake_time: FakeTime, make_service: Any
) -> None:
    posting = source.put(make_posting())
    service = make_service()
    job_ids(service)
    source.fail = True
    fake_time.advance(10)
    assert job_ids(service) == [posting.job_id]
    assert service.stats.refresh_failures == 1


def test_a_cold_open_failure_is_a_503_and_is_retried(
    source: InMemoryBoardSource,
    store: DirectorySnapshotStore,
    builder: Any,
    make_service: Any,
    tmp_path: Path,
) -> None:
    posting = source.put(make_posting())
    builder.build()
    service = make_service()
    store.fail = True
    with pytest.raises(UpstreamUnavailableError):
        job_ids(service)
    store.fail = False
    source.fail = True
    with pytest.raises(UpstreamUnavailableError):  # the feed after the snapshot is part of the cold open
        job_ids(service)
    source.fail = False
    assert job_ids(service) == [posting.job_id]
    copies = [path.name for path in (tmp_path / "process").iterdir()]
    assert len(copies) == 1  # the copy of the failed open was removed


def test_an_undecodable_stored_posting_is_skipped_and_counted(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    good = source.put(make_posting("Good"))
    source.put_broken("YnJva2VuCmpvYg", fake_time.now)
    report = builder.build()
    assert report.manifest.postings == 1 and report.manifest.skipped == 1
    fake_time.advance(60)
    source.put_broken("YnJva2VuCmpvYjI", fake_time.now)
    service = make_service()
    assert job_ids(service) == [good.job_id]
    assert job_ids(service, q="good") == [good.job_id]
    assert service.stats.bad_records == 2  # both are in the feed after the snapshot's horizon
    fake_time.advance(10)
    job_ids(service)
    assert service.stats.bad_records == 2  # re-reads of the same versions are not decoded again
    with pytest.raises(NotFoundError):
        service.get_job("YnJva2VuCmpvYg")
    assert service.get_job(good.job_id).body["title"] == "Good"


def test_a_process_moves_to_a_newer_snapshot_once_enough_changed(
    source: InMemoryBoardSource,
    store: DirectorySnapshotStore,
    builder: Any,
    fake_time: FakeTime,
    make_service: Any,
) -> None:
    source.put(make_posting("First"))
    builder.build()
    service = make_service(snapshot_switch_changes=3, snapshot_check_seconds=30)
    job_ids(service)
    first_version = service.snapshot.version
    for n in range(4):
        fake_time.advance(10)
        source.put(make_posting(f"Later {n}", changed_at=fake_time.now))
        job_ids(service)
    fake_time.advance(10)
    builder.build()
    before = job_ids(service, limit="100")
    fake_time.advance(31)
    assert job_ids(service, limit="100") == before
    assert service.snapshot.version != first_version
    assert service.stats.snapshot_switches == 1 and store.downloads == 2


def test_the_builder_skips_requests_the_current_snapshot_covers_and_never_goes_back(
    source: InMemoryBoardSource, store: DirectorySnapshotStore, builder: Any, fake_time: FakeTime
) -> None:
    source.put(make_posting())
    first = builder.build()
    assert first.published and store.pointer == first.manifest
    skipped = builder.build(requested_at=first.manifest.changes_after)
    assert not skipped.published and skipped.skipped_reason
    fake_time.advance(120)
    later = builder.build(requested_at=first.manifest.built_at)
    assert later.published and store.pointer == later.manifest
    fake_time.advance(-60)  # a slower build that started earlier finishes last
    assert not builder.build().published
    assert store.pointer == later.manifest


@pytest.mark.parametrize(
    ("provider", "flags", "embloy", "native"),
    [
        ("lever", ApplyFlags(embloy_configured=True), True, True),
        ("ashby", ApplyFlags(embloy_configured=True, native_apply_unsupported=True), True, False),
        ("lever", ApplyFlags(embloy_configured=True, embloy_needs_renewal=True), False, True),
        ("lever", ApplyFlags(), False, True),
        ("greenhouse", ApplyFlags(embloy_configured=True), False, True),
    ],
)
def test_apply_options_follow_provider_token_and_account_flags(
    source: InMemoryBoardSource,
    make_service: Any,
    provider: str,
    flags: ApplyFlags,
    embloy: bool,
    native: bool,
) -> None:
    posting = source.put(make_posting(provider=provider, external_apply_url=None))
    source.flags[(posting.employer_id, posting.account_id)] = flags
    service = make_service()
    apply = service.get_job(posting.job_id).body["apply"]
    assert apply == {"embloy": embloy, "native": native, "external_url": posting.external_url}
    before = source.requests
    service.get_job(posting.job_id)
    assert source.requests == before + 1  # the posting item again; the flags are cached


def test_apply_options_are_read_again_once_their_cache_expires(
    source: InMemoryBoardSource, make_service: Any, fake_time: FakeTime
) -> None:
    posting = source.put(make_posting(provider="lever", external_apply_url=None))
    service = make_service(apply_flags_max_age_seconds=60.0)
    assert service.get_job(posting.job_id).body["apply"]["native"] is True
    source.flags[(posting.employer_id, posting.account_id)] = ApplyFlags(native_apply_unsupported=True)
    fake_time.advance(59)
    assert service.get_job(posting.job_id).body["apply"]["native"] is True  # still the cached flags
    fake_time.advance(2)
    assert service.get_job(posting.job_id).body["apply"]["native"] is False


def test_cursor_from_another_query_is_refused(source: InMemoryBoardSource, make_service: Any) -> None:
    for n in range(3):
        source.put(make_posting(f"Engineer {n}", posted_days_ago=n))
    service = make_service()
    first = service.list_jobs(BoardQuery.from_params({"limit": ["1"]})).body
    other_query = BoardQuery.from_params(
        {"limit": ["1"], "q": ["engineer"], "cursor": [first["next_cursor"]]}
    )
    with pytest.raises(InvalidRequestError) as raised:
        service.list_jobs(other_query)
    assert raised.value.code == "invalid_cursor"


def test_relevance_pages_neither_repeat_nor_skip(source: InMemoryBoardSource, make_service: Any) -> None:
    for n in range(45):
        source.put(make_posting(f"Engineer {n}" if n % 3 else "Python Engineer", posted_days_ago=n % 9))
    service = make_service()
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": ["engineer"], "limit": ["7"], **({"cursor": [cursor]} if cursor else {})}
        body = service.list_jobs(BoardQuery.from_params(params)).body
        seen += [item["job_id"] for item in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    everything = service.list_jobs(BoardQuery.from_params({"q": ["engineer"], "limit": ["100"]})).body
    assert seen == [item["job_id"] for item in everything["data"]] and len(seen) == 45


def test_a_writer_clock_far_ahead_does_not_hide_later_changes(
    source: InMemoryBoardSource, fake_time: FakeTime, make_service: Any
) -> None:
    service = make_service()
    job_ids(service)
    fake_time.advance(6)
    ahead = source.put(make_posting("Ahead", changed_at=fake_time.now + timedelta(hours=1)))
    job_ids(service)
    fake_time.advance(6)
    normal = make_posting("Normal", changed_at=fake_time.now)
    while board_shard(normal.job_id) != board_shard(ahead.job_id):  # same shard, same read point
        normal = make_posting("Normal", changed_at=fake_time.now)
    source.put(normal)
    fake_time.advance(6)
    assert set(job_ids(service)) == {ahead.job_id, normal.job_id}


def test_copies_left_by_processes_that_are_gone_are_removed(
    source: InMemoryBoardSource, builder: Any, make_service: Any, tmp_path: Path
) -> None:
    import os

    source.put(make_posting())
    builder.build()
    leftover = tmp_path / "process" / "board-999999999-ab12cd34-1"  # no such process
    ours_before = tmp_path / "process" / f"board-{os.getpid()}-ab12cd34-1"
    leftover.mkdir(parents=True)
    ours_before.mkdir()
    service = make_service()
    job_ids(service)
    assert not leftover.exists() and ours_before.exists()
    assert len(list((tmp_path / "process").glob(f"board-{os.getpid()}-*-1"))) == 2


def test_fresh_board_applies_the_whole_feed_however_long(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    # GIVEN a warm process, then more changes than one catch-up reads (2 pages of 2 per shard)
    source.put(make_posting("Engineer 0"))
    builder.build()
    service = make_service(pages_per_refresh=1)
    service.board()
    source.page_size = 2
    fake_time.advance(60)
    added = [source.put(make_posting(f"Nurse {n}", changed_at=fake_time.now)) for n in range(40)]
    # WHEN job alerts ask for the board
    engine = service.fresh_board()
    # THEN every change is on it, although a request's catch-up stops after one page per shard
    assert all(engine.version(posting.job_id) is not None for posting in added)


def test_fresh_board_fails_instead_of_serving_a_stale_board(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    # GIVEN a warm process whose change feed stops answering
    source.put(make_posting("Engineer 0"))
    builder.build()
    service = make_service()
    service.board()
    source.fail = True
    fake_time.advance(60)
    # WHEN job alerts ask for the board, THEN it raises (a request would be served the old board)
    with pytest.raises(UpstreamUnavailableError):
        service.fresh_board()


def test_a_warm_board_answers_from_what_is_loaded_while_its_table_stalls(
    source: InMemoryBoardSource, fake_time: FakeTime, make_service: Any
) -> None:
    # GIVEN a warm board whose catch-up is due, and a table that stops answering
    posting = source.put(make_posting())
    service = make_service()
    assert job_ids(service) == [posting.job_id]
    source.stall_limit = 5.0  # bounds the run where requests would wait out the stall
    source.release = threading.Event()
    fake_time.advance(10)
    added = source.put(make_posting("Added during the stall", changed_at=fake_time.now))

    # WHEN board reads arrive during the stall
    answers = [job_ids(service) for _ in range(3)]

    # THEN each was answered from what is loaded while the table's reads were still stalled, and only
    # one catch-up (one read per shard) was started for all of them
    assert answers == [[posting.job_id]] * 3
    assert source.finished_stalled_reads == 0
    assert source.stalled_reads <= SHARDS
    # AND once the table answers again, the catch-up lands and the next read has the change
    source.release.set()
    assert service.settle(timeout=30)
    assert added.job_id in job_ids(service)
    assert service.stats.refresh_failures == 0


def test_a_job_this_process_served_is_served_from_its_loaded_copy_while_the_table_fails(
    source: InMemoryBoardSource, make_service: Any
) -> None:
    # GIVEN a job whose detail this process served, and one it never served
    served = source.put(make_posting("Served Engineer"))
    never = source.put(make_posting("Never Served"))
    service = make_service()
    first = service.get_job(served.job_id)
    # WHEN the table fails
    source.fail = True
    # THEN the served job answers from what was loaded, and the other one is a 503
    again = service.get_job(served.job_id)
    assert again.body == first.body and again.etag == first.etag
    assert service.stats.stale_reads == 1
    with pytest.raises(UpstreamUnavailableError):
        service.get_job(never.job_id)
    # AND once the table answers again, the detail is read fresh
    source.fail = False
    source.put(served.model_copy(update={"title": "Renamed Engineer"}))
    assert service.get_job(served.job_id).body["title"] == "Renamed Engineer"


def test_a_burst_is_applied_in_batches_beside_the_requests_that_follow(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    # GIVEN a warm process applying 3 changes per batch, and a burst of 10 new postings
    first = source.put(make_posting("Engineer 0"))
    builder.build()
    service = make_service(apply_batch=3, read_wait_seconds=0)
    assert job_ids(service) == [first.job_id]
    fake_time.advance(60)
    burst = [source.put(make_posting(f"Nurse {n}", changed_at=fake_time.now)) for n in range(10)]
    source.hold_load = source.loads + 4  # the first decode of the second batch waits
    source.stall_limit = 30.0

    # WHEN a request starts the catch-up, and another arrives while the second batch is being built
    job_ids(service)
    assert source.load_held.wait(30)
    during = set(job_ids(service, limit="100"))

    # THEN that request was served meanwhile, with exactly the first batch on the board
    assert service.stats.apply_batches == 1
    assert len(during - {first.job_id}) == 3 and during <= {first.job_id} | {p.job_id for p in burst}
    # AND once the catch-up goes on, every change of the burst ends up on the board
    source.release_load.set()
    assert service.settle(timeout=30)
    assert set(job_ids(service, limit="100")) == {first.job_id} | {p.job_id for p in burst}
    assert service.stats.apply_batches == 4 and service.stats.applied_changes == 10


def test_a_cold_open_applies_one_batch_at_most_in_the_request(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    # GIVEN a snapshot with 8 changes after it, and a process applying 3 changes per batch
    source.put(make_posting("Engineer 0"))
    builder.build()
    fake_time.advance(60)
    later = [source.put(make_posting(f"Nurse {n}", changed_at=fake_time.now)) for n in range(8)]
    source.hold_load = source.loads + 1  # the first decode after the snapshot waits
    service = make_service(apply_batch=3, read_wait_seconds=0)

    # WHEN the first request opens the board
    job_ids(service)

    # THEN it answered without decoding a single change: they are applied beside it
    assert source.load_held.wait(30)
    assert service.stats.applied_changes == 0
    source.release_load.set()
    assert service.settle(timeout=30)
    assert {p.job_id for p in later} <= set(job_ids(service, limit="100"))
    assert service.stats.applied_changes == 8


def test_fresh_board_applies_a_burst_larger_than_a_batch_before_returning(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    # GIVEN a warm process applying 2 changes per batch, then a burst of 9 changes
    source.put(make_posting("Engineer 0"))
    builder.build()
    service = make_service(apply_batch=2)
    service.board()
    fake_time.advance(60)
    burst = [source.put(make_posting(f"Nurse {n}", changed_at=fake_time.now)) for n in range(9)]
    # WHEN job alerts ask for the board
    engine = service.fresh_board()
    # THEN every change is on it when it returns
    assert all(engine.version(posting.job_id) is not None for posting in burst)
    assert len(engine) == 10


def test_a_burst_past_the_switch_threshold_moves_to_the_newer_snapshot_instead_of_applying_it(
    source: InMemoryBoardSource,
    store: DirectorySnapshotStore,
    builder: Any,
    fake_time: FakeTime,
    make_service: Any,
) -> None:
    # GIVEN a warm process, then a burst of 6 changes that a newer snapshot already holds
    source.put(make_posting("Engineer 0"))
    builder.build()
    service = make_service(snapshot_switch_changes=5, snapshot_check_seconds=3600)
    job_ids(service)
    fake_time.advance(60)
    burst = [source.put(make_posting(f"Nurse {n}", changed_at=fake_time.now)) for n in range(6)]
    fake_time.advance(60)
    builder.build()
    loads = source.loads
    # WHEN the next catch-up reads the burst (its snapshot check is not due for an hour)
    fake_time.advance(10)
    job_ids(service)
    assert service.settle(timeout=30)
    # THEN the process moved to the newer snapshot, and decoded none of the burst
    assert service.stats.snapshot_switches == 1
    assert source.loads == loads and service.stats.applied_changes == 0
    assert {p.job_id for p in burst} <= set(job_ids(service, limit="100"))


def test_a_burst_below_the_switch_threshold_is_applied_without_reading_the_pointer(
    source: InMemoryBoardSource,
    store: DirectorySnapshotStore,
    builder: Any,
    fake_time: FakeTime,
    make_service: Any,
) -> None:
    # GIVEN a warm process and a newer snapshot, then fewer changes than the switch threshold
    source.put(make_posting("Engineer 0"))
    builder.build()
    service = make_service(snapshot_switch_changes=5, snapshot_check_seconds=3600)
    job_ids(service)
    fake_time.advance(60)
    builder.build()
    fake_time.advance(60)
    added = [source.put(make_posting(f"Nurse {n}", changed_at=fake_time.now)) for n in range(4)]
    store.fail = True  # the pointer is not read: this would fail the catch-up
    # WHEN the next catch-up reads them
    fake_time.advance(10)
    job_ids(service)
    assert service.settle(timeout=30)
    # THEN they are applied on the board the process has
    assert service.stats.snapshot_switches == 0 and service.stats.refresh_failures == 0
    assert {p.job_id for p in added} <= set(job_ids(service, limit="100"))


def test_a_switch_lets_go_of_the_previous_engine(
    source: InMemoryBoardSource, builder: Any, fake_time: FakeTime, make_service: Any
) -> None:
    import gc
    import weakref

    # GIVEN a warm process that served searches and applied changes on its first snapshot
    source.put(make_posting("Engineer 0"))
    builder.build()
    service = make_service(snapshot_switch_changes=2, snapshot_check_seconds=30, apply_batch=1)
    job_ids(service, q="engineer")
    previous = weakref.ref(service.board())
    for n in range(3):
        fake_time.advance(10)
        source.put(make_posting(f"Nurse {n}", changed_at=fake_time.now))
        job_ids(service, q="nurse")
        assert service.settle(timeout=30)
    directory = service.board().directory
    # WHEN it moves to a newer snapshot
    fake_time.advance(10)
    builder.build()
    fake_time.advance(31)
    job_ids(service)
    assert service.settle(timeout=30)
    assert service.stats.snapshot_switches == 1
    # THEN nothing holds the previous engine any more, and its copy is gone
    gc.collect()
    assert previous() is None
    assert not directory.exists()
