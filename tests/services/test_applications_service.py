"""ApplicationsService with fakes: refresh budget, status mapping, cursor codec."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.clients.stackone.errors import StackOneNotFoundError
from chalicelib.errors import InvalidRequestError
from chalicelib.models.applications import ApplicationRecord
from chalicelib.services.applications import ApplicationsCursorCodec, ApplicationsService, status_fields
from tests.api.apply_factories import NOW


def record(index: int, employer_id: str = "emp-a") -> ApplicationRecord:
    return ApplicationRecord(
        record_id=f"rec-{index}",
        employer_id=employer_id,
        job_id="job",
        account_id="acct",
        posting_id="p",
        channel="native",
        outcome="submitted",
        submitted_at=NOW + timedelta(minutes=index),
        stackone_application_id=f"app-{index}",
        expires_at=0,
    )


class FakeRecords:
    def __init__(self, records: list[ApplicationRecord]) -> None:
        self.records = records
        self.updated: list[ApplicationRecord] = []

    def list_for_employer(
        self,
        employer_id: str,
        *,
        job_id: str | None,
        limit: int,
        start_key: dict[str, Any] | None,
        status: str | None = None,
    ) -> tuple[list[ApplicationRecord], dict[str, Any] | None]:
        return list(self.records), None

    def update_status(self, record: ApplicationRecord) -> None:
        self.updated.append(record)

    def outcomes(self, employer_id: str, *, job_id: str | None = None) -> list[tuple[str, str, str]]:
        return []


class SlowStackOne:
    """Each call advances the fake clock by 3 s; app-2 is unknown to StackOne."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.calls: list[str] = []

    def get_application(self, account_id: str, application_id: str) -> dict[str, Any]:
        self.calls.append(application_id)
        self.clock[0] += 3
        if application_id == "app-2":
            raise StackOneNotFoundError(status=404)
        return {"application_status": {"value": "screen"}}

    def find_application(self, account_id: str, *, email: str, created_after: str) -> dict[str, Any] | None:
        raise AssertionError("every record here carries its application id")


def test_refresh_stops_calling_stackone_when_the_budget_is_spent() -> None:
    clock = [0.0]
    stackone = SlowStackOne(clock)
    records = FakeRecords([record(1), record(2), record(3), record(4)])
    service = ApplicationsService(
        records,
        stackone,
        ApplicationsCursorCodec(b"k"),
        refresh_budget_seconds=5,
        now=lambda: NOW,
        monotonic=lambda: clock[0],
    )

    page = service.page("emp-a", refresh=True)

    assert stackone.calls == ["app-1", "app-2"]  # the third starts after 6 s > 5 s budget
    assert page.stale_ids == {"rec-2", "rec-3", "rec-4"}
    assert [r.application_status for r in page.records] == ["screen", None, None, None]
    assert [r.record_id for r in records.updated] == ["rec-1"]


def test_records_of_other_employers_never_leave_the_service() -> None:
    service = ApplicationsService(
        FakeRecords([record(1), record(2, "emp-b")]), SlowStackOne([0.0]), ApplicationsCursorCodec(b"k")
    )
    assert [r.record_id for r in service.page("emp-a").records] == ["rec-1"]


@pytest.mark.parametrize(
    ("application", "expected"),
    [
        ({}, {"application_status": None, "application_stage": None, "rejected": False, "hired": False}),
        (
            {"application_status": {"value": "unmapped_value", "source_value": "Phone screen"}},
            {
                "application_status": "Phone screen",
                "application_stage": None,
                "rejected": False,
                "hired": False,
            },
        ),
        (
            {"application_status": None, "application_stage": {"name": "Offer"}, "rejected_at": "2026-01-01"},
            {"application_status": None, "application_stage": "Offer", "rejected": True, "hired": False},
        ),
    ],
)
def test_status_fields_are_read_tolerantly(application: dict[str, Any], expected: dict[str, Any]) -> None:
    assert status_fields(application) == expected


def test_cursor_round_trips_only_for_its_employer_and_filter() -> None:
    codec = ApplicationsCursorCodec(b"key")
    position = {"PK": "EMPLOYER#emp-a", "SK": "APPLICATION#2026#x"}
    cursor = codec.encode("emp-a", None, position)
    assert codec.decode("emp-a", None, cursor) == position
    for employer, job in (("emp-b", None), ("emp-a", "job")):
        with pytest.raises(InvalidRequestError):
            codec.decode(employer, job, cursor)
    with pytest.raises(InvalidRequestError):
        ApplicationsCursorCodec(b"other-key").decode("emp-a", None, cursor)
