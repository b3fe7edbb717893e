"""StackOne platform models the product reads and sends (tolerant: unknown fields are ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


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


def _id_text(value: Any) -> Any:
    """Ids are strings to the board; StackOne's specs type some as numbers (with fractions, even)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


class ConnectSession(_Tolerant):
    # The platform spec types this as `number`: integers, but fractions are valid too. Never used.
    id: int | float | str | None = None
    token: str
    auth_link_url: str
    origin_owner_id: str | None = None
    created_at: datetime | None = None
    account_id: str | None = None


class CreatedApplication(_Tolerant):
    """`data` of a create's 201. The spec allows `id: null`: created, but StackOne does not say its id."""

    id: str | None = None
    remote_id: str | None = None

    _ids = field_validator("id", "remote_id", mode="before")(_id_text)


class ListPage(_Tolerant):
    """One page of a unified list endpoint. Items stay raw: each is read (or skipped) on its own, so one
    odd item never fails its page."""

    data: list[Any] = Field(default_factory=list)
    next: str | None = None

    _next = field_validator("next", mode="before")(_id_text)

    @field_validator("data", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class JobPostingsPage(ListPage):
    pass
