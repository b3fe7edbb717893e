"""Per-job numbers without AWS: which requests count, recording, batch aggregation, the report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.errors import NotFoundError, UpstreamUnavailableError
from chalicelib.models.numbers import CountedEvent, NumbersQuery
from chalicelib.models.posting import Posting, make_job_id
from chalicelib.services.numbers import (
    CrawlerDetectClassifier,
    EventRecorder,
    JobOwner,
    NumbersAggregator,
    NumbersRow,
    NumbersService,
    OwnerCache,
    is_countable,
)
from tests.api.board_factories import make_posting

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
TODAY = date(2026, 12, 7)
JOB_A = make_job_id("acc_gh", "post_a")
JOB_B = make_job_id("acc_gh", "post_b")
JOB_OTHER = make_job_id("acc_lever", "post_x")


class InMemoryNumbers:
    """NumbersStore in memory: one dict entry per stored item, every `add` counted as one write."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str | None, date], dict[str, int]] = {}
        self.titles: dict[tuple[str, str | None, date], str] = {}
        self.writes = 0

    def add(
        self, employer_id: str, job_id: str | None, day: date, counts: Mapping[str, int], title: str | None
    ) -> None:
        self.writes += 1
        item = self.items.setdefault((employer_id, job_id, day), {})
        for name, value in counts.items():
            item[name] = item.get(name, 0) + value
        if title:
            self.titles[(employer_id, job_id, day)] = title

    def totals(self, employer_id: str, start: date, end: date) -> list[NumbersRow]:
        return [
            NumbersRow(day, None, dict(counts))
            for (employer, job, day), counts in self.items.items()
            if employer == employer_id and job is None and start <= day <= end
        ]

    def jobs(self, employer_id: str, start: date, end: date, job_id: str | None = None) -> list[NumbersRow]:
        return [
            NumbersRow(day, job, dict(counts), self.titles.get((employer, job, day)))
            for (employer, job, day), counts in self.items.items()
            if employer == employer_id
            and job is not None
            and (job_id is None or job == job_id)
            and start <= day <= end
        ]


class InMemoryPostings:
    def __init__(self, *postings: Posting) -> None:
        self._postings = {(p.account_id, p.posting_id): p for p in postings}

    def get_posting(self, account_id: str, posting_id: str) -> Posting | None:
        return self._postings.get((account_id, posting_id))


class RecordingPublisher:
    def __init__(self, *, fail: bool = False) -> None:
        self.events: list[CountedEvent] = []
        self._fail = fail

    def publish(self, event: CountedEvent) -> None:
        if self._fail:
            raise UpstreamUnavailableError("queue down", code="numbers_queue_unavailable")
        self.events.append(event)


OWNERS = {
    JOB_A: JobOwner("emp_acme", "Backend Engineer"),
    JOB_B: JobOwner("emp_acme", "Data Engineer"),
    JOB_OTHER: JobOwner("emp_initech", "Designer"),
}


def event(job_id: str, kind: str, day: date = TODAY) -> CountedEvent:
    return CountedEvent.model_validate({"job_id": job_id, "type": kind, "day": day})


# ---- which requests count -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("HEAD", {"User-Agent": BROWSER}),
        ("GET", {"User-Agent": BROWSER, "Sec-Purpose": "prefetch"}),
        ("GET", {"User-Agent": BROWSER, "Sec-Purpose": "prefetch;prerender"}),
        ("GET", {"User-Agent": BROWSER, "Purpose": "prefetch"}),
        ("GET", {"User-Agent": BROWSER, "X-Moz": "prefetch"}),
        ("GET", {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}),
        ("GET", {"User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"}),
        ("GET", {"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}),
        ("GET", {"User-Agent": "curl/8.5.0"}),
        ("GET", {"User-Agent": "python-httpx/0.28.1"}),
        ("GET", {"User-Agent": ""}),
        ("GET", {}),
    ],
)
def test_head_prefetch_and_bots_are_not_counted(method: str, headers: dict[str, str]) -> None:
    assert is_countable(method, headers, CrawlerDetectClassifier()) is False


