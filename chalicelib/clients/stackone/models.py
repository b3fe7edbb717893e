"""StackOne platform models the product reads and sends (tolerant: unknown fields are ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _id_text(value: Any) -> Any:
    """Ids are strings to the board; StackOne's specs type some as numbers (with fractions, even)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 48213.0 is the id 48213, as the ATS knows it
    if isinstance(value, int | float):
        return str(value)
    return value


# An id as the board stores and compares it: a string, also when StackOne sends a number.
IdText = Annotated[str, BeforeValidator(_id_text)]


def id_text(value: Any) -> str | None:
    """An id read from a raw StackOne item as text (a number becomes its digits); None if it is none."""
    text = _id_text(value)
    return (text.strip() or None) if isinstance(text, str) else None


class StatusReason(_Tolerant):
    code: str | None = None
    description: str | None = None
    timestamp: datetime | None = None


class LinkedAccount(_Tolerant):
    id: IdText
    provider: str
    provider_name: str | None = None
    status: str  # open enum: active, inactive, suspended, archived, expired, error, ...
    status_reasons: list[StatusReason] | None = None
    origin_owner_id: IdText
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
    # The platform spec types this as `number`: integers, but fractions are valid too. Never used.
    id: int | float | str | None = None
    token: str
    auth_link_url: str
    origin_owner_id: IdText | None = None
    created_at: datetime | None = None  # StackOne's clock: never used for the session's expiry
    account_id: IdText | None = None


class CreatedApplication(_Tolerant):
    """`data` of a create's 201. The spec allows `id: null`: created, but StackOne does not say its id."""

    id: IdText | None = None
    remote_id: IdText | None = None


class ListPage(_Tolerant):
    """One page of a unified list endpoint. Items stay raw: each is read (or skipped) on its own, so one
    odd item never fails its page.

    `data` is required and must be a list, as the spec says: a page without it (`{}`, `{"data": null}`)
    is an answer in an unknown shape, never an empty page, which a full sweep would read as "every
    posting is gone".
    """

    data: list[Any]
    next: IdText | None = None


class JobPostingsPage(ListPage):
    pass
