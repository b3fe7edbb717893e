"""Bounces and complaints: the addresses SES reports are never written to again, and their alerts go.

A permanent bounce (the mailbox does not exist) or a complaint (the recipient marked the email as
spam) suppresses each reported address, then deletes every alert of that address. Transient bounces
(a full mailbox, a greylisting server) and every other event type change nothing: SES retries those
itself, and the address may well work tomorrow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.clock import utcnow
from chalicelib.models.email_events import SesEmailEvent, SuppressionReason

PERMANENT_BOUNCE = "Permanent"


class SuppressionWriter(Protocol):
    def suppress(self, address: str, *, reason: str, at: datetime) -> None:
        """Record that the board never writes to `address` again (idempotent)."""
        ...


@dataclass(frozen=True)
class EmailEventOutcome:
    """What one event changed: how many addresses were suppressed and alerts deleted (no addresses,
    so the outcome can be logged)."""

    action: SuppressionReason | None
    suppressed: int = 0
    alerts_deleted: int = 0


class EmailEventsService:
    """Suppresses the addresses of permanent bounces and complaints and forgets their alerts."""

    def __init__(
        self,
        suppressions: SuppressionWriter,
        forget_address: Callable[[str], int],
        *,
        hash_address: Callable[[str], str],
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        """`forget_address(email_hash)` deletes everything kept for the address (its alerts) and
        returns how many alerts it deleted; `hash_address` is the key the board stores addresses by."""
        self._suppressions = suppressions
        self._forget_address = forget_address
        self._hash_address = hash_address
        self._now = now

    def handle(self, event: SesEmailEvent) -> EmailEventOutcome:
        reason, addresses = _addresses_to_suppress(event)
        if reason is None:
            return EmailEventOutcome(action=None)
        at = self._now()
        deleted = 0
        for address in addresses:
            # Suppress first: if forgetting fails, SNS retries the event and the send path already
            # skips the address meanwhile.
            self._suppressions.suppress(address, reason=reason, at=at)
            deleted += self._forget_address(self._hash_address(address))
        return EmailEventOutcome(action=reason, suppressed=len(addresses), alerts_deleted=deleted)


def _addresses_to_suppress(event: SesEmailEvent) -> tuple[SuppressionReason | None, list[str]]:
    if event.event_type == "Bounce" and event.bounce is not None:
        if event.bounce.bounce_type != PERMANENT_BOUNCE:
            return None, []
        return "bounce", _unique(r.email_address for r in event.bounce.bounced_recipients)
    if event.event_type == "Complaint" and event.complaint is not None:
        return "complaint", _unique(r.email_address for r in event.complaint.complained_recipients)
    return None, []


def _unique(addresses: Iterable[str]) -> list[str]:
    """Each address once, in the order reported (one recipient may be listed twice)."""
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(address.strip().lower(), address.strip())
    return list(seen.values())
