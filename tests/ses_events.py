"""SES event records as SES publishes them to SNS (AWS's documented examples, trimmed of nothing the
handler reads), and the SNS Lambda event that carries one."""

from __future__ import annotations

import json
from typing import Any

CONFIGURATION_SET = "job-board-prod-email"


def _mail(destination: list[str]) -> dict[str, Any]:
    return {
        "timestamp": "2026-12-06T21:40:02.012Z",
        "source": "Unified Job Board <jobs@jobs.example.com>",
        "sourceArn": "arn:aws:ses:eu-central-1:123456789012:identity/jobs.example.com",
        "sendingAccountId": "123456789012",
        "messageId": "0107018f3c1d2e4f-6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d-000000",
        "destination": destination,
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": "Unified Job Board <jobs@jobs.example.com>"},
            {"name": "To", "value": ", ".join(destination)},
            {"name": "Subject", "value": "New jobs for “python” in Berlin"},
            {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
        ],
        "commonHeaders": {
            "from": ["Unified Job Board <jobs@jobs.example.com>"],
            "to": destination,
            "messageId": "0107018f3c1d2e4f-6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d-000000",
            "subject": "New jobs for “python” in Berlin",
        },
        "tags": {
            "ses:configuration-set": [CONFIGURATION_SET],
            "ses:source-ip": ["192.0.2.0"],
            "ses:from-domain": ["jobs.example.com"],
            "ses:caller-identity": ["job-board-prod-send-email"],
            "kind": ["alert_digest"],
        },
    }


def bounce(*recipients: str, bounce_type: str = "Permanent", sub_type: str = "General") -> dict[str, Any]:
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
                for address in recipients
            ],
            "timestamp": "2026-12-06T21:41:02.669Z",
            "feedbackId": "0107018f3c1d2e4f-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "reportingMTA": "dsn; mta.example.com",
        },
        "mail": _mail(list(recipients)),
    }


def complaint(*recipients: str) -> dict[str, Any]:
    return {
        "eventType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": address} for address in recipients],
            "timestamp": "2026-12-06T22:01:17.000Z",
            "feedbackId": "0107018f3c1d2e4f-7c2a1d3e-9b8a-11e6-9a8f-2fb1aexample-000000",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2026-12-06T22:01:15.000Z",
        },
        "mail": _mail(list(recipients)),
    }


def delivery(*recipients: str) -> dict[str, Any]:
    return {
        "eventType": "Delivery",
        "delivery": {
            "timestamp": "2026-12-06T21:40:03.000Z",
            "processingTimeMillis": 1021,
            "recipients": list(recipients),
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        },
        "mail": _mail(list(recipients)),
    }


def sns_event(message: dict[str, Any] | str, *, message_id: str = "sns-1") -> dict[str, Any]:
    """The Lambda event SNS delivers for one published message."""
    body = message if isinstance(message, str) else json.dumps(message)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:eu-central-1:123456789012:job-board-email-events:1f2e",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": "arn:aws:sns:eu-central-1:123456789012:job-board-email-events",
                    "Subject": None,
                    "Message": body,
                    "Timestamp": "2026-12-06T21:41:03.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService.pem",
                    "UnsubscribeUrl": "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }
