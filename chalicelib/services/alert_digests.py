"""Job alert digests: on a schedule, each due alert gets one email with the postings new on the board
that its search matches, or nothing at all when there are none.

A run (each window looks back at most `MAX_LOOKBACK`):
1. fixes `until` = now minus a settle margin (a sync stamps `first_seen_at` just before its write lands,
   so a posting first seen in the last seconds may not be readable yet; it is picked up by the next run);
2. reads the board caught up with every change written so far (`fresh_board`: only live postings);
3. per frequency (instant every run, daily once per 24 h, weekly once per 7 days), takes the due alerts
   and matches the live postings first seen in (oldest watermark, until] against their searches with the
   board's own engine (`AlertMatcher`: each distinct search once);
4. per alert with at least one posting first seen after its watermark: ONE `EmailRequested` (template
   `alert_digest`, the newest `max_postings` of them, a link to all on the board) keyed
   `alert-digest:<alert_id>:<new watermark>`, the new watermark being the first-seen time of the newest
   posting included; after the outbox took it, the alert's watermark and `last_sent_at` advance. A retry
   computes the same key for the same postings, and the email worker sends each key once.

An alert with nothing new is not emailed. A daily or weekly one still records the check (`last_sent_at`
= now, watermark = `until`: every posting first seen up to then was considered), so it is next due a
day or a week later and its next digest holds what came in that day or week; an instant one is due on
every run anyway and keeps its watermark.

Alerts are done in chunks: the matching runs here, the outbox and store calls of each chunk in a small
thread pool (they wait on the network; at most two chunks per thread are pending, so memory stays
bounded and a failure stops the run). The outbox's `enqueue` and the store's `advance` are therefore
called from several threads at once (boto3 clients are thread-safe; a boto3 resource object is not, so
a DynamoDB store calls its table's low-level client). Past the time budget no new chunk starts; the
alerts left stay due for the next run.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, get_args
from urllib.parse import urlencode

from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.models.alerts import Alert, AlertSearch, AlertStore, Frequency
from chalicelib.models.messages import EmailOutbox, EmailRequested
from chalicelib.observability import logger
from chalicelib.services.alert_links import AlertLinks
from chalicelib.services.board import shaping
from chalicelib.services.board.alert_matching import AlertMatcher
from chalicelib.services.board.engine import BoardEngine, epoch_ms

TEMPLATE = "alert_digest"
PERIODS: dict[Frequency, timedelta] = {
    "instant": timedelta(0),
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
}
# A digest looks back at most this far: every posting first seen earlier was considered by an earlier
# run (instant alerts, which keep their watermark while nothing matches, would otherwise match ever
# older windows), and a paused alert that resumes gets the last week's news, not a year's.
MAX_LOOKBACK = timedelta(days=8)
_EXCERPT_CHARS = 180
_SUBJECT_SEARCH_CHARS = 120
_FILTER_WORDS = {
    "location": "in",
    "company": "at",
    "employment_type": "type",
    "department": "department",
    "provider": "via",
}


@dataclass(frozen=True)
class DigestPolicy:
    """The schedule's knobs (from settings)."""

    schedule_minutes: int = 15
    max_postings: int = 25
    settle_seconds: float = 30.0
    time_budget_seconds: float = 240.0
    chunk_size: int = 100
    workers: int = 8


@dataclass
class DigestReport:
    due: int = 0
    queued: int = 0  # digests handed to the outbox (one email each)
    nothing_new: int = 0
    deferred: int = 0  # due alerts left for the next run (time budget)
    new_postings: dict[str, int] = field(default_factory=dict)  # frequency -> postings in its window
    distinct_searches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Outcome:
    alert: Alert
    watermark: str
    message: EmailRequested | None  # None: nothing new


