"""The candidate's confirmation email of a native application (in-memory fakes; MIME parsed back)."""

from __future__ import annotations

import pytest

from chalicelib.clients.stackone.errors import (
    StackOneConflictError,
    StackOneServerError,
    StackOneTimeoutError,
)
from chalicelib.clients.stackone.models import CreatedApplication
from chalicelib.errors import ConflictError, InvalidRequestError, UnprocessableError
from chalicelib.models.apply import NativeApplicationRequest
from chalicelib.services.apply import NativeApplyPolicy, NativeApplyService
from tests.api.apply_factories import NOW, application_body, make_posting
from tests.email_support import RecordingOutbox, recorded_logs, render_queued
from tests.services.test_apply_service import (
    POLICY,
    InMemoryIdempotency,
    InMemoryPostings,
    InMemoryRecords,
    ScriptedStackOne,
)

POSTING = make_posting(title="Robot Whisperer <Senior>", company="Acme & Sons")


def service(
    stackone: ScriptedStackOne, outbox: RecordingOutbox, records: InMemoryRecords | None = None
) -> NativeApplyService:
    postings = InMemoryPostings(POSTING)
    return NativeApplyService(
        postings,
        postings,
        stackone,
        records or InMemoryRecords(),
        InMemoryIdempotency(),
        NativeApplyPolicy(
            board_name="Unified Job Board",
            resume_max_bytes=1024 * 1024,
            duplicate_window_seconds=600,
            record_policy=POLICY,
            public_base_url="https://board.test/",
        ),
        now=lambda: NOW,
        outbox=outbox,
    )


def request() -> NativeApplicationRequest:
    return NativeApplicationRequest.model_validate(application_body())


def test_a_created_application_queues_one_confirmation_to_the_candidate() -> None:
    outbox, records = RecordingOutbox(), InMemoryRecords()

    result = service(ScriptedStackOne(CreatedApplication(id="app-1")), outbox, records).submit(
        POSTING.job_id, request()
    )

    assert result.status_code == 201
    (queued,) = outbox.queued
    (record,) = records.records
    assert queued.key == f"application:{record.record_id}"
    assert queued.template == "application_confirmation"
    assert queued.to == "ada@example.com"
    assert queued.subject == "Application sent: Robot Whisperer <Senior>"
    parsed = render_queued(queued)
    job_url = f"https://board.test/jobs/{POSTING.job_id}"
    assert parsed.message["To"] == "ada@example.com"
    assert parsed.message["Subject"] == "Application sent: Robot Whisperer <Senior>"
    assert "Your application for Robot Whisperer <Senior> at Acme & Sons is now in" in parsed.text
    assert "Robot Whisperer &lt;Senior&gt;" in parsed.html and "Acme &amp; Sons" in parsed.html
    for part in (parsed.text, parsed.html):
        assert "Hi Ada," in part
        assert "What happens next" in part
        assert "22 November 2026" in part
        assert f"reference {record.record_id}" in part
        assert "confirming" not in part
    assert f"View the job: {job_url}" in parsed.text
    assert parsed.links == [job_url, "https://board.test"]


def test_a_pending_application_is_confirmed_with_wording_that_says_so() -> None:
    outbox, records = RecordingOutbox(), InMemoryRecords()

    result = service(ScriptedStackOne(StackOneTimeoutError(status=408)), outbox, records).submit(
        POSTING.job_id, request()
    )

    assert result.status_code == 202
    (queued,) = outbox.queued
    assert queued.key == f"application:{result.body['reference']}"
    assert queued.subject.startswith("We're confirming your application")
    parsed = render_queued(queued)
    for part in (parsed.text, parsed.html):
        assert "We&#39;re confirming" in part or "We're confirming" in part
        assert "took too long to confirm it" in part
        assert f"reference {result.body['reference']}" in part
        assert "is now in" not in part


def test_an_idempotent_replay_queues_no_second_confirmation() -> None:
    outbox = RecordingOutbox()
    apply = service(ScriptedStackOne(CreatedApplication(id="app-1")), outbox)

    first = apply.submit(POSTING.job_id, request(), idempotency_key="key-1")
    replay = apply.submit(POSTING.job_id, request(), idempotency_key="key-1")

    assert (replay.status_code, replay.body) == (first.status_code, first.body)
    assert first.delivered and not replay.delivered
    assert len(outbox.queued) == 1


@pytest.mark.parametrize(
    ("stackone", "error"),
    [
        (ScriptedStackOne(StackOneConflictError(status=409)), ConflictError),
        (ScriptedStackOne(StackOneServerError(status=502)), StackOneServerError),
    ],
)
def test_a_refused_or_failed_application_queues_nothing(
    stackone: ScriptedStackOne, error: type[Exception]
) -> None:
    outbox = RecordingOutbox()
    with pytest.raises(error):
        service(stackone, outbox).submit(POSTING.job_id, request())
    assert outbox.queued == []


def test_a_duplicate_within_the_window_queues_nothing_more() -> None:
    outbox = RecordingOutbox()
    apply = service(ScriptedStackOne(CreatedApplication(id="app-1")), outbox)
    apply.submit(POSTING.job_id, request())

    with pytest.raises(ConflictError):
        apply.submit(POSTING.job_id, request())

    assert len(outbox.queued) == 1


def test_an_invalid_application_queues_nothing() -> None:
    outbox = RecordingOutbox()
    body = application_body(resume={"filename": "cv.exe", "content_base64": "AAAA"})
    with pytest.raises((UnprocessableError, InvalidRequestError)):
        service(ScriptedStackOne(), outbox).submit(
            POSTING.job_id, NativeApplicationRequest.model_validate(body)
        )
    assert outbox.queued == []


def test_a_queue_outage_never_fails_the_application_and_logs_no_personal_data() -> None:
    outbox = RecordingOutbox(failing=True)

    with recorded_logs() as logs:
        result = service(ScriptedStackOne(CreatedApplication(id="app-1")), outbox).submit(
            POSTING.job_id, request()
        )

    assert result.status_code == 201
    (warning,) = logs.named("application confirmation not queued")
    assert warning.__dict__["error_code"] == "email_queue_unavailable"
    for personal in ("ada@example.com", "Lovelace", "Ada"):
        assert personal not in logs.everything()
