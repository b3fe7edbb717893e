"""Opaque, self-validating page cursors.

A cursor names a position in one query's ordering ("after the posting with this score and sort key",
plus how many results came before it, a hint for the next fetch) and the fingerprint of the query it
belongs to, with an HMAC over both. The position is a score and sort key, not an offset, so paging
newest-first stays free of duplicates and gaps while postings change (by relevance too, as long as the
scores of the postings involved do not move). A cursor grants nothing: it can only move within the
result set of the query it is presented with, and
it is refused (400) if altered or presented with another query. The HMAC key is derived from values
every process of a deployment shares, so a cursor from one Lambda instance works on another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math

from chalicelib.errors import InvalidRequestError
from chalicelib.services.board.engine import Plan, Position

_VERSION = 2
_MAX_CURSOR_LENGTH = 1024


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def plan_fingerprint(plan: Plan) -> str:
    """Stable identity of a query (words, filters, ordering), independent of page size and cursor."""
    canonical = json.dumps(
        [plan.terms, [[dim, sorted(keys)] for dim, keys in plan.filters], plan.relevance, plan.prefix_last],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class CursorCodec:
    """Encodes and verifies cursors."""

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"board-cursor\n" + key).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, plan: Plan, position: Position) -> str:
        score, sort_key, seen = position
        payload = json.dumps(
            {"v": _VERSION, "q": plan_fingerprint(plan), "k": [score, sort_key, seen]},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, cursor: str, plan: Plan) -> Position:
        """The position a cursor names; InvalidRequestError if it is malformed, altered or foreign."""
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise self._invalid()
        payload_text, sep, mac_text = cursor.partition(".")
        try:
            payload = _unb64(payload_text)
            mac = _unb64(mac_text)
        except (binascii.Error, ValueError) as exc:
            raise self._invalid() from exc
        if not sep or not hmac.compare_digest(mac, self._mac(payload)):
            raise self._invalid()
        try:
            data = json.loads(payload)
            version, fingerprint = data["v"], data["q"]
            score, sort_key, seen = data["k"]
        except (ValueError, KeyError, TypeError) as exc:
            raise self._invalid() from exc
        if version != _VERSION or fingerprint != plan_fingerprint(plan):
            raise InvalidRequestError(
                "This cursor belongs to a different query; start again without a cursor.",
                code="invalid_cursor",
                fields={"cursor": "belongs to a different query"},
            )
        if not (isinstance(score, int | float) and not isinstance(score, bool) and math.isfinite(score)):
            raise self._invalid()
        if not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**64 for n in (sort_key, seen)
        ):
            raise self._invalid()
        return float(score), sort_key, seen

    @staticmethod
    def _invalid() -> InvalidRequestError:
        return InvalidRequestError(
            "The cursor is not valid; use the next_cursor of a previous response.",
            code="invalid_cursor",
            fields={"cursor": "not a valid cursor"},
        )