def watermark_ms(alert: Alert) -> int:
    """Where the alert's next digest starts: its watermark, or when it was confirmed (created)."""
    if alert.watermark:
        return epoch_ms(datetime.fromisoformat(alert.watermark.replace("Z", "+00:00")))
    return epoch_ms(alert.confirmed_at or alert.created_at)


def ms_isoformat(ms: int) -> str:
    """The ISO-8601 UTC form (milliseconds, Z) of epoch milliseconds, exactly."""
    return isoformat(datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(milliseconds=ms % 1000))


def describe_search(search: AlertSearch) -> str:
    """The search in words: `“python” in Berlin, remote, at Acme`, or `all jobs`."""
    params = search.params
    parts: list[str] = []
    if params.get("q"):
        parts.append(f"“{params['q'][0]}”")
    for name in ("location", "company", "employment_type", "department", "provider"):
        values = params.get(name)
        if values:
            parts.append(f"{_FILTER_WORDS[name]} {' or '.join(values)}")
    remote = params.get("remote")
    if remote and len(set(remote)) == 1:
        parts.append("remote" if remote[0] == "true" else "on site")
    return ", ".join(parts) if parts else "all jobs"


def board_search_url(public_base_url: str, search: AlertSearch) -> str:
    """The board page of the same search, newest first."""
    pairs = [(name, value) for name, values in sorted(search.params.items()) for value in values]
    return f"{public_base_url.rstrip('/')}?{urlencode([*pairs, ('sort', 'newest')])}"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


