"""BoardService: cold load once, refresh from the change feed (one query per request), apply options."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.aws.posting_items import board_shard, content_hash
from chalicelib.clock import isoformat
from chalicelib.errors import InvalidRequestError, NotFoundError, UpstreamUnavailableError
from chalicelib.models.posting import Posting
from chalicelib.services.board.query import BoardQuery
from chalicelib.services.board.service import ApplyFlags, BoardService, ChangePage, PostingRecord
from tests.api.board_factories import BASE_TIME, make_posting

SHARDS = 4


class InMemoryBoardSource:
    """The table's live index and change feed, in memory, counting queries like DynamoDB requests."""

    shards = SHARDS

    def __init__(self) -> None:
        self.items: dict[str, Posting] = {}
        self.flags: dict[tuple[str, str], ApplyFlags] = {}
        self.requests = 0
        self.fail = False
        self.page_size = 100

    def put(self, posting: Posting) -> Posting:
        self.items[posting.job_id] = posting
        return posting

    @staticmethod
    def _record(posting: Posting) -> PostingRecord:
        assert posting.changed_at is not None
        return PostingRecord(
            job_id=posting.job_id,
            status=posting.status,
            changed_key=f"{isoformat(posting.changed_at)}#{posting.job_id}",
            content_hash=content_hash(posting),
            load=lambda: posting,
        )

    def load_live(self) -> list[PostingRecord]:
        self.requests += SHARDS
        return [self._record(p) for p in self.items.values() if p.status == "live"]

    def changes(self, shard: int, after: str, resume: Any | None) -> ChangePage:
        self.requests += 1
        if self.fail:
            raise UpstreamUnavailableError("down", code="board_unavailable")
        records = sorted(
            (self._record(p) for p in self.items.values() if board_shard(p.job_id) == shard),
            key=lambda r: r.changed_key,
        )
        records = [r for r in records if r.changed_key > after and (resume is None or r.changed_key > resume)]
        page = records[: self.page_size]
        more = len(records) > self.page_size
        return ChangePage(records=page, resume=page[-1].changed_key if more else None)

    def apply_flags(self, employer_id: str, account_id: str) -> ApplyFlags:
        self.requests += 1
        return self.flags.get((employer_id, account_id), ApplyFlags())


class FakeTime:
    def __init__(self) -> None:
        self.now = BASE_TIME
        self.mono = 1000.0

    def clock(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def source() -> InMemoryBoardSource:
    return InMemoryBoardSource()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_service(source: InMemoryBoardSource, fake_time: FakeTime, **kwargs: Any) -> BoardService:
    options: dict[str, Any] = {"refresh_seconds": 5.0, "overlap_seconds": 30.0, **kwargs}
    return BoardService(
        source,
        public_base_url="https://board.test/",
        board_name="Test Board",
        cursor_key=b"test",
        embloy_providers=["lever", "ashby"],
        clock=fake_time.clock,
        monotonic=fake_time.monotonic,
        **options,
    )


def job_ids(service: BoardService, **params: str) -> list[str]:
    body = service.list_jobs(BoardQuery.from_params({k: [v] for k, v in params.items()})).body
    return [item["job_id"] for item in body["data"]]


def test_cold_load_happens_once_and_fresh_requests_cost_no_query(
    source: InMemoryBoardSource, fake_time: FakeTime
) -> None:
    posting = source.put(make_posting())
    service = make_service(source, fake_time)
    assert job_ids(service) == [posting.job_id]
    assert source.requests == SHARDS
    for _ in range(5):
        job_ids(service)
        fake_time.advance(0.5)
    assert source.requests == SHARDS  # within the refresh interval: no DynamoDB request at all


def test_due_refresh_costs_at_most_one_query_per_request(
    source: InMemoryBoardSource, fake_time: FakeTime
) -> None:
    source.put(make_posting())
    service = make_service(source, fake_time)
    job_ids(service)
    fake_time.advance(6)
    counts = []
    for _ in range(SHARDS + 2):
        before = source.requests
        job_ids(service)
        counts.append(source.requests - before)
    assert counts == [1, 1, 1, 1, 0, 0]  # one stale shard per request, then fresh again


def test_closed_posting_disappears_within_the_refresh_interval(
    source: InMemoryBoardSource, fake_time: FakeTime
) -> None:
    posting = source.put(make_posting())
    other = source.put(make_posting("Other"))
    service = make_service(source, fake_time, queries_per_request=SHARDS)
    assert len(job_ids(service)) == 2
    fake_time.advance(1)
    source.put(posting.model_copy(update={"status": "closed", "changed_at": fake_time.now}))
    assert posting.job_id in job_ids(service)  # not yet due: the copy is still fresh enough
    fake_time.advance(5)
    assert job_ids(service) == [other.job_id]
    with pytest.raises(NotFoundError):
        service.get_job(posting.job_id)


def test_changes_from_a_lagging_writer_inside_the_overlap_are_applied(
    source: InMemoryBoardSource, fake_time: FakeTime
) -> None:
    service = make_service(source, fake_time, queries_per_request=SHARDS)
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
    source: InMemoryBoardSource, fake_time: FakeTime
) -> None:
    posting = source.put(make_posting("Original"))
    service = make_service(source, fake_time, queries_per_request=SHARDS)
    job_ids(service)
    fake_time.advance(6)
    source.put(posting.model_copy(update={"title": "Renamed", "changed_at": fake_time.now}))
    job_ids(service)
    assert service.get_job(posting.job_id).body["title"] == "Renamed"
    service._apply(InMemoryBoardSource._record(posting))  # a stale version arrives late
    assert service.get_job(posting.job_id).body["title"] == "Renamed"
    for _ in range(3):  # overlap re-reads of the same version are skipped without decoding
        fake_time.advance(6)
        job_ids(service)
    assert service.stats.applied_changes == 1


