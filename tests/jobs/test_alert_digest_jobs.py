"""The digest schedule: registered at its configured rate; its digests fan out over the email queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from chalice.app import ScheduledEventConfig

from chalicelib.aws.email_queue import SqsEmailOutbox
from chalicelib.clock import utcnow
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.messages import EmailRequested
from chalicelib.services.alert_digests import AlertDigestService
from chalicelib.services.alert_links import AlertLinks
from chalicelib.services.board.service import BoardService
from chalicelib.services.board.snapshot import SnapshotBuilder
from chalicelib.services.email import EmailDispatcher, EmailRenderer
from chalicelib.settings import get_settings
from tests.api.board_factories import make_posting
from tests.services.board_fakes import DirectorySnapshotStore, InMemoryBoardSource
from tests.services.digest_fakes import InMemoryAlertStore
from tests.services.test_alert_digests import BASE_URL, make_alert
from tests.services.test_email import InMemoryOnce, InMemorySuppressions, RecordingSender


def test_send_alert_digests_runs_on_the_configured_rate() -> None:
    import app
    from chalicelib.jobs import alert_digests

    schedules = {
        source.name: source.schedule_expression
        for source in app.app.event_sources
        if isinstance(source, ScheduledEventConfig)
    }
    minutes = get_settings().alert_digest_schedule_minutes
    assert alert_digests.ALERT_DIGEST_RATE_MINUTES == minutes == 14
    # Instant alerts: one interval plus the settle margin stays under 15 minutes.
    assert minutes * 60 + get_settings().alert_digest_settle_seconds < 15 * 60
    expression = schedules["send_alert_digests"]
    assert not isinstance(expression, str)
    assert expression.to_string() == f"rate({minutes} minutes)"
    assert app.send_alert_digests is alert_digests.send_alert_digests


def test_digests_fan_out_over_the_email_queue_and_a_retried_run_sends_nothing_twice(
    aws: None, tmp_path: Path
) -> None:
    import boto3

    # GIVEN the board (snapshot + change feed), 23 alerts, a new posting, and the email queue (moto)
    source, store = InMemoryBoardSource(), DirectorySnapshotStore(tmp_path / "s3")
    source.put(make_posting("Python Engineer", posted_days_ago=30))
    SnapshotBuilder(source, store, work_directory=tmp_path / "build").build()
    board = BoardService(
        source,
        store,
        local_directory=tmp_path / "process",
        public_base_url=BASE_URL,
        board_name="Test Board",
        cursor_key=b"test",
        embloy_providers=[],
    )
    board.board()
    new = make_posting("Senior Python Engineer", posted_days_ago=0)
    # First seen a minute ago; its write (changed_at) lands on the change feed after the snapshot.
    source.put(
        new.model_copy(update={"first_seen_at": utcnow() - timedelta(minutes=1), "changed_at": utcnow()})
    )
    alerts = InMemoryAlertStore(*(make_alert(f"al_{n:02d}") for n in range(23)))
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="alert-digests-test")["QueueUrl"]
    links = AlertLinks(b"job-test-key-0123456789abcdefghij", pages_base_url=BASE_URL)

    def run() -> None:
        AlertDigestService(
            alerts, board.fresh_board, SqsEmailOutbox(sqs, queue_url), links, public_base_url=BASE_URL
        ).run()

    # WHEN a run queues the digests but fails to record them, and the next run does it again
    alerts.fail_advance = True
    with pytest.raises(UpstreamUnavailableError):
        run()
    alerts.fail_advance = False
    run()
    run()  # and a third run finds nothing new

    # THEN the queue holds each alert's digest twice (the same key), and the worker sends each once
    bodies: list[str] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        bodies.extend(message["Body"] for message in batch)
    requests = [EmailRequested.model_validate_json(body) for body in bodies]
    assert len(requests) == 46
    assert len({r.key for r in requests}) == 23
    sender = RecordingSender()
    dispatcher = EmailDispatcher(
        EmailRenderer(board_name="Test Board", public_base_url=BASE_URL),
        sender,
        InMemorySuppressions(),
        InMemoryOnce(),
    )
    outcomes = [dispatcher.dispatch(r) for r in requests]
    assert outcomes.count("sent") == 23 and outcomes.count("already_sent") == 23
    assert sorted(m.to for m in sender.sent) == sorted(f"al_{n:02d}@example.org" for n in range(23))
    assert all("Senior Python Engineer" in m.text for m in sender.sent)
