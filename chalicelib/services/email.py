"""Email the board sends: one port (`EmailSender`), messages rendered from templates into MIME.

Every email has an HTML part (CSS inlined, so mail clients that drop `<style>` still show it) and a
plain-text part, both from the same template context, with absolute links only. The port takes the
finished MIME bytes: SES (deployed) and an SMTP catcher (local) send exactly what the tests parse.
"""

from __future__ import annotations

import email.policy
import email.utils
import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from chalicelib.models.messages import EmailRequested

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "emails"


@dataclass(frozen=True)
class OutgoingEmail:
    """One rendered email to one recipient."""

    to: str
    subject: str
    html: str
    text: str
    # Extra headers, e.g. RFC 8058's List-Unsubscribe and List-Unsubscribe-Post.
    headers: Mapping[str, str] = field(default_factory=dict)
    # What kind of email this is (alert, application_confirmation, ...): a tag for SES events and logs.
    kind: str = "board"


class EmailSender(Protocol):
    def send(self, message: OutgoingEmail) -> str:
        """Send one email; the transport's message id. EmailUnavailableError when it cannot now."""
        ...


def to_mime(message: OutgoingEmail, *, sender: str, at: datetime) -> bytes:
    """The RFC 5322 message: multipart/alternative, text first and HTML last (the part clients prefer)."""
    # Lines up to RFC 5322's 998: a long List-Unsubscribe URL stays one `<https://...>` instead of being
    # folded into RFC 2047 encoded words, which mail clients do not read as a link.
    mime = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.format_datetime(at)
    mime["Message-ID"] = email.utils.make_msgid(domain=address_domain(sender))
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text, subtype="plain", charset="utf-8")
    mime.add_alternative(message.html, subtype="html", charset="utf-8")
    return mime.as_bytes()


def address_domain(address: str) -> str:
    """The domain of `Name <local@domain>` or `local@domain`."""
    _name, bare = email.utils.parseaddr(address)
    return bare.rpartition("@")[2] or "localhost"


class LinkError(ValueError):
    """A template produced a link that is not absolute http(s)."""


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _inliner() -> Any:
    import css_inline

    # The layout's <style> is the only stylesheet: nothing is fetched while rendering.
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


def absolute_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL; LinkError otherwise (a relative link is dead in a mailbox)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LinkError(f"not an absolute http(s) link: {url!r}")
    return url


class EmailRenderer:
    """Renders `<name>.html` and `<name>.txt` from chalicelib/emails/ with the same context."""

    def __init__(self, *, board_name: str, public_base_url: str) -> None:
        self._board_name = board_name
        self._public_base_url = absolute_url(public_base_url.rstrip("/"))

    def render(
        self,
        name: str,
        *,
        to: str,
        subject: str,
        context: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> OutgoingEmail:
        environment = _environment()
        values = {
            **context,
            "board_name": self._board_name,
            "board_url": self._public_base_url,
            "subject": subject,
            "link": absolute_url,
        }
        html = _inliner().inline(environment.get_template(f"{name}.html").render(values))
        text = environment.get_template(f"{name}.txt").render(values).strip() + "\n"
        return OutgoingEmail(
            to=to, subject=subject, html=html, text=text, headers=dict(headers or {}), kind=name
        )


class SuppressionList(Protocol):
    def is_suppressed(self, address: str) -> bool:
        """True when the address bounced or complained: the board never writes to it again."""
        ...


class SendOnce(Protocol):
    def __call__(
        self, request: dict[str, Any], action: Callable[[], dict[str, Any]], *, lambda_context: Any = None
    ) -> dict[str, Any]: ...


class SendRate(Protocol):
    def acquire(self, deadline: float) -> float: ...


class EmailDispatcher:
    """Renders and sends one queued email, at most once per key, within the configured send rate."""

    def __init__(
        self,
        renderer: EmailRenderer,
        sender: EmailSender,
        suppressions: SuppressionList,
        once: SendOnce,
        *,
        rate: SendRate | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rate_wait_seconds: float = 20.0,
    ) -> None:
        self._renderer = renderer
        self._sender = sender
        self._suppressions = suppressions
        self._once = once
        self._rate = rate
        self._monotonic = monotonic
        self._rate_wait_seconds = rate_wait_seconds

    def dispatch(self, request: EmailRequested, *, lambda_context: Any = None) -> str:
        """ "sent", "suppressed" or "already_sent"; EmailUnavailableError-type errors leave it for a retry."""
        if self._suppressions.is_suppressed(request.to):
            return "suppressed"
        ran: list[bool] = []

        def send() -> dict[str, Any]:
            ran.append(True)
            message = self._renderer.render(
                request.template,
                to=request.to,
                subject=request.subject,
                context=request.context,
                headers=request.headers,
            )
            if self._rate is not None:
                self._rate.acquire(self._monotonic() + self._rate_wait_seconds)
            return {"message_id": self._sender.send(message)}

        self._once({"key": request.key}, send, lambda_context=lambda_context)
        return "sent" if ran else "already_sent"
