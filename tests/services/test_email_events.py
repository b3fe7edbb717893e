"""Bounces and complaints: which SES events suppress an address and forget its alerts."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.models.email_events import SesEmailEvent
from chalicelib.services.email_events import EmailEventsService
from tests.ses_events import bounce, complaint, delivery

NOW = datetime(2026, 12, 6, 21, 42, tzinfo=UTC)


def _hash(address: str) -> str:
    return "h:" + hashlib.sha256(address.lower().encode()).hexdigest()[:8]


class InMemorySuppressions:
    def __init__(self) -> None:
        self.suppressed: dict[str, tuple[str, datetime]] = {}

    def suppress(self, address: str, *, reason: str, at: datetime) -> None:
        self.suppressed[address.lower()] = (reason, at)


class InMemoryAlertAddresses:
    """Alerts per address hash; `forget` is the store's delete_all_for_address."""

    def __init__(self, alerts: dict[str, int]) -> None:
        self.alerts = alerts
        self.forgotten: list[str] = []

    def forget(self, email_hash: str) -> int:
        self.forgotten.append(email_hash)
        return self.alerts.pop(email_hash, 0)


def _service(alerts: dict[str, int] | None = None) -> tuple[EmailEventsService, Any, Any]:
    suppressions = InMemorySuppressions()
    addresses = InMemoryAlertAddresses(alerts or {})
    service = EmailEventsService(suppressions, addresses.forget, hash_address=_hash, now=lambda: NOW)
    return service, suppressions, addresses


def test_a_permanent_bounce_suppresses_every_bounced_recipient_and_deletes_their_alerts() -> None:
    # GIVEN two addresses with alerts, and a third with none
    service, suppressions, addresses = _service({_hash("ana@example.org"): 2, _hash("bo@example.net"): 1})

    # WHEN SES reports a permanent bounce for all three
    outcome = service.handle(
        SesEmailEvent.model_validate(bounce("ana@example.org", "Bo@Example.net", "cy@example.com"))
    )

    # THEN each is suppressed for the bounce and its alerts are gone
    assert suppressions.suppressed == {
        "ana@example.org": ("bounce", NOW),
        "bo@example.net": ("bounce", NOW),
        "cy@example.com": ("bounce", NOW),
    }
    assert addresses.forgotten == [_hash("ana@example.org"), _hash("Bo@Example.net"), _hash("cy@example.com")]
    assert addresses.alerts == {}
    assert (outcome.action, outcome.suppressed, outcome.alerts_deleted) == ("bounce", 3, 3)


def test_a_complaint_suppresses_the_complainer_and_deletes_their_alerts() -> None:
    service, suppressions, addresses = _service({_hash("ana@example.org"): 4, _hash("other@example.org"): 1})

    outcome = service.handle(SesEmailEvent.model_validate(complaint("ana@example.org")))

    assert suppressions.suppressed == {"ana@example.org": ("complaint", NOW)}
    assert addresses.alerts == {_hash("other@example.org"): 1}
    assert (outcome.action, outcome.suppressed, outcome.alerts_deleted) == ("complaint", 1, 4)


def test_a_recipient_listed_twice_is_handled_once() -> None:
    service, suppressions, addresses = _service({_hash("ana@example.org"): 1})

    outcome = service.handle(SesEmailEvent.model_validate(bounce("ana@example.org", "ANA@example.org")))

    assert list(suppressions.suppressed) == ["ana@example.org"]
    assert addresses.forgotten == [_hash("ana@example.org")]
    assert outcome.suppressed == 1


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_a_bounce_that_is_not_permanent_changes_nothing(bounce_type: str) -> None:
    service, suppressions, addresses = _service({_hash("ana@example.org"): 1})

    outcome = service.handle(
        SesEmailEvent.model_validate(
            bounce("ana@example.org", bounce_type=bounce_type, sub_type="MailboxFull")
        )
    )

    assert suppressions.suppressed == {}
    assert addresses.forgotten == []
    assert outcome.action is None


def test_other_event_types_change_nothing() -> None:
    service, suppressions, addresses = _service({_hash("ana@example.org"): 1})

    outcome = service.handle(SesEmailEvent.model_validate(delivery("ana@example.org")))

    assert (suppressions.suppressed, addresses.forgotten, outcome.action) == ({}, [], None)


def test_identity_notifications_name_the_type_notification_type_and_are_read_the_same() -> None:
    service, suppressions, _addresses = _service()
    record = complaint("ana@example.org")
    record["notificationType"] = record.pop("eventType")

    service.handle(SesEmailEvent.model_validate(record))

    assert suppressions.suppressed == {"ana@example.org": ("complaint", NOW)}


@pytest.mark.parametrize(
    "record",
    [
        {"eventType": "Bounce", "mail": {}},  # no bounce object
        {"eventType": "Complaint"},  # no complaint object
        {"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}},
        {
            "eventType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "nope"}]},
        },
        {"bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "a@b.c"}]}},  # no type
    ],
)
def test_records_without_what_their_type_promises_are_refused(record: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SesEmailEvent.model_validate(record)
