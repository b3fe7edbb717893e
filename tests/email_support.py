"""Helpers for email tests: an outbox that records, and rendered emails parsed back from MIME."""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser

from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.messages import EmailRequested
from chalicelib.services.email import EmailRenderer, to_mime

BOARD_URL = "https://board.test"
SENDER = "Unified Job Board <jobs@board.test>"


class RecordingOutbox:
    """EmailOutbox that keeps what was queued (or refuses everything, like a queue outage)."""

    def __init__(self, *, failing: bool = False) -> None:
        self.queued: list[EmailRequested] = []
        self.failing = failing

    def enqueue(self, messages: Sequence[EmailRequested]) -> int:
        if self.failing:
            raise UpstreamUnavailableError("queue down", code="email_queue_unavailable")
        self.queued.extend(messages)
        return len(messages)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


@dataclass
class ParsedEmail:
    """One queued email as a recipient gets it: headers, both parts and the HTML part's links."""

    message: EmailMessage
    text: str
    html: str
    links: list[str] = field(default_factory=list)


def render_queued(request: EmailRequested, *, board_url: str = BOARD_URL) -> ParsedEmail:
    """Render a queued email as the worker does, build its MIME and parse that back."""
    renderer = EmailRenderer(board_name="Unified Job Board", public_base_url=board_url)
    rendered = renderer.render(
        request.template,
        to=request.to,
        subject=request.subject,
        context=request.context,
        headers=request.headers,
    )
    data = to_mime(rendered, sender=SENDER, at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC))
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/alternative"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    html = html_part.get_content()
    links = _Links()
    links.feed(html)
    assert "<style" not in html  # inlined
    for href in links.hrefs:
        assert href.startswith(("https://", "http://")), href
    # SMTP line endings (CRLF) back to Python's, so tests can match multi-line text.
    text = text_part.get_content().replace("\r\n", "\n")
    return ParsedEmail(message=message, text=text, html=html, links=links.hrefs)


def subject(parsed: ParsedEmail) -> str:
    """The Subject as a mail client shows it (a folded header may keep the fold's leading space)."""
    return str(parsed.message["Subject"]).strip()


class RecordedLogs(logging.Handler):
    """Every record of the app's logger (whatever its propagation), with the structured extras."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def named(self, message: str) -> list[logging.LogRecord]:
        return [record for record in self.records if record.getMessage() == message]

    def everything(self) -> str:
        return "\n".join(repr(record.__dict__) for record in self.records)


@contextmanager
def recorded_logs() -> Iterator[RecordedLogs]:
    from chalicelib.observability import logger

    handler = RecordedLogs()
    app_logger = logging.getLogger(logger.name)
    level = app_logger.level  # other tests' app runs may have raised it
    app_logger.setLevel(logging.INFO)
    app_logger.addHandler(handler)
    try:
        yield handler
    finally:
        app_logger.removeHandler(handler)
        app_logger.setLevel(level)
