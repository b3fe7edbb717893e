"""The local SMTP sender against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from chalicelib.clients.smtp import SmtpEmailSender
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.services.email import OutgoingEmail
from local.processes import free_port

MESSAGE = OutgoingEmail(to="ada@example.com", subject="Hello", html="<p>hi</p>", text="hi")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_the_message_reaches_the_smtp_server_whole(smtp_server: tuple[int, Inbox]) -> None:
    port, inbox = smtp_server
    sender = SmtpEmailSender("127.0.0.1", port, sender="Board <jobs@board.localhost>")

    message_id = sender.send(MESSAGE)

    ((recipients, data),) = inbox.messages
    assert recipients == ["ada@example.com"]
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Message-ID"].strip("<>") == message_id
    assert parsed["Subject"] == "Hello"


def test_no_smtp_server_is_a_503_code() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SmtpEmailSender("127.0.0.1", port, sender="jobs@board.localhost", timeout_seconds=2)

    with pytest.raises(UpstreamUnavailableError) as raised:
        sender.send(MESSAGE)
    assert raised.value.code == "email_unavailable"
