"""What the board emails employers: where to (their notification settings), a connection that needs
attention, and the optional daily digest of new applications.

Nothing is sent to an employer until they set an address in the console. Every email goes through the
outbox with a key per (subject, day), so a retried sync run or a re-delivered schedule tick never sends
one twice; the dispatcher sends each key at most once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from chalicelib.clock import Clock, utcnow
from chalicelib.errors import AppError, NotFoundError
from chalicelib.models.applications import ApplicationRecord
from chalicelib.models.messages import EmailOutbox, EmailRequested
from chalicelib.models.sync_state import AccountSyncState
from chalicelib.observability import logger
from chalicelib.services.application_emails import long_date, shortened

ATTENTION_TEMPLATE = "connection_attention"
DIGEST_TEMPLATE = "employer_applications_digest"
# A connection that stays broken is mentioned again at most this often.
ATTENTION_REMINDER = timedelta(days=1)
# Why an account needs attention, in the employer's words. Accounts whose owner is not an employer of the
# board (`employer_not_registered`) have nobody to tell.
ATTENTION_PROBLEMS: dict[str, str] = {
    "reconnect": "The board's access to your ATS was refused: the credentials have expired or were revoked.",
    "permissions": "Your ATS no longer lets the board read your job postings (a permission was removed).",
    "integration_disabled": "The integration with your ATS is disabled for this connection.",
    "account_inactive": "The connection to your ATS is no longer active.",
    "account_deleted": "The connection to your ATS was removed.",
}
UNKNOWN_PROBLEM = "The board cannot sync this connection."
# Applications that reached the employer's ATS (or most likely did): refusals and Embloy clicks are not.
DIGEST_OUTCOMES = frozenset({"submitted", "pending_confirmation"})
# Names listed per job; the rest are counted ("and 12 more"), keeping the queued message small.
DIGEST_NAMES_PER_JOB = 20


@dataclass(frozen=True)
class NotificationSettings:
    """Where the board emails an employer (None: nowhere) and whether they want the daily digest."""

    email: str | None = None
    new_applications_digest: bool = False
    updated_at: datetime | None = None


@dataclass(frozen=True)
class DigestRecipient:
    employer_id: str
    name: str
    email: str


class NotificationSettingsStore(Protocol):
    def get_notification_settings(self, employer_id: str) -> NotificationSettings | None:
        """The employer's settings (defaults when never set); None when there is no such employer."""
        ...

    def put_notification_settings(self, employer_id: str, settings: NotificationSettings) -> None:
        """NotFoundError when there is no such employer."""
        ...

    def digest_recipients(self) -> list[DigestRecipient]:
        """Employers with an address who want the daily digest."""
        ...


class EmployerApplications(Protocol):
    def submitted_between(self, employer_id: str, start: datetime, end: datetime) -> list[ApplicationRecord]:
        """The employer's application records with `start <= submitted_at < end`."""
        ...


def _employer_not_found(employer_id: str) -> NotFoundError:
    return NotFoundError(f"No employer {employer_id}.", code="employer_not_found")


