"""The board's record of an application it delivered (stored model; the API shapes it separately)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["native", "embloy"]
# submitted: the ATS accepted it; duplicate: refused as a repeat; failed: not delivered (see error_code);
# pending_confirmation: StackOne timed out, it may exist; redirected: the candidate was sent to Embloy.
Outcome = Literal["submitted", "duplicate", "failed", "pending_confirmation", "redirected"]


class ApplicationRecord(BaseModel):
    """Stored at PK `EMPLOYER#{employer_id}`, SK `APPLICATION#{submitted_at}#{record_id}`."""

    model_config = ConfigDict(extra="ignore")

    record_id: str
    employer_id: str
    job_id: str
    account_id: str
    posting_id: str
    job_title: str | None = None
    provider: str | None = None
    channel: Channel
    outcome: Outcome
    error_code: str | None = None
    candidate_name: str | None = None  # personal data: deleted with the record at expires_at
    candidate_email: str | None = None
    submitted_at: datetime
    stackone_application_id: str | None = None
    # Read back from the ATS (GET /applications?refresh=true); kept when a refresh fails.
    application_status: str | None = None
    application_stage: str | None = None
    rejected: bool | None = None
    hired: bool | None = None
    status_checked_at: datetime | None = None
    expires_at: int  # epoch seconds (DynamoDB TTL)


class ApplicationsFilter(BaseModel):
    """The filters of the applications list and its CSV export."""

    model_config = ConfigDict(extra="forbid")

    job_id: str | None = Field(None, min_length=1, max_length=512)
    status: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Only applications with this delivery outcome (`submitted`, `pending_confirmation`, "
        "`failed`, `duplicate`, `redirected` = an Embloy click) or this ATS status as last read back "
        "(`new`, `interview`, `rejected`, `hired`, ...); exact match.",
    )


class ApplicationsQuery(ApplicationsFilter):
    """Query string of GET /applications."""

    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=2048)
    refresh: bool = False


class ApplicationsExportQuery(ApplicationsFilter):
    """Query string of GET /applications.csv (every matching application, newest first)."""


class ApplicationStatusOut(BaseModel):
    application_status: str | None
    stage: str | None
    rejected: bool | None
    hired: bool | None
    checked_at: datetime | None
    stale: bool  # the last refresh from the ATS failed; this is the last known status


class ApplicationOut(BaseModel):
    """One application as the employer sees it."""

    id: str
    job_id: str
    job_title: str | None
    account_id: str
    provider: str | None
    channel: Channel
    outcome: Outcome
    error_code: str | None
    candidate_name: str | None
    candidate_email: str | None
    submitted_at: datetime
    stackone_application_id: str | None
    status: ApplicationStatusOut

    @classmethod
    def from_record(cls, record: ApplicationRecord, *, stale: bool) -> ApplicationOut:
        return cls(
            id=record.record_id,
            job_id=record.job_id,
            job_title=record.job_title,
            account_id=record.account_id,
            provider=record.provider,
            channel=record.channel,
            outcome=record.outcome,
            error_code=record.error_code,
            candidate_name=record.candidate_name,
            candidate_email=record.candidate_email,
            submitted_at=record.submitted_at,
            stackone_application_id=record.stackone_application_id,
            status=ApplicationStatusOut(
                application_status=record.application_status,
                stage=record.application_stage,
                rejected=record.rejected,
                hired=record.hired,
                checked_at=record.status_checked_at,
                stale=stale,
            ),
        )
