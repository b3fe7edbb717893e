"""SQS message bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


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


class EmailRequested(BaseModel):
    """Send one email: the template, its recipient and context. `key` makes sending idempotent: a
    retried message with the same key (a digest, a confirmation) is never sent twice."""

    model_config = ConfigDict(extra="ignore")

    key: str = Field(min_length=1, max_length=200)
    template: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    to: str = Field(min_length=3, max_length=254)
    subject: str = Field(min_length=1, max_length=200)
    context: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)


class EmailOutbox(Protocol):
    """Where emails to send are queued (the SQS email queue); returns how many were queued."""

    def enqueue(self, messages: Sequence[EmailRequested]) -> int: ...
