"""Per-account sync state, written by the sync worker and shown to employers in GET /accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

SyncOutcome = Literal["running", "succeeded", "partial", "failed", "needs_attention"]


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
    consecutive_failures: int = 0
    # StackOne's status of the linked account as last seen (active, inactive, ..., or "deleted").
    account_status: str | None = None
    last_mode: str | None = None  # "full", "delta" or "close" (the account's postings were closed)
    skipped: int = 0  # postings of the last run that could not be mapped
