"""Per-job numbers: which requests count, recording an event, aggregating queued events, the report.

A counted event is one message on the numbers queue: `{job_id, type, day}` and nothing about the visitor
(no IP address, no cookie, no user agent). The queue's consumer sums a batch per (job, day) and per
(employer, day) and writes each sum with one `ADD`, so a batch of N events costs at most N job writes and
usually far fewer (docs/numbers.md has the arithmetic).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from chalicelib.clock import Clock, utcnow
from chalicelib.errors import AppError, NotFoundError
from chalicelib.models.numbers import (
    COUNTER_OF_EVENT,
    COUNTERS,
    CountedEvent,
    Counts,
    DayCounts,
    JobTotals,
    NumbersQuery,
    NumbersResponse,
)
from chalicelib.models.posting import Posting, parse_job_id
from chalicelib.observability import logger

# Headers browsers send on speculative loads (link prefetch, Speculation Rules prerender, Firefox's
# prefetch); such a load is not a person looking at the page.
_PREFETCH_HEADERS = ("sec-purpose", "purpose", "x-purpose", "x-moz")


class BotClassifier(Protocol):
    def is_bot(self, user_agent: str) -> bool: ...


class CrawlerDetectClassifier:
    """Bots by user agent, with the maintained CrawlerDetect patterns (`crawlerdetect`)."""

    def __init__(self) -> None:
        from crawlerdetect import CrawlerDetect  # compiles its patterns: loaded on first use

        self._detector = CrawlerDetect()

    def is_bot(self, user_agent: str) -> bool:
        # Every browser sends a user agent; a request without one is a script.
        return not user_agent.strip() or bool(self._detector.isCrawler(user_agent))


def is_countable(method: str, headers: Mapping[str, str], bots: BotClassifier) -> bool:
    """Whether a request is a person's: not HEAD, not a prefetch or prerender, not a known bot."""
    if method.upper() == "HEAD":
        return False
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in _PREFETCH_HEADERS:
        value = lowered.get(name, "").lower()
        if "prefetch" in value or "prerender" in value or "preview" in value:
            return False
    return not bots.is_bot(lowered.get("user-agent", ""))


class EventPublisher(Protocol):
    def publish(self, event: CountedEvent) -> None: ...


