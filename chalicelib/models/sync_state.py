"""Per-account sync state, written by the sync worker and shown to employers in GET /accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SyncOutcome = Literal["running", "succeeded", "partial", "failed", "needs_attention"]


class SkippedPosting(BaseModel):
    """A posting the last run could not map or store: its StackOne id and a short reason (no content)."""

    posting_id: str
    reason: str


class DepartmentsCache(BaseModel):
    """Job id -> department name of one account (PK=ACCOUNT#{id}, SK=DEPARTMENTS), with its hash."""

    model_config = ConfigDict(extra="ignore")

    content_hash: str
    by_job: dict[str, str] = Field(default_factory=dict)
    refreshed_at: datetime | None = None


class AccountSyncState(BaseModel):
    """Stored at PK=ACCOUNT#{account_id}, SK=SYNC."""

    model_config = ConfigDict(extra="ignore")

    account_id: str
    employer_id: str | None = None
    provider: str | None = None
    company: str | None = None
    # Start of the last complete listing; the next delta asks for updated_after = watermark - overlap.
    watermark: datetime | None = None
    last_full_sweep_at: datetime | None = None
    runs_since_full_sweep: int = 0
    last_run_id: str | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_outcome: SyncOutcome | None = None
    upserted: int = 0
    unchanged: int = 0
    closed: int = 0
    live_postings: int = 0
    last_error: str | None = None  # a short code + message, never a secret or raw upstream body
    needs_attention: bool = False
    attention_reason: str | None = None
    # When the employer was last emailed about it (at most daily); cleared when the account recovers.
    attention_notified_at: datetime | None = None
    # A broken credential (401/403/412, or StackOne's expired/error/inactive status) first seen at
    # `attention_since`: the postings stay on the board until `grace_until`, then close. Both are cleared
    # when a sync succeeds again.
    attention_since: datetime | None = None
    grace_until: datetime | None = None
    label: str | None = None  # the linked account's label in StackOne (named in the employer's emails)
    consecutive_failures: int = 0
    # StackOne's status of the linked account as last seen (active, inactive, ..., or "deleted").
    account_status: str | None = None
    last_mode: str | None = None  # "full", "delta" or "close" (the account's postings were closed)
    skipped: int = 0  # postings of the last run that could not be mapped or stored
    # The first few of them by id, with why (the rest of the account synced without them).
    skipped_postings: list[SkippedPosting] = Field(default_factory=list)
    # Why the last listing stopped early (a repeated cursor, the page cap), if it did; closes nothing.
    paging_issue: str | None = None
    # Location names of the last run's written postings that the gazetteer could not place (the
    # distance filter cannot find those postings), and the first few distinct names.
    unplaced_locations: int = 0
    unplaced_location_names: list[str] = Field(default_factory=list)
    # Start of the last complete existence sweep (or full sweep): when deletions were last looked for.
    last_existence_sweep_at: datetime | None = None
