"""Opaque, self-validating page cursors.

A cursor names a position in one query's ordering ("after the posting with this sort key, in this
relevance tier") and the fingerprint of the query it belongs to, with an HMAC over both. The position
is a sort key, not an offset, so paging stays free of duplicates and gaps while postings change. A
cursor grants nothing: it can only move within the result set of the query it is presented with, and
it is refused (400) if altered or presented with another query. The HMAC key is derived from values
every process of a deployment shares, so a cursor from one Lambda instance works on another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from chalicelib.errors import InvalidRequestError
from chalicelib.services.board.index import Plan, Position

_VERSION = 1
_MAX_CURSOR_LENGTH = 1024


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def plan_fingerprint(plan: Plan) -> str:
    """Stable identity of a query (words, filters, ordering), independent of page size and cursor."""
    canonical = json.dumps(
        [plan.terms, [[dim, sorted(keys)] for dim, keys in plan.filters], plan.relevance],
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
        tier, (sort_value, job_id) = position
        payload = json.dumps(
            {"v": _VERSION, "q": plan_fingerprint(plan), "t": tier, "k": [sort_value, job_id]},
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
            version, fingerprint, tier = data["v"], data["q"], data["t"]
            sort_value, job_id = data["k"]
        except (ValueError, KeyError, TypeError) as exc:
            raise self._invalid() from exc
        if version != _VERSION or fingerprint != plan_fingerprint(plan):
            raise InvalidRequestError(
                "This cursor belongs to a different query; start again without a cursor.",
                code="invalid_cursor",
                fields={"cursor": "belongs to a different query"},
            )
        if not (isinstance(tier, int) and 0 <= tier <= 2 and isinstance(sort_value, int)):
            raise self._invalid()
        if not isinstance(job_id, str):
            raise self._invalid()
        return tier, (sort_value, job_id)

    @staticmethod
    def _invalid() -> InvalidRequestError:
        return InvalidRequestError(
            "The cursor is not valid; use the next_cursor of a previous response.",
            code="invalid_cursor",
            fields={"cursor": "not a valid cursor"},
        )
