"""Employers' view of the applications the board delivered to them: list, page, refresh, count."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from chalicelib.clients.stackone.errors import StackOneError
from chalicelib.clients.stackone.models import id_text
from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.errors import NotFoundError
from chalicelib.models.applications import ApplicationRecord
from chalicelib.models.posting import Posting, parse_job_id
from chalicelib.observability import logger
from chalicelib.services.signed_cursor import SignedCursor, invalid_cursor

# What "received" means for the sync-health view: delivered to the ATS, or possibly delivered.
RECEIVED_OUTCOMES = ("submitted", "pending_confirmation")


class ApplicationRecords(Protocol):
    def list_for_employer(
        self,
        employer_id: str,
        *,
        job_id: str | None,
        limit: int,
        start_key: dict[str, Any] | None,
        status: str | None = None,
    ) -> tuple[list[ApplicationRecord], dict[str, Any] | None]: ...
    def update_status(self, record: ApplicationRecord) -> None: ...
    def outcomes(self, employer_id: str, *, job_id: str | None = None) -> list[tuple[str, str, str]]: ...


class EmployerPostings(Protocol):
    def get_posting(self, account_id: str, posting_id: str) -> Posting | None: ...


class ApplicationReader(Protocol):
    def get_application(self, account_id: str, application_id: str) -> dict[str, Any]: ...
    def find_application(
        self, account_id: str, *, email: str, created_after: str
    ) -> dict[str, Any] | None: ...


# How far before a record's submission its application may have been created (clock skew).
_RECONCILE_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class ApplicationRecordsPage:
    records: list[ApplicationRecord]
    next_cursor: str | None
    stale_ids: frozenset[str]  # records whose refresh from StackOne failed (last known status kept)


class ApplicationsCursorCodec:
    """The applications list's cursors: the DynamoDB position, signed and bound to employer and filter.

    A cursor altered by hand, or used by another employer or with another job filter, is refused (400).
    Even a forged one could only move within the caller's own partition, because every query is keyed on
    the caller's employer id.
    """

    def __init__(self, key: bytes) -> None:
        self._signed = SignedCursor(key, purpose="applications-cursor")

    def encode(
        self, employer_id: str, job_id: str | None, position: dict[str, Any], status: str | None = None
    ) -> str:
        return self._signed.encode(position, context=_context(employer_id, job_id, status))

    def decode(
        self, employer_id: str, job_id: str | None, cursor: str, status: str | None = None
    ) -> dict[str, Any]:
        position = self._signed.decode(cursor, context=_context(employer_id, job_id, status))
        if not isinstance(position, dict) or not all(isinstance(v, str) for v in position.values()):
            raise invalid_cursor()
        expected = f"JOBAPPS#{job_id}" if job_id else f"EMPLOYER#{employer_id}"
        if position.get("GSI1PK" if job_id else "PK") != expected:
            raise invalid_cursor()
        return position


def _context(employer_id: str, job_id: str | None, status: str | None) -> str:
    context = f"{employer_id}\n{job_id or ''}"
    return f"{context}\n{status}" if status is not None else context


# CSV export: the columns, and the cap on rows (the response must fit Lambda's 6 MB).
CSV_COLUMNS = (
    "submitted_at",
    "job_title",
    "job_id",
    "candidate_name",
    "candidate_email",
    "source",
    "outcome",
    "ats_status",
    "ats_stage",
    "account_id",
    "application_id",
)
CSV_MAX_ROWS = 5000
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such cells are
# prefixed with an apostrophe, which makes them plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """One CSV cell as text a spreadsheet shows and never evaluates."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def applications_csv(records: list[ApplicationRecord]) -> str:
    """The records as CSV (RFC 4180, CRLF line ends, a header row); times in UTC with `Z`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow(
            [
                csv_cell(value)
                for value in (
                    isoformat(record.submitted_at),
                    record.job_title,
                    record.job_id,
                    record.candidate_name,
                    record.candidate_email,
                    record.channel,
                    record.outcome,
                    record.application_status,
                    record.application_stage,
                    record.account_id,
                    record.record_id,
                )
            ]
        )
    return buffer.getvalue()


def status_fields(application: dict[str, Any]) -> dict[str, Any]:
    """The status fields the board shows, from StackOne's Application (tolerant of missing parts)."""
    status = application.get("application_status") or {}
    value = status.get("value") if isinstance(status, dict) else None
    if (
        value in (None, "unmapped_value")
        and isinstance(status, dict)
        and status.get("source_value") is not None
    ):
        value = str(status["source_value"])
    stage = application.get("application_stage") or {}
    stage_name = stage.get("name") if isinstance(stage, dict) else None
    return {
        "application_status": value,
        "application_stage": stage_name,
        "rejected": value == "rejected" or bool(application.get("rejected_at")),
        "hired": value == "hired",
    }