@pytest.mark.parametrize(
    "user_agent",
    [
        BROWSER,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ],
)
def test_browsers_are_counted_whatever_the_header_case(user_agent: str) -> None:
    assert is_countable("GET", {"user-agent": user_agent}, CrawlerDetectClassifier()) is True
    assert is_countable("POST", {"User-Agent": user_agent, "Sec-Purpose": ""}, CrawlerDetectClassifier())


# ---- recording ----------------------------------------------------------------------------------------
def test_each_counted_request_queues_exactly_one_event_with_nothing_about_the_visitor() -> None:
    publisher = RecordingPublisher()
    recorder = EventRecorder(
        publisher, CrawlerDetectClassifier(), clock=lambda: datetime(2026, 12, 7, 23, 59, tzinfo=UTC)
    )

    queued = recorder.record_request(
        JOB_A, "view", "GET", {"User-Agent": BROWSER, "X-Forwarded-For": "203.0.113.9", "Cookie": "a=b"}
    )

    assert queued is True
    assert [e.model_dump(mode="json") for e in publisher.events] == [
        {"job_id": JOB_A, "type": "view", "day": "2026-12-07"}
    ]


def test_a_bot_request_queues_nothing() -> None:
    publisher = RecordingPublisher()
    recorder = EventRecorder(publisher, CrawlerDetectClassifier())

    assert recorder.record_request(JOB_A, "view", "GET", {"User-Agent": "Googlebot/2.1"}) is False
    assert publisher.events == []


def test_a_queue_failure_is_reported_and_swallowed() -> None:
    lost: list[int] = []
    recorder = EventRecorder(
        RecordingPublisher(fail=True), CrawlerDetectClassifier(), on_lost=lambda: lost.append(1)
    )

    assert recorder.record(JOB_A, "application") is False
    assert lost == [1]


# ---- aggregation --------------------------------------------------------------------------------------
def test_a_batch_is_summed_per_job_and_day_and_per_employer_and_day_then_written_once_per_key() -> None:
    store = InMemoryNumbers()
    aggregator = NumbersAggregator(store, OWNERS.get)
    yesterday = TODAY - timedelta(days=1)
    events = (
        [event(JOB_A, "view")] * 40
        + [event(JOB_A, "apply_start")] * 7
        + [event(JOB_A, "application")] * 2
        + [event(JOB_A, "embloy_click")] * 3
        + [event(JOB_B, "view")] * 20
        + [event(JOB_B, "view", yesterday)] * 5
        + [event(JOB_OTHER, "view")] * 9
    )

    outcome = aggregator.apply(events)

    assert outcome.events == outcome.counted == 86
    # 4 job-days (A today, B today, B yesterday, other today) + 3 employer-days (acme x2, initech).
    assert outcome.writes == store.writes == 7
    assert store.items[("emp_acme", JOB_A, TODAY)] == {
        "views": 40,
        "apply_starts": 7,
        "applications": 2,
        "embloy_clicks": 3,
    }
    assert store.items[("emp_acme", None, TODAY)] == {
        "views": 60,
        "apply_starts": 7,
        "applications": 2,
        "embloy_clicks": 3,
    }
    assert store.items[("emp_acme", None, yesterday)] == {"views": 5}
    assert store.items[("emp_initech", None, TODAY)] == {"views": 9}
    assert store.titles[("emp_acme", JOB_A, TODAY)] == "Backend Engineer"


def test_consecutive_batches_add_up() -> None:
    store = InMemoryNumbers()
    aggregator = NumbersAggregator(store, OWNERS.get)

    aggregator.apply([event(JOB_A, "view")] * 3)
    aggregator.apply([event(JOB_A, "view")] * 4)

    assert store.items[("emp_acme", JOB_A, TODAY)] == {"views": 7}
    assert store.items[("emp_acme", None, TODAY)] == {"views": 7}


