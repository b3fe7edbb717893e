"""The SES (API v2) sender against moto: raw MIME with both parts and the headers, errors translated."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.aws.ses_email import EmailRejectedError, SesEmailSender
from chalicelib.services.email import OutgoingEmail

REGION = "eu-central-1"
MESSAGE = OutgoingEmail(
    to="ada@example.com",
    subject="New jobs for you",
    html="<p>Two new jobs</p>",
    text="Two new jobs",
    headers={"List-Unsubscribe": "<https://jobs.example.org/u?t=abc>"},
    kind="alert",
)


def sent_raw() -> list[bytes]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [
        message.raw_data.encode() if isinstance(message.raw_data, str) else message.raw_data
        for message in backend.sent_messages
    ]


def test_ses_sends_the_rendered_message_from_the_verified_identity(aws: None) -> None:
    client = boto3.client("sesv2", region_name=REGION)
    client.create_email_identity(EmailIdentity="example.org")
    sender = SesEmailSender(
        client, sender="Board <jobs@example.org>", now=lambda: datetime(2026, 12, 7, tzinfo=UTC)
    )

    message_id = sender.send(MESSAGE)

    assert message_id
    (raw,) = sent_raw()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["To"] == "ada@example.com"
    assert parsed["From"] == "Board <jobs@example.org>"
    assert parsed["List-Unsubscribe"] == "<https://jobs.example.org/u?t=abc>"
    assert {part.get_content_type() for part in parsed.iter_parts()} == {"text/plain", "text/html"}


def test_an_unverified_sender_is_a_rejection_not_an_outage(aws: None) -> None:
    sender = SesEmailSender(boto3.client("sesv2", region_name=REGION), sender="jobs@unverified.example")

    with pytest.raises(EmailRejectedError) as raised:
        sender.send(MESSAGE)
    assert raised.value.code == "email_rejected"
