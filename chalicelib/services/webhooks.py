"""StackOne webhooks: verify the signature over the raw body, reject replays, then act on the event."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.config import JsonDict

from chalicelib.clients.stackone.errors import StackOneNotFoundError
from chalicelib.clients.stackone.models import IdText
from chalicelib.clock import Clock, utcnow
from chalicelib.errors import InvalidRequestError, PayloadTooLargeError, UnauthenticatedError
from chalicelib.json_input import load_json_object
from chalicelib.models.employer_api import ACCOUNT_ID_PATTERN
from chalicelib.services.sync import SyncService

MAX_BODY_BYTES = 256 * 1024
POSTING_REFRESH_EVENTS = {"ats_job_postings.created", "ats_job_postings.updated"}
# StackOne record ids (UUIDs, numbers, base64url strings): they become URL path segments and item keys,
# so anything else ("../accounts", "a/b", "?x") is refused before any use.
RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_=.:-]{0,255}$"
_ID_PATTERNS = {"account_id": re.compile(ACCOUNT_ID_PATTERN), "record_id": re.compile(RECORD_ID_PATTERN)}


class ReplayGuard(Protocol):
    def claim(self, digest: str, *, now: datetime, expires_at: datetime) -> bool:
        """True the first time `digest` is claimed (until it expires), False for a replay."""
        ...

    def release(self, digest: str) -> None: ...


# The document states what `WebhookService._timestamp` requires: `sent_at` or `event_date`, with a zone.
_TIMESTAMP_REQUIRED: JsonDict = {
    "anyOf": [
        {"required": [name], "properties": {name: {"type": "string", "format": "date-time"}}}
        for name in ("sent_at", "event_date")
    ]
}


class WebhookEvent(BaseModel):
    """StackOne's webhook envelope (only what the board needs)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_TIMESTAMP_REQUIRED)

    event: str
    # Text also when StackOne sends a number; the document states the id patterns.
    account_id: IdText | None = Field(None, json_schema_extra={"pattern": ACCOUNT_ID_PATTERN})
    record_id: IdText | None = Field(None, json_schema_extra={"pattern": RECORD_ID_PATTERN})
    record_type: str | None = None
    event_date: datetime | None = None
    sent_at: datetime | None = None


def sign(secret: str, raw_body: bytes) -> str:
    """base64url(HMAC-SHA256(raw body, secret)) without padding (what StackOne sends)."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _normalise(signature: str) -> bytes:
    # Tolerate padding and the standard alphabet: both encode the same digest.
    return signature.strip().rstrip("=").replace("+", "-").replace("/", "_").encode()


class WebhookService:
    """Handles one delivery; returns what it did ("refreshed:upserted", "ignored", "duplicate", ...)."""

    def __init__(
        self,
        secret: Callable[[], str],
        sync: SyncService,
        replays: ReplayGuard,
        *,
        tolerance_seconds: int = 300,
        clock: Clock = utcnow,
    ) -> None:
        self._secret = secret
        self._sync = sync
        self._replays = replays
        self._tolerance = timedelta(seconds=tolerance_seconds)
        self._clock = clock

    @property
    def replay_window(self) -> timedelta:
        """How long a delivery's digest is remembered: past the tolerance on both sides of its timestamp.

        A delivery is accepted only while |now - timestamp| <= tolerance, and its claim is taken at the
        earliest at timestamp - tolerance, so a claim kept 2 x tolerance outlives every moment at which a
        replay of it could still pass the freshness check.
        """
        return 2 * self._tolerance

    def handle(self, raw_body: bytes, signature: str | None) -> str:
        if len(raw_body) > MAX_BODY_BYTES:
            raise PayloadTooLargeError()
        self._verify(raw_body, signature)
        event = self._parse(raw_body)
        now = self._clock()
        moment = self._timestamp(event)
        if abs(now - moment) > self._tolerance:
            raise UnauthenticatedError("The webhook is too old or from the future.", code="webhook_expired")
        digest = hashlib.sha256(raw_body).hexdigest()
        if not self._replays.claim(digest, now=now, expires_at=now + self.replay_window):
            return "duplicate"
        try:
            return self._dispatch(event, digest)
        except Exception:
            self._replays.release(digest)  # let StackOne's retry of this delivery do the work
            raise

    def _verify(self, raw_body: bytes, signature: str | None) -> None:
        if not signature:
            raise UnauthenticatedError("Missing webhook signature.", code="invalid_signature")
        expected = sign(self._secret(), raw_body).encode()
        if not hmac.compare_digest(expected, _normalise(signature)):
            raise UnauthenticatedError("Invalid webhook signature.", code="invalid_signature")

    @staticmethod
    def _parse(raw_body: bytes) -> WebhookEvent:
        document = load_json_object(raw_body, max_bytes=MAX_BODY_BYTES)  # invalid_json (400)
        try:
            event = WebhookEvent.model_validate(document)
        except ValidationError as exc:
            raise InvalidRequestError(
                "The webhook body is not a StackOne event.", code="malformed_webhook"
            ) from exc
        for field, pattern in _ID_PATTERNS.items():
            value = getattr(event, field)
            if value is not None and not pattern.fullmatch(value):
                raise InvalidRequestError(
                    f"The event's {field} is not a StackOne id.",
                    code="malformed_webhook",
                    fields={field: "must be a StackOne id (letters, digits, '-' and '_')"},
                )
        return event

    @staticmethod
    def _timestamp(event: WebhookEvent) -> datetime:
        """`sent_at`, else `event_date`: required, with a time zone (else freshness means nothing)."""
        moment = event.sent_at or event.event_date
        if moment is None:
            raise InvalidRequestError(
                "The event has no sent_at or event_date.",
                code="webhook_timestamp_required",
                fields={"sent_at": "required"},
            )
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidRequestError(
                "The event's timestamp has no time zone.",
                code="webhook_timestamp_required",
                fields={"sent_at": "must include a time zone (e.g. Z)"},
            )
        return moment

    def _dispatch(self, event: WebhookEvent, digest: str) -> str:
        name = event.event
        if name in POSTING_REFRESH_EVENTS or name == "ats_job_postings.deleted":
            account_id, record_id = (
                self._require(event.account_id, "account_id"),
                self._require(event.record_id, "record_id"),
            )
            if name == "ats_job_postings.deleted":
                return f"closed:{self._sync.close_posting(account_id, record_id)}"
            try:
                return f"refreshed:{self._sync.refresh_posting(account_id, record_id)}"
            except StackOneNotFoundError:
                return "ignored"  # an account StackOne no longer knows
        if name in ("account.created", "account.updated"):
            account_id = self._require(event.account_id, "account_id")
            self._sync.request_sync(account_id, reason="webhook", mode="full")
            return "sync_requested"
        if name == "account.deleted":
            account_id = self._require(event.account_id, "account_id")
            self._sync.close_account(account_id, f"webhook-{digest[:16]}")
            return "account_closed"
        return "ignored"

    @staticmethod
    def _require(value: str | None, field: str) -> str:
        if not value:
            raise InvalidRequestError(
                f"The event has no {field}.", code="malformed_webhook", fields={field: "required"}
            )
        return value
