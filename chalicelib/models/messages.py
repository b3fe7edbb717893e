"""SQS message bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict


class SyncRequested(BaseModel):
    """Sync one linked account. `run_id` + `account_id` key the worker's idempotency record."""

    model_config = ConfigDict(extra="ignore")

    account_id: str
    run_id: str
    mode: Literal["auto", "full", "delta"] = "auto"
    reason: Literal["schedule", "employer", "webhook", "operator"] = "schedule"


class SyncPublisher(Protocol):
    """Where sync requests are sent (the SQS sync queue); returns how many were sent."""

    def publish(self, messages: Sequence[SyncRequested]) -> int: ...


class SnapshotRequested(BaseModel):
    """Build a board snapshot covering changes up to `requested_at` (skipped if one already does)."""

    model_config = ConfigDict(extra="ignore")

    requested_at: str  # ISO 8601 UTC, as `changed_at` values are written
    reason: Literal["sync", "operator"] = "sync"
