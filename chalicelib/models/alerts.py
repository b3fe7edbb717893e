"""Job alerts: a stored board search that emails its new postings (shared by the alert API, the digest
schedule and the email-event handler)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.services.board.query import BoardQuery

Frequency = Literal["instant", "daily", "weekly"]
AlertStatus = Literal["pending", "active", "paused"]
# The board query parameters a stored search keeps (`sort`, `limit` and `cursor` are not part of it).
SEARCH_PARAMETERS = (
    "q", "location", "remote", "employment_type", "company", "provider", "department",
    "pay_min", "pay_currency", "shows_pay", "posted_within", "near", "radius_km",
)  # fmt: skip
# Of those, the ones that take one value (as on `GET /jobs`).
SINGLE_SEARCH_PARAMETERS = ("q", "pay_min", "pay_currency", "shows_pay", "posted_within", "near", "radius_km")


class AlertSearch(BaseModel):
    """The search of an alert as query-string parameters, canonical (sorted, no empties)."""

    model_config = ConfigDict(frozen=True)

    params: dict[str, list[str]] = Field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> AlertSearch:
        """Validated as `GET /jobs` validates them (InvalidRequestError otherwise)."""
        kept = {
            name: sorted({value.strip() for value in params.get(name, ()) if value.strip()})
            for name in SEARCH_PARAMETERS
        }
        search = cls(params={name: values for name, values in kept.items() if values})
        search.board_query()  # the same validation as the board's
        return search

    def board_query(self) -> BoardQuery:
        """The `GET /jobs` query this alert stands for (newest first)."""
        query = BoardQuery.from_params(self.params)
        query.plan()
        return query


class Alert(BaseModel):
    """One alert of one address. `watermark` is where the last digest left off on the board's
    first-seen order: the next digest holds only postings first seen after it. It is an ISO-8601 UTC
    timestamp string (`chalicelib.clock.isoformat`, e.g. `2026-12-07T09:00:00.000Z`) on the scale of
    postings' `first_seen_at`; compare them as datetimes (`datetime.fromisoformat`), since a posting's
    serialised `first_seen_at` may carry other precision. Confirming an alert, and resuming a paused
    one, sets it to that moment."""

    model_config = ConfigDict(extra="ignore")

    alert_id: str
    email: str
    email_hash: str  # sha256 of the lower-cased address: the key of per-address caps and suppressions
    search: AlertSearch
    frequency: Frequency
    status: AlertStatus = "pending"
    created_at: datetime
    confirmed_at: datetime | None = None
    last_sent_at: datetime | None = None
    watermark: str = ""
    expires_at: int | None = None  # epoch seconds (DynamoDB TTL): unconfirmed alerts only


class AlertStore(Protocol):
    def put(self, alert: Alert) -> None: ...
    def get(self, alert_id: str) -> Alert | None: ...
    def delete(self, alert_id: str) -> None:
        """Delete the alert, and the address with its last alert."""
        ...

    def count_for_address(self, email_hash: str) -> int: ...
    def delete_all_for_address(self, email_hash: str) -> int:
        """Every alert of an address (a bounce or complaint); how many were deleted."""
        ...

    def due(self, frequency: Frequency, *, sent_before: datetime) -> Iterator[Alert]:
        """Active alerts of `frequency` whose last digest is older than `sent_before` (or never sent)."""
        ...

    def advance(self, alert_id: str, *, watermark: str, sent_at: datetime) -> None:
        """Record a digest: the new watermark and when it was sent."""
        ...
