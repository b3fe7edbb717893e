"""Employer emails: a connection that needs attention (through the sync) and the daily applications
digest, with in-memory collaborators; every queued email is rendered and its MIME parsed back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.clients.stackone.errors import StackOneAuthError
from chalicelib.models.applications import ApplicationRecord
from chalicelib.services.employer_notifications import (
    ApplicationsDigestService,
    ConnectionAttentionNotifier,
    DigestRecipient,
    EmployerNotificationService,
    NotificationSettings,
)
from chalicelib.services.sync import CountingMetrics, SyncPolicy, SyncService
from tests.email_support import RecordingOutbox, recorded_logs, render_queued, subject
from tests.services.sync_fakes import (
    FakeClock,
    FakeStackOne,
    InMemoryPostings,
    InMemoryPublisher,
    InMemoryStates,
    raw,
)

CONSOLE = "https://board.test/employer"
EMPLOYER = "emp-acc1"  # FakeStackOne's owner of account "acc1"


class InMemoryNotificationSettings:
    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {EMPLOYER: "Company acc1"}
        self.settings: dict[str, NotificationSettings] = {}

    def get_notification_settings(self, employer_id: str) -> NotificationSettings | None:
        if employer_id not in self.names:
            return None
        return self.settings.get(employer_id, NotificationSettings())

    def put_notification_settings(self, employer_id: str, settings: NotificationSettings) -> None:
        self.settings[employer_id] = settings

    def digest_recipients(self) -> list[DigestRecipient]:
        return [
            DigestRecipient(employer_id, self.names[employer_id], settings.email)
            for employer_id, settings in self.settings.items()
            if settings.email and settings.new_applications_digest
        ]


class World:
    """A sync service whose runs email the employer through a recording outbox."""

    def __init__(self, *, email: str | None = "ops@acme.example", failing_outbox: bool = False) -> None:
        self.stackone = FakeStackOne()
        self.postings = InMemoryPostings()
        self.states = InMemoryStates()
        self.clock = FakeClock()
        self.settings = InMemoryNotificationSettings()
        if email:
            self.settings.settings[EMPLOYER] = NotificationSettings(email=email)
        self.outbox = RecordingOutbox(failing=failing_outbox)
        self.service = SyncService(
            self.stackone,
            self.postings,
            self.states,
            InMemoryPublisher(),
            policy=SyncPolicy(ats_providers=frozenset({"greenhouse"})),
            clock=self.clock,
            monotonic=self.clock.monotonic,
            metrics=CountingMetrics(),
            attention=ConnectionAttentionNotifier(self.settings, self.outbox, console_url=CONSOLE),
        )
        self.stackone.add_account("acc1")
        self.stackone.accounts["acc1"] = self.stackone.accounts["acc1"].model_copy(
            update={"label": "EU hiring"}
        )
        self.stackone.postings["acc1"] = [raw(f"p{i}") for i in range(9)]

    def run(self, run_id: str, *, minutes: float = 15) -> None:
        self.clock.advance(minutes=minutes)
        self.service.sync_account("acc1", run_id)

    def expire_credentials(self) -> None:
        self.stackone.account_errors["acc1"] = StackOneAuthError(
            status=401, error_code="AccountExpiredCredentialsError"
        )

    def recover(self) -> None:
        del self.stackone.account_errors["acc1"]


@pytest.fixture
def world() -> World:
    return World()


def test_the_first_failure_emails_the_employer_with_a_reconnect_link(world: World) -> None:
    world.run("run-1")
    world.expire_credentials()

    world.run("run-2")

    (queued,) = world.outbox.queued
    assert queued.key == "connection_attention:acc1:2026-03-01"
    assert queued.template == "connection_attention"
    assert queued.to == "ops@acme.example"
    parsed = render_queued(queued)
    assert subject(parsed) == "Action needed: your Greenhouse (EU hiring) connection to the job board"
    assert parsed.message["To"] == "ops@acme.example"
    assert parsed.links[0] == CONSOLE  # the Reconnect button comes first
    assert CONSOLE in parsed.links and "https://board.test" in parsed.links
    assert f"Reconnect: {CONSOLE}" in parsed.text
    for part in (parsed.text, parsed.html):
        assert "Your Greenhouse (EU hiring) connection needs attention" in part
        assert "credentials have expired or were revoked" in part
        assert "9 postings stay on Unified Job Board" in part
        assert "The next sync picks up your changes." in part
        assert "Company acc1" in part and "EU hiring" in part
    assert world.states.states["acc1"].attention_notified_at == world.clock.now


def test_while_it_lasts_the_employer_is_reminded_at_most_daily(world: World) -> None:
    world.run("run-1")
    world.expire_credentials()
    world.run("run-2")

    for index in range(3, 3 + 4 * 24 - 1):  # every 15 minutes for the rest of the day
        world.run(f"run-{index}")
    assert len(world.outbox.queued) == 1
    world.run("run-next-day")

    assert [q.key for q in world.outbox.queued] == [
        "connection_attention:acc1:2026-03-01",
        "connection_attention:acc1:2026-03-02",
    ]


def test_recovery_clears_the_record_and_a_new_failure_is_told_at_once(world: World) -> None:
    world.run("run-1")
    world.expire_credentials()
    world.run("run-2")
    world.recover()

    world.run("run-3")

    state = world.states.states["acc1"]
    assert state.needs_attention is False and state.attention_notified_at is None
    world.expire_credentials()
    world.run("run-4")
    assert len(world.outbox.queued) == 2
    assert len({q.key for q in world.outbox.queued}) == 1  # the same day: one email by key at most


def test_an_inactive_account_is_told_the_deadline_then_that_its_postings_left(world: World) -> None:
    world.run("run-1")
    world.stackone.accounts["acc1"] = world.stackone.accounts["acc1"].model_copy(
        update={"status": "inactive"}
    )

    world.run("run-2")  # 12:30 UTC: the grace period (72 h) starts

    (first,) = world.outbox.queued
    parsed = render_queued(first)
    for part in (parsed.text, parsed.html):
        assert "9 postings stay on Unified Job Board" in part
        assert "until 4 March 2026, 12:30 UTC" in part
        assert "no longer active" in part
    # WHEN the deadline passes (the daily reminders in between), the run that closes them says so
    for index in range(3, 3 + 72 * 4):
        world.run(f"run-{index}")
    closing = world.outbox.queued[-1]
    assert closing.key == "connection_attention:acc1:2026-03-04:closed"
    assert [q.key for q in world.outbox.queued].count(closing.key) == 1
    parsed = render_queued(closing)
    for part in (parsed.text, parsed.html):
        assert "9 postings left Unified Job Board" in part
        assert "Your postings come back with the next sync" in part


def test_without_an_address_nothing_is_sent_until_one_is_set() -> None:
    world = World(email=None)
    world.run("run-1")
    world.expire_credentials()
    world.run("run-2")
    assert world.outbox.queued == []
    assert world.states.states["acc1"].attention_notified_at is None

    EmployerNotificationService(world.settings).update(
        EMPLOYER, email="ops@acme.example", new_applications_digest=False
    )
    world.run("run-3")

    assert [q.to for q in world.outbox.queued] == ["ops@acme.example"]


def test_a_queue_outage_never_fails_the_sync_and_the_next_run_tries_again() -> None:
    world = World(failing_outbox=True)
    world.run("run-1")
    world.expire_credentials()

    with recorded_logs() as logs:
        world.run("run-2")

    state = world.states.states["acc1"]
    assert state.last_outcome == "needs_attention" and state.attention_notified_at is None
    (warning,) = logs.named("connection attention email not queued")
    assert warning.__dict__["error_code"] == "email_queue_unavailable"
    assert "ops@acme.example" not in logs.everything()
    world.outbox.failing = False
    world.run("run-3")
    assert len(world.outbox.queued) == 1


def test_accounts_of_no_registered_employer_email_nobody(world: World) -> None:
    notifier = ConnectionAttentionNotifier(world.settings, world.outbox, console_url=CONSOLE)
    world.run("run-1")
    state = world.states.states["acc1"].model_copy(
        update={"needs_attention": True, "attention_reason": "employer_not_registered"}
    )

    notifier.review(state, postings_closed=9, now=world.clock.now)

    assert world.outbox.queued == [] and state.attention_notified_at is None


# ---- Daily digest of new applications -----------------------------------------------------------------

DAY = date(2026, 12, 6)


class InMemoryApplications:
    def __init__(self, records: list[ApplicationRecord]) -> None:
        self.records = records

    def submitted_between(self, employer_id: str, start: datetime, end: datetime) -> list[ApplicationRecord]:
        return [r for r in self.records if r.employer_id == employer_id and start <= r.submitted_at < end]


def record(
    number: int,
    *,
    job: str = "job-1",
    title: str = "Robot Whisperer",
    employer: str = EMPLOYER,
    at: datetime | None = None,
    outcome: str = "submitted",
    channel: str = "native",
) -> ApplicationRecord:
    return ApplicationRecord.model_validate(
        {
            "record_id": f"r{number}",
            "employer_id": employer,
            "job_id": job,
            "account_id": "acc1",
            "posting_id": job,
            "job_title": title,
            "channel": channel,
            "outcome": outcome,
            "candidate_name": f"Candidate {number}" if channel == "native" else None,
            "submitted_at": at or datetime(2026, 12, 6, 8, number % 60, tzinfo=UTC),
            "expires_at": 2_000_000_000,
        }
    )


def digest_service(
    records: list[ApplicationRecord], outbox: RecordingOutbox, *, opted_in: bool = True
) -> ApplicationsDigestService:
    settings = InMemoryNotificationSettings({EMPLOYER: "Acme Robotics", "emp-other": "Globex"})
    settings.settings[EMPLOYER] = NotificationSettings(
        email="hiring@acme.example", new_applications_digest=opted_in
    )
    settings.settings["emp-other"] = NotificationSettings(
        email="jobs@globex.example", new_applications_digest=True
    )
    return ApplicationsDigestService(
        settings,
        InMemoryApplications(records),
        outbox,
        console_url=CONSOLE,
        now=lambda: datetime(2026, 12, 7, 6, 30, tzinfo=UTC),
    )


def test_the_digest_lists_yesterdays_applications_per_job_with_counts_and_names() -> None:
    outbox = RecordingOutbox()
    records = [
        record(1),
        record(2, job="job-2", title="Gear Polisher"),
        record(3),
        record(4, outcome="pending_confirmation"),
        record(5, outcome="duplicate"),  # refused: not an application
        record(6, outcome="failed"),
        record(7, channel="embloy", outcome="redirected"),  # a click, not an application
        record(8, at=datetime(2026, 12, 5, 23, 59, 59, tzinfo=UTC)),  # the day before
        record(9, at=datetime(2026, 12, 7, 0, 0, tzinfo=UTC)),  # today: tomorrow's digest
    ]

    assert digest_service(records, outbox).enqueue_previous_day() == 1

    (queued,) = outbox.queued
    assert queued.key == f"employer_applications_digest:{EMPLOYER}:2026-12-06"
    assert queued.to == "hiring@acme.example"
    parsed = render_queued(queued)
    assert subject(parsed) == "4 new applications on 6 December 2026"
    assert parsed.links == [CONSOLE, CONSOLE, "https://board.test"]
    assert f"Open the employer console: {CONSOLE}" in parsed.text
    assert "Robot Whisperer\n3 applications: Candidate 1, Candidate 3, Candidate 4" in parsed.text
    assert "Gear Polisher\n1 application: Candidate 2" in parsed.text
    assert parsed.text.index("Robot Whisperer") < parsed.text.index("Gear Polisher")
    for part in (parsed.text, parsed.html):
        assert "Hi Acme Robotics" in part
        for absent in ("Candidate 5", "Candidate 6", "Candidate 8", "Candidate 9"):
            assert absent not in part
    assert "Candidate 1, Candidate 3, Candidate 4" in parsed.html


def test_no_applications_or_no_opt_in_means_no_digest() -> None:
    outbox = RecordingOutbox()
    assert digest_service([], outbox).enqueue_day(DAY) == 0
    assert digest_service([record(1)], outbox, opted_in=False).enqueue_day(DAY) == 0
    assert outbox.queued == []


def test_a_busy_job_names_the_first_twenty_and_counts_the_rest() -> None:
    outbox = RecordingOutbox()
    digest_service([record(n) for n in range(1, 31)], outbox).enqueue_day(DAY)

    parsed = render_queued(outbox.queued[0])

    assert "30 applications: Candidate 1, " in parsed.text
    assert "Candidate 20 and 10 more" in parsed.text
    assert "Candidate 21" not in parsed.text


def test_each_employer_gets_only_their_own_applications_keyed_per_day() -> None:
    outbox = RecordingOutbox()
    service = digest_service([record(1), record(2, employer="emp-other", title="Widget Maker")], outbox)

    service.enqueue_day(DAY)
    service.enqueue_day(DAY + timedelta(days=1))

    assert sorted((q.to, q.key) for q in outbox.queued) == [
        ("hiring@acme.example", f"employer_applications_digest:{EMPLOYER}:2026-12-06"),
        ("jobs@globex.example", "employer_applications_digest:emp-other:2026-12-06"),
    ]
    (globex,) = [q for q in outbox.queued if q.to == "jobs@globex.example"]
    assert "Widget Maker" in render_queued(globex).text
    assert "Candidate 1" not in render_queued(globex).text