class AlertDigestService:
    """Matches new postings against due alerts and queues one digest email per alert with news."""

    def __init__(
        self,
        alerts: AlertStore,
        board: Callable[[], BoardEngine],
        outbox: EmailOutbox,
        links: AlertLinks,
        *,
        public_base_url: str,
        policy: DigestPolicy | None = None,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._alerts = alerts
        self._board = board
        self._outbox = outbox
        self._links = links
        self._public_base_url = public_base_url.rstrip("/")
        self._policy = policy or DigestPolicy()
        self._clock = clock
        self._monotonic = monotonic

    def run(self) -> DigestReport:
        started = self._monotonic()
        deadline = started + self._policy.time_budget_seconds
        now = self._clock()
        until_ms = epoch_ms(now - timedelta(seconds=self._policy.settle_seconds))
        engine = self._board()
        report = DigestReport()
        # Half a schedule interval of slack: a daily digest due at 09:00:05 goes at the 09:00 run, not
        # one interval later every day.
        slack = timedelta(minutes=self._policy.schedule_minutes / 2)
        # Chunks handed to the workers and not yet done: at most two per worker, so matching never runs
        # far ahead of the network (the digests waiting are held in memory), and a failure stops the run.
        in_flight: deque[Future[int]] = deque()
        with ThreadPoolExecutor(max_workers=self._policy.workers, thread_name_prefix="digests") as pool:
            for frequency in get_args(Frequency):
                period = PERIODS[frequency]
                sent_before = now if not period else now - period + slack
                alerts = list(self._alerts.due(frequency, sent_before=sent_before))
                if not alerts:
                    continue
                report.due += len(alerts)
                floor_ms = until_ms - MAX_LOOKBACK // timedelta(milliseconds=1)
                marks = {alert.alert_id: max(watermark_ms(alert), floor_ms) for alert in alerts}
                matcher = AlertMatcher.first_seen_between(engine, min(marks.values()), until_ms)
                report.new_postings[frequency] = len(matcher.postings)
                summaries: dict[int, dict[str, Any]] = {}
                for start in range(0, len(alerts), self._policy.chunk_size):
                    if self._monotonic() >= deadline:
                        report.deferred += len(alerts) - start
                        break
                    outcomes = [
                        self._outcome(alert, marks[alert.alert_id], until_ms, matcher, engine, summaries)
                        for alert in alerts[start : start + self._policy.chunk_size]
                    ]
                    report.nothing_new += sum(1 for outcome in outcomes if outcome.message is None)
                    in_flight.append(pool.submit(self._deliver, outcomes, now))
                    while len(in_flight) >= 2 * self._policy.workers:
                        report.queued += in_flight.popleft().result()
                report.distinct_searches += matcher.distinct_searches
            while in_flight:
                report.queued += in_flight.popleft().result()
        return report

    def _outcome(
        self,
        alert: Alert,
        after_ms: int,
        until_ms: int,
        matcher: AlertMatcher,
        engine: BoardEngine,
        summaries: dict[int, dict[str, Any]],
    ) -> _Outcome:
        found = matcher.new_for(alert.search, after_ms=after_ms)
        if not found:
            # Every posting first seen up to `until` was considered: a later run starts there.
            mark = ms_isoformat(max(after_ms, until_ms)) if alert.frequency != "instant" else alert.watermark
            return _Outcome(alert, mark, None)
        watermark = ms_isoformat(found[0].first_seen_ms)
        shown = found[: self._policy.max_postings]
        missing = [posting.slot for posting in shown if posting.slot not in summaries]
        for slot, hit in zip(missing, engine.hits(missing), strict=True):
            summaries[slot] = self._posting_context(hit.job_id, hit.summary, hit.excerpt)
        postings = [summaries[posting.slot] for posting in shown]
        return _Outcome(alert, watermark, self._message(alert, watermark, postings, total=len(found)))

    def _posting_context(self, job_id: str, summary: dict[str, Any], excerpt: str) -> dict[str, Any]:
        locations = [str(name) for name in summary.get("locations") or []]
        # The stored excerpt starts with "company · locations. "; the email shows those on their own line.
        head = " · ".join(part for part in (summary.get("company") or "", ", ".join(locations)) if part)
        text = excerpt.removeprefix(f"{head}. ") if head else excerpt
        return {
            "title": summary.get("title") or "",
            "company": summary.get("company") or "",
            "locations": locations,
            "remote": bool(summary.get("remote")),
            "excerpt": _short(text, _EXCERPT_CHARS) if text != head else "",
            "url": shaping.job_url(self._public_base_url, job_id),
        }

    def _message(
        self, alert: Alert, watermark: str, postings: Sequence[dict[str, Any]], *, total: int
    ) -> EmailRequested:
        search = describe_search(alert.search)
        noun = "job" if total == 1 else "jobs"
        headers = self._links.unsubscribe_headers(alert.alert_id)
        # The header's URL is the body's unsubscribe link: one token signed, not two.
        unsubscribe_url = headers["List-Unsubscribe"].removeprefix("<").removesuffix(">")
        subject = f"{total} new {noun}: {_short(search, _SUBJECT_SEARCH_CHARS)}"
        return EmailRequested(
            key=f"alert-digest:{alert.alert_id}:{watermark}",
            template=TEMPLATE,
            to=alert.email,
            subject=subject,
            context={
                "search": search,
                "frequency": alert.frequency,
                "postings": list(postings),
                "total": total,
                "board_search_url": board_search_url(self._public_base_url, alert.search),
                "manage_url": self._links.url("manage", alert.alert_id),
                "unsubscribe_url": unsubscribe_url,
            },
            headers=headers,
        )

    def _deliver(self, outcomes: Iterable[_Outcome], now: datetime) -> int:
        """Queue the chunk's digests, then advance its alerts (a crash in between re-queues the same
        keys on the next run, which the email worker sends once)."""
        outcomes = list(outcomes)
        messages = [outcome.message for outcome in outcomes if outcome.message is not None]
        queued = self._outbox.enqueue(messages) if messages else 0
        for outcome in outcomes:
            if outcome.message is None and outcome.alert.frequency == "instant":
                continue  # due every run anyway: nothing to record
            self._alerts.advance(outcome.alert.alert_id, watermark=outcome.watermark, sent_at=now)
        if messages:
            logger.info("alert digests queued", extra={"digests": queued})
        return queued