class EventRecorder:
    """Records one event per call (one queue message). A failure is logged and dropped: counting never
    fails the request that is being counted."""

    def __init__(
        self,
        publisher: EventPublisher,
        bots: BotClassifier,
        *,
        clock: Clock = utcnow,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self._publisher = publisher
        self._bots = bots
        self._clock = clock
        self._on_lost = on_lost

    def record(self, job_id: str, event_type: str) -> bool:
        """Queue the event; False when it could not be queued (logged by error code only)."""
        event = CountedEvent.model_validate(
            {"job_id": job_id, "type": event_type, "day": self._clock().date()}
        )
        try:
            self._publisher.publish(event)
        except AppError as exc:
            logger.warning("numbers event lost", extra={"error_code": exc.code, "event_type": event_type})
            if self._on_lost is not None:
                self._on_lost()
            return False
        return True

    def record_request(self, job_id: str, event_type: str, method: str, headers: Mapping[str, str]) -> bool:
        """Record the event if the request is a person's (see `is_countable`); whether it was queued."""
        if not is_countable(method, headers, self._bots):
            return False
        return self.record(job_id, event_type)


# ---- aggregation (the queue's consumer) ---------------------------------------------------------------
@dataclass(frozen=True)
class JobOwner:
    employer_id: str
    title: str | None


class PostingSource(Protocol):
    def get_posting(self, account_id: str, posting_id: str) -> Posting | None: ...


def job_owner(postings: PostingSource, job_id: str) -> JobOwner | None:
    """The employer (and title) of a board job; None for what is not one of the board's jobs."""
    try:
        posting = postings.get_posting(*parse_job_id(job_id))
    except NotFoundError:
        return None
    if posting is None or not posting.employer_id:
        return None
    return JobOwner(posting.employer_id, posting.title)


class OwnerCache:
    """Job owners remembered by a warm counter for `ttl_seconds`: a popular job costs one posting read per
    container and hour, not one per batch. A job's employer never changes; its title may, and catches up."""

    def __init__(
        self,
        lookup: Callable[[str], JobOwner | None],
        *,
        ttl_seconds: float = 3600.0,
        max_jobs: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        from cachetools import TTLCache

        self._lookup = lookup
        self._cache: TTLCache[str, JobOwner | None] = TTLCache(maxsize=max_jobs, ttl=ttl_seconds, timer=timer)

    def __call__(self, job_id: str) -> JobOwner | None:
        if job_id in self._cache:
            return self._cache[job_id]
        owner = self._lookup(job_id)
        self._cache[job_id] = owner
        return owner


@dataclass(frozen=True)
class NumbersRow:
    """One stored item: a job's counters on a day (`job_id` None: the employer's total that day)."""

    day: date
    job_id: str | None
    counts: dict[str, int]
    title: str | None = None


class NumbersStore(Protocol):
    def add(
        self, employer_id: str, job_id: str | None, day: date, counts: Mapping[str, int], title: str | None
    ) -> None: ...

    def totals(self, employer_id: str, start: date, end: date) -> list[NumbersRow]: ...

    def jobs(
        self, employer_id: str, start: date, end: date, job_id: str | None = None
    ) -> list[NumbersRow]: ...


@dataclass
class BatchOutcome:
    """What one batch did: events read, events counted, events dropped (unknown job), writes made."""

    events: int = 0
    counted: int = 0
    dropped: int = 0
    writes: int = 0
    keys: list[tuple[str, str | None, date]] = field(default_factory=list)


class NumbersAggregator:
    """Sums a batch of events per (job, day) and per (employer, day), then writes each sum once."""

    def __init__(self, store: NumbersStore, owners: Callable[[str], JobOwner | None]) -> None:
        self._store = store
        self._owners = owners

    def apply(self, events: Iterable[CountedEvent]) -> BatchOutcome:
        outcome = BatchOutcome()
        per_job: dict[tuple[str, date], Counter[str]] = {}
        for event in events:
            outcome.events += 1
            per_job.setdefault((event.job_id, event.day), Counter())[COUNTER_OF_EVENT[event.type]] += 1
        owners: dict[str, JobOwner | None] = {}
        per_employer: dict[tuple[str, date], Counter[str]] = {}
        writes: list[tuple[str, str | None, date, Counter[str], str | None]] = []
        for (job, day), counts in per_job.items():
            if job not in owners:
                owners[job] = self._owners(job)
            owner = owners[job]
            if owner is None:  # not a board job (a forged beacon): nothing to count it against
                outcome.dropped += sum(counts.values())
                continue
            outcome.counted += sum(counts.values())
            writes.append((owner.employer_id, job, day, counts, owner.title))
            per_employer.setdefault((owner.employer_id, day), Counter()).update(counts)
        writes.extend((employer, None, day, counts, None) for (employer, day), counts in per_employer.items())
        for employer_id, job_id, day, counts, title in writes:
            self._store.add(employer_id, job_id, day, dict(counts), title)
            outcome.writes += 1
            outcome.keys.append((employer_id, job_id, day))
        return outcome


# ---- the report (GET /employer/numbers) ----------------------------------------------------------------
def _counts(values: Mapping[str, Any]) -> Counts:
    return Counts.model_validate({name: int(values.get(name, 0)) for name in COUNTERS})


def _sum(rows: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for row in rows:
        total.update({name: int(row.get(name, 0)) for name in COUNTERS})
    return {name: total[name] for name in COUNTERS}


class NumbersService:
    """The employer's numbers per day (zero-filled) and per job, only ever for its own jobs."""

    def __init__(self, store: NumbersStore, postings: PostingSource, *, clock: Clock = utcnow) -> None:
        self._store = store
        self._postings = postings
        self._clock = clock

    def report(self, employer_id: str, query: NumbersQuery) -> NumbersResponse:
        end = self._clock().date()
        start = end - timedelta(days=query.days - 1)
        owner = job_owner(self._postings, query.job_id) if query.job_id is not None else None
        if owner is not None and owner.employer_id != employer_id:
            raise NotFoundError("You have no job with this id.", code="job_not_found")
        # Only the employer's own partition is read: another employer's job can never show up here.
        job_rows = self._store.jobs(employer_id, start, end, job_id=query.job_id)
        if query.job_id is not None:
            if owner is None and not job_rows:  # not a job of theirs (nor a deleted one with numbers)
                raise NotFoundError("You have no job with this id.", code="job_not_found")
            day_rows = job_rows
        else:
            day_rows = self._store.totals(employer_id, start, end)
        by_day = {row.day: row.counts for row in day_rows}
        series = [
            DayCounts.model_validate({"day": day, **_counts(by_day.get(day, {})).model_dump()})
            for day in (start + timedelta(days=offset) for offset in range(query.days))
        ]
        per_job: dict[str, list[NumbersRow]] = {}
        for row in job_rows:
            if row.job_id is not None:
                per_job.setdefault(row.job_id, []).append(row)
        jobs = [
            JobTotals(
                job_id=job_id,
                title=next((row.title for row in reversed(rows) if row.title), None),
                totals=_counts(_sum(row.counts for row in rows)),
            )
            for job_id, rows in per_job.items()
        ]
        jobs.sort(key=lambda job: (-job.totals.views, -job.totals.applications, job.job_id))
        return NumbersResponse(
            start=start,
            end=end,
            days=query.days,
            job_id=query.job_id,
            totals=_counts(_sum(row.counts for row in day_rows)),
            series=series,
            jobs=jobs,
        )
