"""POST /jobs/{job_id}/applications queues the candidate's confirmation on the email queue (moto SQS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import respx

from chalicelib import deps
from chalicelib.models.messages import EmailRequested
from tests.api.apply_factories import application_body, json_headers, make_posting, store_posting

APPLICATIONS = "/unified/ats/applications"
CREATED = {"statusCode": 201, "message": "Record created successfully.", "data": {"id": "app-123"}}


@pytest.fixture
def email_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = boto3.client("sqs").create_queue(QueueName="job-board-email")["QueueUrl"]
    monkeypatch.setenv("EMAIL_QUEUE_URL", url)
    deps.reset_dependencies()  # the settings were read (without the queue) when the tables were made
    yield url


def queued(url: str) -> list[EmailRequested]:
    result = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [EmailRequested.model_validate_json(m["Body"]) for m in result.get("Messages", [])]


def submit(client: Any, job_id: str, **headers: str) -> Any:
    return client.http.post(
        f"/jobs/{job_id}/applications", body=json.dumps(application_body()), headers=json_headers(**headers)
    )


def test_a_created_application_queues_its_confirmation_once_even_when_replayed(
    email_queue: str, apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    stackone_api.post(APPLICATIONS).respond(201, json=CREATED)

    first = submit(apply_client, posting.job_id, **{"Idempotency-Key": "key-1"})
    replay = submit(apply_client, posting.job_id, **{"Idempotency-Key": "key-1"})

    assert first.status_code == replay.status_code == 201
    (message,) = queued(email_queue)
    assert message.template == "application_confirmation"
    assert message.to == "ada@example.com"
    assert message.key.startswith("application:")
    assert message.context["job_url"] == f"https://board.test/jobs/{posting.job_id}"
    assert message.context["company"] == posting.company


def test_a_refused_application_queues_nothing(
    email_queue: str, apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    stackone_api.post(APPLICATIONS).respond(409, json={"statusCode": 409, "message": "exists"})

    assert submit(apply_client, posting.job_id).status_code == 409

    assert queued(email_queue) == []


def test_without_an_email_queue_the_application_still_goes_through(
    apply_client: Any, stackone_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting())
    stackone_api.post(APPLICATIONS).respond(201, json=CREATED)

    assert submit(apply_client, posting.job_id).status_code == 201
