"""The board's record of an application it delivered (stored model; the API shapes it separately)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

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