def test_events_of_jobs_that_are_not_on_the_board_are_dropped_and_each_owner_is_looked_up_once() -> None:
    store = InMemoryNumbers()
    lookups: list[str] = []

    def owner(job_id: str) -> JobOwner | None:
        lookups.append(job_id)
        return OWNERS.get(job_id)

    forged = make_job_id("acc_nobody", "post_zz")
    outcome = NumbersAggregator(store, owner).apply(
        [event(forged, "apply_start")] * 5
        + [event(JOB_A, "view")] * 3
        + [event(JOB_A, "view", TODAY - timedelta(1))]
    )

    assert (outcome.counted, outcome.dropped) == (4, 5)
    assert sorted(lookups) == sorted([forged, JOB_A])
    assert not any(job == forged for _, job, _ in store.items)


def test_a_warm_counter_reads_each_job_s_owner_once_per_hour() -> None:
    lookups: list[str] = []
    now = [0.0]

    def owner(job_id: str) -> JobOwner | None:
        lookups.append(job_id)
        return OWNERS.get(job_id)

    cache = OwnerCache(owner, ttl_seconds=3600, timer=lambda: now[0])
    aggregator = NumbersAggregator(InMemoryNumbers(), cache)

    aggregator.apply([event(JOB_A, "view"), event(JOB_B, "view")])
    aggregator.apply([event(JOB_A, "view"), event(JOB_B, "apply_start")])
    now[0] = 3601.0
    aggregator.apply([event(JOB_A, "view")])

    assert lookups == [JOB_A, JOB_B, JOB_A]


# ---- the report ---------------------------------------------------------------------------------------
def _service(store: InMemoryNumbers) -> NumbersService:
    postings = InMemoryPostings(
        make_posting("Backend Engineer", posting_id="post_a"),
        make_posting("Data Engineer", posting_id="post_b"),
        make_posting("Designer", account_id="acc_lever", posting_id="post_x"),
    )
    return NumbersService(store, postings, clock=lambda: datetime(2026, 12, 7, 12, tzinfo=UTC))


def test_the_report_has_one_zero_filled_day_per_requested_day_and_per_job_totals_most_viewed_first() -> None:
    store = InMemoryNumbers()
    aggregator = NumbersAggregator(store, OWNERS.get)
    aggregator.apply(
        [event(JOB_A, "view", TODAY - timedelta(days=2))] * 2
        + [event(JOB_B, "view")] * 5
        + [event(JOB_B, "application")]
        + [event(JOB_A, "view", TODAY - timedelta(days=30))] * 50  # outside the 7 days asked for
        + [event(JOB_OTHER, "view")] * 99  # another employer's
    )

    report = _service(store).report("emp_acme", NumbersQuery(days=7))

    assert (report.start, report.end, report.days) == (date(2026, 12, 1), TODAY, 7)
    assert [day.day for day in report.series] == [date(2026, 12, d) for d in range(1, 8)]
    assert [day.views for day in report.series] == [0, 0, 0, 0, 2, 0, 5]
    assert report.totals.model_dump() == {
        "views": 7,
        "apply_starts": 0,
        "applications": 1,
        "embloy_clicks": 0,
    }
    assert [(job.job_id, job.title, job.totals.views) for job in report.jobs] == [
        (JOB_B, "Data Engineer", 5),
        (JOB_A, "Backend Engineer", 2),
    ]


def test_one_job_s_report_is_that_job_s_series() -> None:
    store = InMemoryNumbers()
    NumbersAggregator(store, OWNERS.get).apply([event(JOB_A, "apply_start")] * 3 + [event(JOB_B, "view")] * 4)

    report = _service(store).report("emp_acme", NumbersQuery(days=1, job_id=JOB_A))

    assert report.job_id == JOB_A
    assert [day.apply_starts for day in report.series] == [3]
    assert report.totals.views == 0
    assert [job.job_id for job in report.jobs] == [JOB_A]


@pytest.mark.parametrize("job_id", [JOB_OTHER, make_job_id("acc_gh", "post_unknown"), "not-a-job-id"])
def test_another_employer_s_job_or_an_unknown_one_is_not_found(job_id: str) -> None:
    store = InMemoryNumbers()
    NumbersAggregator(store, OWNERS.get).apply([event(JOB_OTHER, "view")] * 3)

    with pytest.raises(NotFoundError) as raised:
        _service(store).report("emp_acme", NumbersQuery(days=90, job_id=job_id))

    assert raised.value.code == "job_not_found"