class EmployerNotificationService:
    """Reads and changes an employer's notification settings (the console's "Email notifications")."""

    def __init__(self, store: NotificationSettingsStore, *, now: Clock = utcnow) -> None:
        self._store = store
        self._now = now

    def get(self, employer_id: str) -> NotificationSettings:
        settings = self._store.get_notification_settings(employer_id)
        if settings is None:
            raise _employer_not_found(employer_id)
        return settings

    def update(
        self, employer_id: str, *, email: str | None, new_applications_digest: bool
    ) -> NotificationSettings:
        """Replace the settings; no address means no email at all (the digest needs one)."""
        now = self._now()
        settings = NotificationSettings(
            email=email,
            new_applications_digest=new_applications_digest and email is not None,
            # Milliseconds, as stored: the answer to this PUT equals what a GET reads back.
            updated_at=now.replace(microsecond=now.microsecond // 1000 * 1000),
        )
        self._store.put_notification_settings(employer_id, settings)
        return settings


def long_time(at: datetime) -> str:
    """`10 March 2026, 12:00 UTC`: the day in words and the time with its zone."""
    moment = at.astimezone(UTC)
    return f"{long_date(moment)}, {moment:%H:%M} UTC"


def _account_name(state: AccountSyncState) -> str:
    provider = (state.provider or "ATS").replace("_", " ").title()
    return f"{provider} ({state.label})" if state.label else provider


class ConnectionAttentionNotifier:
    """Emails the employer when a linked account starts needing attention, then daily while it lasts.

    Called by the sync with the account's state before the state is written: `attention_notified_at` on
    the state remembers the last email and is cleared when the account recovers. Never fails the sync.
    """

    def __init__(
        self,
        settings: NotificationSettingsStore,
        outbox: EmailOutbox,
        *,
        console_url: str,
        reminder: timedelta = ATTENTION_REMINDER,
    ) -> None:
        self._settings = settings
        self._outbox = outbox
        self._console_url = console_url
        self._reminder = reminder

    def review(self, state: AccountSyncState, *, postings_closed: int, now: datetime) -> None:
        """Queue the email when one is due and record it on `state`; clear the record on recovery."""
        if not state.needs_attention:
            state.attention_notified_at = None
            return
        if state.attention_reason == "employer_not_registered" or not state.employer_id:
            return
        last = state.attention_notified_at
        # Postings leaving the board (the grace period is over) is news the same day too.
        if last is not None and now - last < self._reminder and not postings_closed:
            return
        try:
            settings = self._settings.get_notification_settings(state.employer_id)
            if settings is None or settings.email is None:
                return  # nobody to tell yet; the first run after an address is set tells them
            self._outbox.enqueue([self._email(state, settings.email, postings_closed, now)])
        except (AppError, ValueError) as exc:
            # The next run tries again: the state still says nobody was told. (ValueError: an email that
            # cannot be built from what StackOne said about the account must not fail the sync either.)
            logger.warning(
                "connection attention email not queued",
                extra={
                    "error_code": getattr(exc, "code", type(exc).__name__),
                    "account_id": state.account_id,
                },
            )
            return
        state.attention_notified_at = now
        logger.info(
            "connection attention email queued",
            extra={"account_id": state.account_id, "reason": state.attention_reason},
        )

    def _email(self, state: AccountSyncState, to: str, postings_closed: int, now: datetime) -> EmailRequested:
        account = _account_name(state)
        day = now.astimezone(UTC).date().isoformat()
        closing = ":closed" if postings_closed else ""
        deadline = state.grace_until if state.grace_until is not None and state.grace_until > now else None
        return EmailRequested(
            key=f"connection_attention:{state.account_id}:{day}{closing}",
            template=ATTENTION_TEMPLATE,
            to=to,
            subject=shortened(f"Action needed: your {account} connection to the job board", 200),
            context={
                "company": state.company or "",
                "account": account,
                "provider": (state.provider or "").replace("_", " ").title(),
                "label": state.label or "",
                "problem": ATTENTION_PROBLEMS.get(state.attention_reason or "", UNKNOWN_PROBLEM),
                "postings_closed": postings_closed,
                "postings_live": state.live_postings,
                "since": long_date(state.attention_since or state.last_finished_at or now),
                # When the postings leave the board unless the employer reconnects (UTC, said so).
                "postings_close_at": long_time(deadline) if deadline is not None else "",
                "reconnect_url": self._console_url,
            },
        )


@dataclass(frozen=True)
class _JobSummary:
    title: str
    count: int
    names: list[str]
    more: int


class ApplicationsDigestService:
    """Queues the daily digest of new applications for each employer who asked for it (and had any)."""

    def __init__(
        self,
        settings: NotificationSettingsStore,
        applications: EmployerApplications,
        outbox: EmailOutbox,
        *,
        console_url: str,
        now: Clock = utcnow,
    ) -> None:
        self._settings = settings
        self._applications = applications
        self._outbox = outbox
        self._console_url = console_url
        self._now = now

    def enqueue_previous_day(self) -> int:
        """Digests of yesterday (UTC); how many were queued."""
        return self.enqueue_day(self._now().astimezone(UTC).date() - timedelta(days=1))

    def enqueue_day(self, day: date) -> int:
        start = datetime.combine(day, time(), tzinfo=UTC)
        end = start + timedelta(days=1)
        messages: list[EmailRequested] = []
        for recipient in self._settings.digest_recipients():
            records = [
                record
                for record in self._applications.submitted_between(recipient.employer_id, start, end)
                if record.channel == "native" and record.outcome in DIGEST_OUTCOMES
            ]
            if records:
                messages.append(self._email(recipient, day, records))
        if messages:
            self._outbox.enqueue(messages)
        logger.info("applications digests queued", extra={"day": day.isoformat(), "queued": len(messages)})
        return len(messages)

    def _email(
        self, recipient: DigestRecipient, day: date, records: Sequence[ApplicationRecord]
    ) -> EmailRequested:
        jobs = _summaries(records)
        total = len(records)
        noun = "application" if total == 1 else "applications"
        return EmailRequested(
            key=f"employer_applications_digest:{recipient.employer_id}:{day.isoformat()}",
            template=DIGEST_TEMPLATE,
            to=recipient.email,
            subject=f"{total} new {noun} on {long_date(datetime.combine(day, time()))}",
            context={
                "employer_name": recipient.name,
                "day": long_date(datetime.combine(day, time())),
                "total": total,
                "jobs": [job.__dict__ for job in jobs],
                "console_url": self._console_url,
            },
        )


def _summaries(records: Sequence[ApplicationRecord]) -> list[_JobSummary]:
    """One entry per job, most applications first, candidates in the order they applied."""
    by_job: dict[str, list[ApplicationRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.submitted_at):
        by_job[record.job_id].append(record)
    summaries = []
    for entries in by_job.values():
        names = [entry.candidate_name or "A candidate" for entry in entries]
        summaries.append(
            _JobSummary(
                title=entries[0].job_title or "A job",
                count=len(entries),
                names=names[:DIGEST_NAMES_PER_JOB],
                more=max(0, len(names) - DIGEST_NAMES_PER_JOB),
            )
        )
    return sorted(summaries, key=lambda job: (-job.count, job.title))
