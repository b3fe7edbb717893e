"""ConnectSessionService: the session's expiry is counted on the board's own (injected) clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.clients.stackone.models import ConnectSession, ConnectSessionCreate, LinkedAccount
from chalicelib.models.employer_api import ConnectSessionRequest
from chalicelib.services.connect import ConnectSessionService
from chalicelib.services.employers import Employer

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class FakeStackOne:
    def __init__(self, created_at: datetime | None) -> None:
        self.created_at = created_at
        self.sent: list[ConnectSessionCreate] = []

    def create_connect_session(self, request: ConnectSessionCreate) -> ConnectSession:
        self.sent.append(request)
        return ConnectSession(
            id=1, token="tok", auth_link_url="https://hub.test/x", created_at=self.created_at
        )


class FakeEmployers:
    def get(self, employer_id: str) -> Employer:
        return Employer(employer_id=employer_id, name="Acme", created_at=NOW)


class NoAccounts:
    def owned_account(self, employer_id: str, account_id: str) -> LinkedAccount:
        raise AssertionError("not called without account_id")


@pytest.mark.parametrize(
    "stackone_created_at",
    [NOW - timedelta(days=2), NOW + timedelta(hours=3), None, datetime(2026, 11, 22, 9, 0)],
    ids=["in-the-past", "in-the-future", "absent", "naive"],
)
def test_expires_at_is_our_clock_plus_the_lifetime_whatever_stackone_says(
    stackone_created_at: datetime | None,
) -> None:
    service = ConnectSessionService(
        FakeStackOne(stackone_created_at),
        FakeEmployers(),
        NoAccounts(),
        allowed_providers=["greenhouse"],
        expires_in_seconds=1800,
        now=lambda: NOW,
    )

    session = service.create("emp-1", ConnectSessionRequest())

    assert session.expires_at == NOW + timedelta(seconds=1800)
