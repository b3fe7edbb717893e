"""Job alerts: sign-up with double opt-in, confirmation, the manage page's changes, unsubscribe.

Rules a caller can rely on:
- **Same answer for every sign-up.** `subscribe` returns nothing whatever the address's state; only the
  per-client rate limit (an IP sending too many) answers differently (429), and it says nothing about
  any address. A sign-up over the per-address rate limit, over the cap (`ALERTS_PER_ADDRESS_MAX`), or
  for a search the address already has active or paused changes nothing and sends nothing. The same
  search still unconfirmed sends its confirmation again (the address limit bounds how often).
- **Double opt-in.** A new alert is `pending` with `expires_at` = created + 7 days (DynamoDB TTL), and
  one `alert_confirm` email carries its confirm link. Confirming makes it `active` with its watermark at
  the confirmation time, so the first digest holds only postings first seen after it.
- **Tokens.** Every page acts on the one alert its signed, purpose-scoped token names (`AlertLinks`); a
  bad, expired or foreign token, or one for an alert that is gone, is the same 404 `alert_link_invalid`.
- **Resume** restarts the watermark at the resume time: postings that appeared while paused are not sent.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Protocol
from urllib.parse import urlencode

from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.errors import ThrottledError
from chalicelib.models.alerts import SEARCH_PARAMETERS, Alert, AlertSearch, AlertStore, Frequency
from chalicelib.models.messages import EmailOutbox, EmailRequested
from chalicelib.services.alert_links import AlertLinks, invalid_link
from chalicelib.services.rate_limits import RateCounters

UNCONFIRMED_DAYS = 7
DEFAULT_FREQUENCY: Frequency = "daily"
FREQUENCY_TEXT: dict[Frequency, str] = {
    "instant": "as soon as they appear",
    "daily": "once a day",
    "weekly": "once a week",
}
ManageAction = Literal["frequency", "pause", "resume", "delete"]
_FILTER_LABELS = {
    "location": "Location",
    "employment_type": "Employment type",
    "company": "Company",
    "provider": "Source ATS",
    "department": "Department",
    "posted_within": "Posted within",
    "shows_pay": "Shows pay",
    "near": "Near",
}


class AlertRegistry(AlertStore, Protocol):
    """The alert store plus what sign-up needs: an atomic create under the address cap."""

    def create(self, alert: Alert, *, search_key: str, max_per_address: int) -> bool:
        """Store a new alert unless the address already has `max_per_address`; False then."""
        ...

    def search_keys(self, email_hash: str) -> dict[str, str]:
        """search_key -> alert_id of the address's current alerts."""
        ...


@dataclass(frozen=True)
class AlertPolicy:
    board_url: str  # PUBLIC_BASE_URL: the board page a search links to
    max_per_address: int = 10
    client_limit: int = 10
    client_window_seconds: int = 3600
    address_limit: int = 3
    address_window_seconds: int = 86400
    salt: str = ""  # keys the rate counters' hashes (clients and addresses are never stored in clear)


