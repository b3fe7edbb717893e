"""Notification settings on the employer item and the day's application records, on moto."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib import deps
from chalicelib.errors import NotFoundError
from chalicelib.services.employer_notifications import NotificationSettings

AT = datetime(2026, 12, 7, 9, 30, 0, 123000, tzinfo=UTC)


def test_settings_of_an_unknown_employer_are_none_and_never_create_an_item(aws: None) -> None:
    repository = deps.get_employers_repository()

    assert repository.get_notification_settings("emp-nobody") is None
    with pytest.raises(NotFoundError):
        repository.put_notification_settings("emp-nobody", NotificationSettings(email="a@b.example"))

    assert "Item" not in deps.get_table().get_item(Key={"PK": "EMPLOYER#emp-nobody", "SK": "PROFILE"})


def test_settings_round_trip_and_only_opted_in_employers_with_an_address_get_the_digest(
    aws: None, employer: tuple[str, str]
) -> None:
    employer_id, _ = employer
    repository = deps.get_employers_repository()
    assert repository.get_notification_settings(employer_id) == NotificationSettings()

    stored = NotificationSettings(email="hiring@acme.example", new_applications_digest=True, updated_at=AT)
    repository.put_notification_settings(employer_id, stored)

    assert repository.get_notification_settings(employer_id) == stored
    assert [(r.employer_id, r.email) for r in repository.digest_recipients()] == [
        (employer_id, "hiring@acme.example")
    ]
    repository.put_notification_settings(employer_id, NotificationSettings(email="hiring@acme.example"))
    assert repository.digest_recipients() == []
