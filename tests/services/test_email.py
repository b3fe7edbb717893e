"""Rendering emails and sending them at most once (in-memory collaborators; MIME parsed back)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest

from chalicelib.models.messages import EmailRequested
from chalicelib.services.email import (
    EmailDispatcher,
    EmailRenderer,
    LinkError,
    OutgoingEmail,
    to_mime,
)

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
CONTEXT = {
    "candidate_first_name": "Ada",
    "job_title": "Staff Engineer <Platform>",
    "company": "Northwind Health",
    "job_url": "https://jobs.example.org/board/jobs/acc_1~post_1",
    "submitted_on": "7 December 2026",
    "reference": "",
}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.styled: int = 0
        self.style_tags = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if values.get("style"):
            self.styled += 1
        if tag == "style":
            self.style_tags += 1


def renderer() -> EmailRenderer:
    return EmailRenderer(board_name="Unified Job Board", public_base_url="https://jobs.example.org/board")


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_an_email_has_a_text_and_an_inlined_html_part_with_absolute_links_only() -> None:
    rendered = renderer().render(
        "application_confirmation", to="ada@example.com", subject="Application sent", context=CONTEXT
    )
    message = parse(to_mime(rendered, sender="Board <jobs@example.org>", at=AT))

    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Application sent"
    assert message["Message-ID"].endswith("@example.org>")
    assert message["Date"] == "Mon, 07 Dec 2026 09:30:00 +0000"
    assert message.get_content_type() == "multipart/alternative"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "Staff Engineer <Platform> at Northwind Health" in text  # text is not HTML-escaped
    assert "https://jobs.example.org/board/jobs/acc_1~post_1" in text
    assert "Staff Engineer &lt;Platform&gt;" in html  # HTML is
    links = Links()
    links.feed(html)
    assert links.style_tags == 0 and links.styled > 5  # the CSS lives on the elements
    assert links.hrefs and all(href.startswith("https://jobs.example.org/board") for href in links.hrefs)


def test_a_relative_link_is_refused_at_render_time() -> None:
    with pytest.raises(LinkError):
        renderer().render(
            "application_confirmation",
            to="ada@example.com",
            subject="Application sent",
            context={**CONTEXT, "job_url": "/board/jobs/acc_1~post_1"},
        )


def test_a_long_unsubscribe_url_stays_a_plain_header_on_the_wire() -> None:
    # Mail clients read List-Unsubscribe as `<url>`: folded into encoded words, the link is lost.
    url = "https://jobs.example.org/board/alerts/unsubscribe?token=" + "t" * 150
    rendered = OutgoingEmail(
        to="ada@example.com", subject="s", html="<p>h</p>", text="t", headers={"List-Unsubscribe": f"<{url}>"}
    )

    raw = to_mime(rendered, sender="jobs@example.org", at=AT)

    assert f"List-Unsubscribe: <{url}>\r\n".encode() in raw


def test_extra_headers_reach_the_message() -> None:
    rendered = OutgoingEmail(
        to="ada@example.com",
        subject="s",
        html="<p>h</p>",
        text="t",
        headers={
            "List-Unsubscribe": "<https://x.example/u?t=1>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message = parse(to_mime(rendered, sender="jobs@example.org", at=AT))
    assert message["List-Unsubscribe"] == "<https://x.example/u?t=1>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


class RecordingSender:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[OutgoingEmail] = []
        self.error = error

    def send(self, message: OutgoingEmail) -> str:
        if self.error is not None:
            raise self.error
        self.sent.append(message)
        return f"id-{len(self.sent)}"


class InMemorySuppressions:
    def __init__(self, *addresses: str) -> None:
        self.addresses = set(addresses)

    def is_suppressed(self, address: str) -> bool:
        return address.lower() in self.addresses


class InMemoryOnce:
    """Stores a key's result only when the action returns (a raising action may be retried)."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}

    def __call__(self, request: dict[str, Any], action: Any, *, lambda_context: Any = None) -> dict[str, Any]:
        key = request["key"]
        if key not in self.results:
            self.results[key] = action()
        return self.results[key]


def request(**overrides: Any) -> EmailRequested:
    values: dict[str, Any] = {
        "key": "application:rec-1",
        "template": "application_confirmation",
        "to": "ada@example.com",
        "subject": "Application sent",
        "context": CONTEXT,
    }
    values.update(overrides)
    return EmailRequested.model_validate(values)


def test_a_retried_email_is_sent_once() -> None:
    sender = RecordingSender()
    dispatcher = EmailDispatcher(renderer(), sender, InMemorySuppressions(), InMemoryOnce())

    assert dispatcher.dispatch(request()) == "sent"
    assert dispatcher.dispatch(request()) == "already_sent"
    assert dispatcher.dispatch(request(key="application:rec-2")) == "sent"
    assert len(sender.sent) == 2


def test_a_suppressed_address_gets_nothing() -> None:
    sender = RecordingSender()
    dispatcher = EmailDispatcher(renderer(), sender, InMemorySuppressions("ada@example.com"), InMemoryOnce())

    assert dispatcher.dispatch(request()) == "suppressed"
    assert sender.sent == []


def test_a_failed_send_is_not_remembered_so_the_retry_sends() -> None:
    from chalicelib.errors import UpstreamUnavailableError

    once = InMemoryOnce()
    failing = EmailDispatcher(
        renderer(),
        RecordingSender(UpstreamUnavailableError(code="email_unavailable")),
        InMemorySuppressions(),
        once,
    )
    with pytest.raises(UpstreamUnavailableError):
        failing.dispatch(request())
    sender = RecordingSender()
    assert EmailDispatcher(renderer(), sender, InMemorySuppressions(), once).dispatch(request()) == "sent"
    assert len(sender.sent) == 1
