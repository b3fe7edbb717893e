"""HTTP header rules shared by the API handlers, the board service and the HTTP clients."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "HTML_SECURITY_HEADERS",
    "IDEMPOTENCY_KEY_PATTERN",
    "JSON_HEADERS",
    "RESPONSE_SECURITY_HEADERS",
    "STRICT_TRANSPORT_SECURITY",
    "content_etag",
    "etag_matches",
    "retry_after_seconds",
]

JSON_HEADERS: dict[str, str | list[str]] = {"Content-Type": "application/json"}

# Two years, subdomains included: the API and board are only ever served over HTTPS (API Gateway has no
# plain-HTTP endpoint), so browsers may refuse plain HTTP to the domain outright.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
# On every response: the Lambda's (chalicelib/api/response_policy.py), the gateway's (deploy/render.py).
RESPONSE_SECURITY_HEADERS = {
    "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY,
    "X-Content-Type-Options": "nosniff",
}
# On every HTML page, unless the page sets its own (the board pages' full Content-Security-Policy).
HTML_SECURITY_HEADERS = {
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}

# An Idempotency-Key: 1-255 visible ASCII characters (checked by the handler, documented in OpenAPI).
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"


def content_etag(body: bytes) -> str:
    """A strong ETag for a body: the first 128 bits of its SHA-256, quoted."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match header against an ETag (`*` matches any)."""
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    return any(
        tag == "*" or tag.removeprefix("W/") == bare
        for tag in (part.strip() for part in if_none_match.split(","))
    )


def retry_after_seconds(value: str | None, now: Callable[[], datetime]) -> int | None:
    """Seconds from a Retry-After header (RFC 9110): delta-seconds, or an HTTP date relative to `now()`.

    None when the header is absent or unreadable; a date in the past is 0.
    """
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, math.ceil((moment - now()).total_seconds()))
