"""Email through Amazon SES (API v2): the deployed `EmailSender`.

The message is sent as raw MIME (`Content.Raw`), so the List-Unsubscribe headers and both parts reach
the recipient exactly as rendered. The configuration set routes bounces and complaints to the board's
suppression handler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import AwsErrors
from chalicelib.clock import utcnow
from chalicelib.errors import UpstreamError
from chalicelib.services.email import OutgoingEmail, to_mime

if TYPE_CHECKING:
    from mypy_boto3_sesv2.client import SESV2Client


class EmailRejectedError(UpstreamError):
    """SES refused this message for good (unverified sender, address on the suppression list)."""

    code = "email_rejected"
    default_message = "The email was refused by the mail service."


_SEND = AwsErrors(
    "email_unavailable",
    "Email cannot be sent right now; try again shortly.",
    expect={
        code: EmailRejectedError
        for code in ("MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException")
    },
)


class SesEmailSender:
    """Sends rendered emails from one verified identity, through one configuration set."""

    def __init__(
        self,
        client: SESV2Client | Any,
        *,
        sender: str,
        configuration_set: str = "",
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set
        self._now = now

    def send(self, message: OutgoingEmail) -> str:
        kwargs: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {"Raw": {"Data": to_mime(message, sender=self._sender, at=self._now())}},
            "EmailTags": [{"Name": "kind", "Value": message.kind}],
        }
        if self._configuration_set:
            kwargs["ConfigurationSetName"] = self._configuration_set
        with _SEND:
            response = self._client.send_email(**kwargs)
        return str(response["MessageId"])