def test_long_change_feed_pages_continue_on_following_requests(
    source: InMemoryBoardSource, fake_time: FakeTime
) -> None:
    service = make_service(source, fake_time)
    job_ids(service)
    fake_time.advance(10)
    source.page_size = 2
    added = [source.put(make_posting(f"Job {n}", changed_at=fake_time.now)) for n in range(12)]
    for _ in range(30):
        job_ids(service)
    assert set(job_ids(service, limit="100")) == {p.job_id for p in added}


def test_a_failing_refresh_keeps_serving_the_board(source: InMemoryBoardSource, fake_time: FakeTime) -> None:
    posting = source.put(make_posting())
    service = make_service(source, fake_time)
    job_ids(service)
    source.fail = True
    fake_time.advance(10)
    assert job_ids(service) == [posting.job_id]
    assert service.stats.refresh_failures == 1


def test_a_cold_load_failure_is_a_503_and_is_retried(
    source: InMemoryBoardSource, fake_time: FakeTime
) -> None:
    service = make_service(source, fake_time)

    def broken() -> list[PostingRecord]:
        raise UpstreamUnavailableError("down", code="board_unavailable")

    source.load_live = broken  # type: ignore[method-assign]
    with pytest.raises(UpstreamUnavailableError):
        job_ids(service)
    del source.load_live
    assert job_ids(service) == []


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
    fake_time: FakeTime,
    provider: str,
    flags: ApplyFlags,
    embloy: bool,
    native: bool,
) -> None:
    posting = source.put(make_posting(provider=provider, external_apply_url=None))
    source.flags[(posting.employer_id, posting.account_id)] = flags
    service = make_service(source, fake_time)
    apply = service.get_job(posting.job_id).body["apply"]
    assert apply == {"embloy": embloy, "native": native, "external_url": posting.external_url}
    before = source.requests
    service.get_job(posting.job_id)
    assert source.requests == before  # flags cached for the refresh interval


def test_cursor_from_another_query_is_refused(source: InMemoryBoardSource, fake_time: FakeTime) -> None:
    for n in range(3):
        source.put(make_posting(f"Engineer {n}", posted_days_ago=n))
    service = make_service(source, fake_time)
    first = service.list_jobs(BoardQuery.from_params({"limit": ["1"]})).body
    other_query = BoardQuery.from_params(
        {"limit": ["1"], "q": ["engineer"], "cursor": [first["next_cursor"]]}
    )
    with pytest.raises(InvalidRequestError) as raised:
        service.list_jobs(other_query)
    assert raised.value.code == "invalid_cursor"


def test_a_writer_clock_far_ahead_does_not_hide_later_changes(
    source: InMemoryBoardSource, fake_time: FakeTime
) -> None:
    service = make_service(source, fake_time, queries_per_request=SHARDS)
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
