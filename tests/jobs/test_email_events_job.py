"""`email_events` as Lambda runs it: SNS-delivered SES events suppress addresses in the table."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib import deps
from chalicelib.aws.email_suppressions import address_hash
from chalicelib.settings import get_settings
from tests.ses_events import bounce, complaint, sns_event


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the app's structured logger writes, in its JSON format."""
    import logging

    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    level = logger._logger.level
    logger._logger.addHandler(handler)  # the stdlib logger behind Powertools' Logger
    logger._logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger._logger.removeHandler(handler)
        logger._logger.setLevel(level)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def _suppression_items() -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(get_settings().table_name)
    items = table.scan()["Items"]
    return sorted(
        (item for item in items if str(item["PK"]).startswith("SUPPRESSED#")), key=lambda i: i["PK"]
    )


def test_a_permanent_bounce_suppresses_the_address_without_storing_or_logging_it(
    client: Any, captured_logs: io.StringIO
) -> None:
    # WHEN SES reports a hard bounce through the topic
    client.lambda_.invoke("email_events", sns_event(bounce("Ana.Lopez@example.org")))

    # THEN the address is suppressed under its hash, and the raw address is stored nowhere
    (item,) = _suppression_items()
    assert item["PK"] == f"SUPPRESSED#{address_hash('ana.lopez@example.org')}"
    assert item["reason"] == "bounce"
    assert "ana.lopez" not in json.dumps(item, default=str).lower()
    assert deps.get_email_suppressions().is_suppressed("ana.lopez@example.org")
    (handled,) = [r for r in _records(captured_logs) if r["message"] == "email event handled"]
    assert (handled["event_type"], handled["action"], handled["suppressed"]) == ("Bounce", "bounce", 1)
    assert "ana.lopez" not in captured_logs.getvalue().lower()


def test_a_complaint_suppresses_every_complainer(client: Any) -> None:
    client.lambda_.invoke("email_events", sns_event(complaint("ana@example.org", "bo@example.net")))

    items = _suppression_items()
    assert {item["PK"] for item in items} == {
        f"SUPPRESSED#{address_hash('ana@example.org')}",
        f"SUPPRESSED#{address_hash('bo@example.net')}",
    }
    assert {item["reason"] for item in items} == {"complaint"}


def test_a_transient_bounce_suppresses_nothing(client: Any) -> None:
    client.lambda_.invoke(
        "email_events", sns_event(bounce("ana@example.org", bounce_type="Transient", sub_type="MailboxFull"))
    )

    assert _suppression_items() == []
    assert not deps.get_email_suppressions().is_suppressed("ana@example.org")


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        json.dumps({"eventType": "Bounce", "mail": {"destination": ["ana@example.org"]}}),
        json.dumps(
            {"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "x"}]}}
        ),
        json.dumps([1, 2]),
    ],
)
def test_a_malformed_event_is_logged_and_dropped_without_its_content(
    client: Any, message: str, captured_logs: io.StringIO
) -> None:
    # WHEN the topic delivers something that is not an SES event record
    result = client.lambda_.invoke("email_events", sns_event(message))

    # THEN the invocation succeeds (SNS does not retry it), nothing is written, no content is logged
    assert result.payload is None
    assert _suppression_items() == []
    (dropped,) = [r for r in _records(captured_logs) if r["message"] == "dropping malformed email event"]
    assert dropped["errors"]
    assert "ana@example.org" not in captured_logs.getvalue()


def test_the_handler_subscribes_to_the_configured_topic() -> None:
    from chalice.app import SNSEventConfig

    from app import app

    (source,) = (s for s in app.event_sources if isinstance(s, SNSEventConfig))
    assert (source.name, source.topic) == ("email_events", get_settings().email_events_topic_name)
