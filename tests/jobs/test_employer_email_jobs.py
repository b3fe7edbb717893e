"""The employer emails end to end on moto: a sync run that needs attention queues the email through the
stored sync state, and `send_employer_digests` queues yesterday's digest from the stored records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib import deps
from chalicelib.clock import utcnow
from chalicelib.models.applications import ApplicationRecord
from chalicelib.models.messages import EmailRequested
from tests.jobs.test_sync_jobs import drain
from tests.sync_support import StackOneStub, register_employer, sqs_event


@pytest.fixture
def email_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs").create_queue(QueueName="job-board-email")["QueueUrl"]
    monkeypatch.setenv("EMAIL_QUEUE_URL", url)
    deps.reset_dependencies()
    return url


def emails(url: str) -> list[EmailRequested]:
    return [EmailRequested.model_validate(body) for body in drain(url)]


def sync(client: Any, run_id: str) -> None:
    client.lambda_.invoke("sync_account", sqs_event([{"account_id": "acc1", "run_id": run_id}], [run_id]))


def test_an_expired_credential_emails_the_employer_once_and_the_state_remembers(
    email_queue: str, queue_url: str, client: Any, stackone: StackOneStub
) -> None:
    stackone.add_account("acc1", postings=3)
    deps.get_employer_notification_service().update(
        "emp-acc1", email="ops@acme.example", new_applications_digest=False
    )
    sync(client, "run-1")
    stackone.status_for_account["acc1"] = 401

    sync(client, "run-2")
    sync(client, "run-3")

    (queued,) = emails(email_queue)
    assert queued.template == "connection_attention" and queued.to == "ops@acme.example"
    assert queued.key == f"connection_attention:acc1:{utcnow().date().isoformat()}"
    assert queued.context["reconnect_url"] == "https://board.test/employer"
    state = deps.get_sync_state_repository().get("acc1")
    assert state is not None and state.attention_notified_at is not None
    del stackone.status_for_account["acc1"]
    sync(client, "run-4")
    recovered = deps.get_sync_state_repository().get("acc1")
    assert recovered is not None and recovered.attention_notified_at is None


def test_the_daily_schedule_queues_yesterdays_digest_for_employers_who_opted_in(
    email_queue: str, client: Any
) -> None:
    register_employer("emp-a", "Acme Robotics")
    register_employer("emp-b", "Globex")
    notifications = deps.get_employer_notification_service()
    notifications.update("emp-a", email="hiring@acme.example", new_applications_digest=True)
    notifications.update("emp-b", email="jobs@globex.example", new_applications_digest=False)
    yesterday = datetime.combine(utcnow().date() - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    records = deps.get_application_records()
    for number, (employer, at) in enumerate(
        [
            ("emp-a", yesterday),  # the first instant of the day
            ("emp-a", yesterday + timedelta(hours=23, minutes=59)),
            ("emp-a", yesterday + timedelta(days=1)),  # today: tomorrow's digest
            ("emp-a", yesterday - timedelta(milliseconds=1)),
            ("emp-b", yesterday + timedelta(hours=9)),  # not opted in
        ]
    ):
        records.put(
            ApplicationRecord(
                record_id=f"r{number}",
                employer_id=employer,
                job_id="job-1",
                account_id="acc1",
                posting_id="p1",
                job_title="Robot Whisperer",
                channel="native",
                outcome="submitted",
                candidate_name=f"Candidate {number}",
                submitted_at=at,
                expires_at=2_000_000_000,
            )
        )
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])

    result = client.lambda_.invoke("send_employer_digests", event)

    assert result.payload == {"queued": 1}
    (queued,) = emails(email_queue)
    assert queued.to == "hiring@acme.example"
    assert queued.key == f"employer_applications_digest:emp-a:{yesterday.date().isoformat()}"
    (job,) = queued.context["jobs"]
    assert (job["count"], job["names"]) == (2, ["Candidate 0", "Candidate 1"])