class ApplicationsService:
    """Lists an employer's own application records (newest first), refreshing native ones on request."""

    def __init__(
        self,
        records: ApplicationRecords,
        stackone: ApplicationReader,
        cursors: ApplicationsCursorCodec,
        *,
        postings: EmployerPostings | None = None,
        refresh_budget_seconds: float = 5.0,
        now: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._records = records
        self._stackone = stackone
        self._cursors = cursors
        self._postings = postings
        self._refresh_budget = refresh_budget_seconds
        self._now = now
        self._monotonic = monotonic

    def page(
        self,
        employer_id: str,
        *,
        job_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        refresh: bool = False,
        status: str | None = None,
    ) -> ApplicationRecordsPage:
        start = self._cursors.decode(employer_id, job_id, cursor, status) if cursor else None
        records, last_key = self._records.list_for_employer(
            employer_id, job_id=job_id, limit=limit, start_key=start, status=status
        )
        # Defence in depth: the query is keyed on the employer, and nothing else may leave this method.
        records = [record for record in records if record.employer_id == employer_id]
        stale = self._refresh(records) if refresh else frozenset()
        next_cursor = self._cursors.encode(employer_id, job_id, last_key, status) if last_key else None
        return ApplicationRecordsPage(records, next_cursor, stale)

    def export(
        self, employer_id: str, *, job_id: str | None = None, status: str | None = None
    ) -> list[ApplicationRecord]:
        """Every matching record of the employer, newest first (at most `CSV_MAX_ROWS`)."""
        records: list[ApplicationRecord] = []
        start: dict[str, Any] | None = None
        while len(records) < CSV_MAX_ROWS:
            page, start = self._records.list_for_employer(
                employer_id,
                job_id=job_id,
                limit=min(100, CSV_MAX_ROWS - len(records)),
                start_key=start,
                status=status,
            )
            records.extend(record for record in page if record.employer_id == employer_id)
            if not start:
                break
        return records

    def _refresh(self, records: list[ApplicationRecord]) -> frozenset[str]:
        """Read each native application's status back from StackOne; failures keep the last known one."""
        deadline = self._monotonic() + self._refresh_budget
        stale: set[str] = set()
        for index, record in enumerate(records):
            unknown_id = record.error_code == "stackone_id_unknown" and record.outcome == "submitted"
            if record.channel != "native" or not (record.stackone_application_id or unknown_id):
                continue
            if self._monotonic() > deadline:
                stale.add(record.record_id)
                continue
            try:
                application = self._read_back(record)
            except StackOneError as exc:
                logger.warning("application status refresh failed", extra={"error_code": exc.code})
                stale.add(record.record_id)
                continue
            if application is None:  # not (yet) matched to one ATS application
                stale.add(record.record_id)
                continue
            fields: dict[str, Any] = {**status_fields(application), "status_checked_at": self._now()}
            # Ids are stored as text whatever StackOne's JSON type: a numeric id left unstored would
            # send every later refresh through the reconcile lookup again.
            found_id = id_text(application.get("id"))
            if not record.stackone_application_id and found_id is not None:
                fields["stackone_application_id"] = found_id
            updated = record.model_copy(update=fields)
            self._records.update_status(updated)
            records[index] = updated
        return frozenset(stale)

    def _read_back(self, record: ApplicationRecord) -> dict[str, Any] | None:
        """StackOne's application of a record; one whose create named no id is found by candidate email
        among the account's applications created since its submission (reconciled once found)."""
        if record.stackone_application_id:
            return self._stackone.get_application(record.account_id, record.stackone_application_id)
        if not record.candidate_email:
            return None
        return self._stackone.find_application(
            record.account_id,
            email=record.candidate_email,
            created_after=isoformat(record.submitted_at - _RECONCILE_SLACK),
        )

    def counts(self, employer_id: str, *, job_id: str | None = None) -> dict[str, Any]:
        """Outcome counts for the employer (or one of its jobs), in total and per linked account.

        A job that does not exist, or belongs to another employer, is NotFoundError (not zeros, which
        would read as "no applications yet" and tell a typo apart from nothing).
        """
        if job_id is not None:
            self._require_own_job(employer_id, job_id)
        rows = self._records.outcomes(employer_id, job_id=job_id)

        def summary(outcomes: Counter[str]) -> dict[str, int]:
            return {
                "received": sum(outcomes[o] for o in RECEIVED_OUTCOMES),
                "submitted": outcomes["submitted"],
                "pending_confirmation": outcomes["pending_confirmation"],
                "redirected_to_embloy": outcomes["redirected"],
                "failed": outcomes["failed"],
                "duplicate": outcomes["duplicate"],
            }

        by_account: dict[str, Counter[str]] = {}
        for account_id, _, outcome in rows:
            by_account.setdefault(account_id, Counter())[outcome] += 1
        return {
            **summary(Counter(outcome for _, _, outcome in rows)),
            "accounts": {account: summary(counter) for account, counter in sorted(by_account.items())},
        }

    def _require_own_job(self, employer_id: str, job_id: str) -> None:
        if self._postings is None:
            return
        posting = self._postings.get_posting(*parse_job_id(job_id))  # 404 for what is not a board id
        if posting is None or posting.employer_id != employer_id:
            raise NotFoundError("You have no job with this id.", code="job_not_found")
