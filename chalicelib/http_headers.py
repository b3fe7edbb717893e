"""HTTP header rules shared by the API handlers, the board service and the HTTP clients."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["IDEMPOTENCY_KEY_PATTERN", "JSON_HEADERS", "etag_matches", "retry_after_seconds"]

JSON_HEADERS: dict[str, str | list[str]] = {"Content-Type": "application/json"}

# An Idempotency-Key: 1-255 visible ASCII characters (checked by the handler, documented in OpenAPI).
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"


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
