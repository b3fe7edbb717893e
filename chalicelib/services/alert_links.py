"""The signed links of an alert's emails: confirm, manage and unsubscribe.

Each token is `itsdangerous` over the alert id, salted with its purpose and bound to that one alert, so a
confirm token never unsubscribes, a token of one alert never touches another, and a token altered by hand
is refused. Confirm tokens expire (unconfirmed alerts are deleted after 7 days anyway); manage and
unsubscribe tokens live as long as the alert, because they sit in emails people keep.
"""

from __future__ import annotations

import hashlib
from typing import Literal
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from chalicelib.errors import NotFoundError

Purpose = Literal["confirm", "manage", "unsubscribe"]
CONFIRM_MAX_AGE_SECONDS = 7 * 86400


def invalid_link() -> NotFoundError:
    # One answer for every bad token: it says nothing about whether an alert or an address exists.
    return NotFoundError("This link is not valid or has expired.", code="alert_link_invalid")


class AlertLinks:
    """Issues and checks alert tokens, and builds the absolute URLs the emails carry."""

    def __init__(self, key: bytes, *, pages_base_url: str) -> None:
        self._serializer = URLSafeTimedSerializer(key, signer_kwargs={"digest_method": hashlib.sha256})
        self._pages_base_url = pages_base_url.rstrip("/")

    def token(self, purpose: Purpose, alert_id: str) -> str:
        return self._serializer.dumps(alert_id, salt=f"alert-{purpose}")

    def alert_id(self, purpose: Purpose, token: str) -> str:
        """The alert a token of `purpose` was issued for; NotFoundError(alert_link_invalid) otherwise."""
        max_age = CONFIRM_MAX_AGE_SECONDS if purpose == "confirm" else None
        try:
            value = self._serializer.loads(token, salt=f"alert-{purpose}", max_age=max_age)
        except (SignatureExpired, BadSignature):
            raise invalid_link() from None
        if not isinstance(value, str) or not value:
            raise invalid_link()
        return value

    def url(self, purpose: Purpose, alert_id: str) -> str:
        """`{PUBLIC_BASE_URL}/alerts/{purpose}?token=...`: the page of `purpose` (GET shows it; a POST to the
        unsubscribe page is the one-click unsubscribe)."""
        return f"{self._pages_base_url}/alerts/{purpose}?token={quote(self.token(purpose, alert_id))}"

    def unsubscribe_headers(self, alert_id: str) -> dict[str, str]:
        """RFC 8058 one-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click` to the URL."""
        return {
            "List-Unsubscribe": f"<{self.url('unsubscribe', alert_id)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
