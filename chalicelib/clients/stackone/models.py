"""StackOne platform models the product reads and sends (tolerant: unknown fields are ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StatusReason(_Tolerant):
    code: str | None = None
    description: str | None = None
    timestamp: datetime | None = None


class LinkedAccount(_Tolerant):
    id: str
    provider: str
    provider_name: str | None = None
    status: str  # open enum: active, inactive, suspended, archived, expired, error, ...
    status_reasons: list[StatusReason] | None = None
    origin_owner_id: str
    origin_owner_name: str
    origin_username: str | None = None
    label: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ConnectSessionCreate(_Tolerant):
    """Body of POST /connect_sessions; the service fills the owner from the authenticated employer."""

    origin_owner_id: str
    origin_owner_name: str
    categories: list[str] = Field(default_factory=lambda: ["ats"])
    provider: str | None = None
    account_id: str | None = None
    expires_in: int | None = None
    label: str | None = None
    multiple: bool | None = None


class ConnectSession(_Tolerant):
    id: int | str | None = None
    token: str
    auth_link_url: str
    origin_owner_id: str | None = None
    created_at: datetime | None = None
    account_id: str | None = None


class CreatedApplication(_Tolerant):
    id: str
    remote_id: str | None = None


class JobPostingsPage(_Tolerant):
    data: list[dict[str, Any]] = Field(default_factory=list)
    next: str | None = None