def address_hash(address: str) -> str:
    """sha256 of the trimmed, lower-cased address: the key suppressions and alert caps share (the same
    function as `chalicelib.aws.email_suppressions.address_hash`, kept here so services need no AWS code)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def search_key(search: AlertSearch) -> str:
    """The identity of a search (canonical parameters): one address never holds the same search twice."""
    return hashlib.sha256(json.dumps(search.params, sort_keys=True).encode()).hexdigest()[:32]


def _humanize(value: str) -> str:
    text = value.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def describe_search(search: AlertSearch) -> str:
    """A short line for emails and pages: `"python" · Location: Berlin · Remote`, or "All jobs"."""
    params = search.params
    parts = [f"\u201c{' '.join(params['q'])}\u201d"] if params.get("q") else []
    remote = params.get("remote", [])
    if remote:
        parts.append(" or ".join("Remote" if v == "true" else "On-site" for v in remote))
    if params.get("pay_min") or params.get("pay_currency"):
        amount = int((params.get("pay_min") or ["0"])[0])
        parts.append(
            f"Pay: at least {' '.join(params.get('pay_currency', []))} {amount:,} a year".replace("  ", " ")
        )
    for name in SEARCH_PARAMETERS:
        if name in ("q", "remote", "pay_min", "pay_currency", "radius_km") or not params.get(name):
            continue
        if name == "near":
            radius = (params.get("radius_km") or ["50"])[0]
            parts.append(f"Within {int(radius)} km of {params['near'][0]}")
            continue
        values = params[name]
        shown = [_humanize(v) if name in ("employment_type", "provider") else v for v in values]
        parts.append(f"{_FILTER_LABELS[name]}: {', '.join(shown)}")
    return " \u00b7 ".join(parts) or "All jobs"


def search_url(board_url: str, search: AlertSearch) -> str:
    """The board page showing the search."""
    pairs = [(name, value) for name in SEARCH_PARAMETERS for value in search.params.get(name, [])]
    query = urlencode(pairs)
    return board_url.rstrip("/") + (f"?{query}" if query else "")


class AlertService:
    def __init__(
        self,
        store: AlertRegistry,
        outbox: EmailOutbox,
        links: AlertLinks,
        counters: RateCounters,
        policy: AlertPolicy,
        *,
        now: Clock = utcnow,
        new_id: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._links = links
        self._counters = counters
        self._policy = policy
        self._now = now
        self._new_id = new_id

    # ---- sign-up --------------------------------------------------------------------------------------
    def subscribe(self, email: str, search: AlertSearch, frequency: Frequency, *, client: str) -> None:
        """Sign `email` up for `search` (see the module's rules); ThrottledError only per client."""
        policy = self._policy
        if not self._hit("alert-subscribe", client, policy.client_limit, policy.client_window_seconds):
            raise ThrottledError(
                "Too many alert sign-ups from your network; try again later.",
                code="rate_limited",
                retry_after=self._retry_after(policy.client_window_seconds),
            )
        email = email.strip()
        email_hash = address_hash(email)
        if not self._hit("alert-address", email_hash, policy.address_limit, policy.address_window_seconds):
            return
        key = search_key(search)
        existing_id = self._store.search_keys(email_hash).get(key)
        if existing_id is not None:
            existing = self._store.get(existing_id)
            if existing is not None and existing.status == "pending":
                self._send_confirmation(existing, resend=True)
            return
        now = self._now()
        alert = Alert(
            alert_id=self._new_id(),
            email=email,
            email_hash=email_hash,
            search=search,
            frequency=frequency,
            status="pending",
            created_at=now,
            expires_at=math.floor((now + timedelta(days=UNCONFIRMED_DAYS)).timestamp()),
        )
        if self._store.create(alert, search_key=key, max_per_address=policy.max_per_address):
            self._send_confirmation(alert, resend=False)

    def _send_confirmation(self, alert: Alert, *, resend: bool) -> None:
        summary = describe_search(alert.search)
        # One key per alert; a resend (the same search signed up again) gets its own.
        key = f"alert-confirm:{alert.alert_id}"
        if resend:
            key += f":{math.floor(self._now().timestamp())}"
        subject = f"Confirm your job alert: {summary}"
        self._outbox.enqueue(
            [
                EmailRequested(
                    key=key,
                    template="alert_confirm",
                    to=alert.email,
                    subject=subject if len(subject) <= 120 else subject[:119] + "\u2026",
                    context={
                        "confirm_url": self._links.url("confirm", alert.alert_id),
                        "search_summary": summary,
                        "search_url": search_url(self._policy.board_url, alert.search),
                        "frequency_text": FREQUENCY_TEXT[alert.frequency],
                        "expires_days": UNCONFIRMED_DAYS,
                    },
                )
            ]
        )

    # ---- the links' pages -----------------------------------------------------------------------------
    def _alert(self, purpose: Literal["confirm", "manage"], token: str) -> Alert:
        alert = self._store.get(self._links.alert_id(purpose, token))
        if alert is None:
            raise invalid_link()
        return alert

    def confirm(self, token: str) -> Alert:
        """Activate the alert (once; confirming again changes nothing); NotFoundError for a bad link."""
        alert = self._alert("confirm", token)
        if alert.status != "pending":
            return alert
        now = self._now()
        confirmed = alert.model_copy(
            update={"status": "active", "confirmed_at": now, "watermark": isoformat(now), "expires_at": None}
        )
        self._store.put(confirmed)
        return confirmed

    def pending(self, token: str) -> Alert:
        """The alert a confirm link is for, unchanged (a HEAD checks the link without confirming)."""
        return self._alert("confirm", token)

    def manage(self, token: str) -> Alert:
        """The alert a manage link is for (a confirmed one); NotFoundError otherwise."""
        alert = self._alert("manage", token)
        if alert.status == "pending":
            raise invalid_link()
        return alert

    def change(self, token: str, action: ManageAction, frequency: Frequency | None = None) -> Alert | None:
        """Apply a manage-page action; the alert after it (None once deleted)."""
        alert = self.manage(token)
        if action == "delete":
            self._store.delete(alert.alert_id)
            return None
        update: dict[str, object] = {}
        if action == "frequency" and frequency is not None:
            update["frequency"] = frequency
        elif action == "pause":
            update["status"] = "paused"
        elif action == "resume" and alert.status == "paused":
            update = {"status": "active", "watermark": isoformat(self._now())}
        if not update:
            return alert
        changed = alert.model_copy(update=update)
        self._store.put(changed)
        return changed

    def check_unsubscribe(self, token: str) -> None:
        """NotFoundError unless the token is a valid unsubscribe token (the GET page shows a button)."""
        self._links.alert_id("unsubscribe", token)

    def unsubscribe(self, token: str) -> None:
        """Delete the alert (one click; again for an alert already gone is the same success)."""
        self._store.delete(self._links.alert_id("unsubscribe", token))

    def links(self, alert: Alert) -> dict[str, str]:
        """The manage and unsubscribe page URLs of an alert."""
        return {
            "manage_url": self._links.url("manage", alert.alert_id),
            "unsubscribe_url": self._links.url("unsubscribe", alert.alert_id),
        }

    # ---- rate limits ----------------------------------------------------------------------------------
    def _hit(self, scope: str, subject: str, limit: int, window: int) -> bool:
        epoch = math.floor(self._now().timestamp())
        hashed = hashlib.sha256(f"{self._policy.salt}\n{subject}".encode()).hexdigest()[:32]
        return self._counters.hit(
            scope, hashed, window_start=epoch - epoch % window, window_seconds=window, limit=limit
        )

    def _retry_after(self, window: int) -> int:
        epoch = math.floor(self._now().timestamp())
        return max(1, window - epoch % window)
