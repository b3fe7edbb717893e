"""Email over SMTP: the local stack's `EmailSender`, pointed at the mail catcher `make run` starts."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import datetime

from chalicelib.clock import utcnow
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.services.email import OutgoingEmail, to_mime


class SmtpEmailSender:
    """Hands each message to one SMTP server (no TLS, no auth: loopback only)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        timeout_seconds: float = 5.0,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout_seconds
        self._now = now

    def send(self, message: OutgoingEmail) -> str:
        data = to_mime(message, sender=self._sender, at=self._now())
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.sendmail(self._sender, [message.to], data)
        except (OSError, smtplib.SMTPException) as exc:
            raise UpstreamUnavailableError(
                "Email cannot be sent right now; try again shortly.", code="email_unavailable"
            ) from exc
        return message_id_of(data)


def message_id_of(data: bytes) -> str:
    from email import message_from_bytes

    return str(message_from_bytes(data).get("Message-ID", "")).strip("<>")
