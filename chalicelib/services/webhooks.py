"""StackOne webhooks: verify the signature over the raw body, reject replays, then act on the event."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.clients.stackone.errors import StackOneNotFoundError
from chalicelib.clock import Clock, utcnow
from chalicelib.errors import InvalidRequestError, PayloadTooLargeError, UnauthenticatedError
from chalicelib.services.sync import SyncService

MAX_BODY_BYTES = 256 * 1024
POSTING_REFRESH_EVENTS = {"ats_job_postings.created", "ats_job_postings.updated"}


class ReplayGuard(Protocol):
    def claim(self, digest: str, *, now: datetime, expires_at: datetime) -> bool:
        """True the first time `digest` is claimed (until it expires), False for a replay."""
        ...

    def release(self, digest: str) -> None: ...


class WebhookEvent(BaseModel):
    """StackOne's webhook envelope (only what the board needs)."""

    model_config = ConfigDict(extra="ignore")

    event: str
    account_id: str | None = None
    record_id: str | None = None
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

    def handle(self, raw_body: bytes, signature: str | None) -> str:
        if len(raw_body) > MAX_BODY_BYTES:
            raise PayloadTooLargeError()
        self._verify(raw_body, signature)
        event = self._parse(raw_body)
        now = self._clock()
        moment = event.sent_at or event.event_date
        if moment is not None and abs(now - moment) > self._tolerance:
            raise UnauthenticatedError("The webhook is too old or from the future.", code="webhook_expired")
        digest = hashlib.sha256(raw_body).hexdigest()
        if not self._replays.claim(digest, now=now, expires_at=now + 2 * self._tolerance):
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
        try:
            document: Any = json.loads(raw_body)
            if not isinstance(document, dict):
                raise ValueError("not an object")
            return WebhookEvent.model_validate(document)
        except (ValueError, ValidationError) as exc:
            raise InvalidRequestError(
                "The webhook body is not a StackOne event.", code="malformed_webhook"
            ) from exc

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
