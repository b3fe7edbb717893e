"""Opaque, self-validating page cursors.

A cursor names a position in one query's ordering ("after the posting with this score and sort key",
plus how many results came before it, a hint for the next fetch) and the fingerprint of the query it
belongs to, signed (itsdangerous, HMAC-SHA256). The position is a score and sort key, not an offset, so paging
newest-first stays free of duplicates and gaps while postings change (by relevance too, as long as the
scores of the postings involved do not move). A cursor grants nothing: it can only move within the
result set of the query it is presented with, and
it is refused (400) if altered or presented with another query. The HMAC key is derived from values
every process of a deployment shares, so a cursor from one Lambda instance works on another.
"""

from __future__ import annotations

import hashlib
import json
import math

from chalicelib.errors import InvalidRequestError
from chalicelib.services.board.engine import Plan, Position
from chalicelib.services.signed_cursor import SignedCursor, invalid_cursor

_VERSION = 2
_MAX_CURSOR_LENGTH = 1024


def plan_fingerprint(plan: Plan) -> str:
    """Stable identity of a query (words, filters, ordering), independent of page size and cursor."""
    canonical = json.dumps(
        [plan.terms, [[dim, sorted(keys)] for dim, keys in plan.filters], plan.relevance, plan.prefix_last],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class BoardCursorCodec:
    """Encodes and verifies the board's search cursors (signed by SignedCursor)."""

    def __init__(self, key: bytes) -> None:
        self._signed = SignedCursor(key, purpose="board-cursor", max_length=_MAX_CURSOR_LENGTH)

    def encode(self, plan: Plan, position: Position) -> str:
        score, sort_key, seen = position
        return self._signed.encode({"v": _VERSION, "q": plan_fingerprint(plan), "k": [score, sort_key, seen]})

    def decode(self, cursor: str, plan: Plan) -> Position:
        """The position a cursor names; InvalidRequestError if it is malformed, altered or foreign."""
        data = self._signed.decode(cursor)
        try:
            version, fingerprint = data["v"], data["q"]
            score, sort_key, seen = data["k"]
        except (ValueError, KeyError, TypeError) as exc:
            raise invalid_cursor() from exc
        if version != _VERSION or fingerprint != plan_fingerprint(plan):
            raise InvalidRequestError(
                "This cursor belongs to a different query; start again without a cursor.",
                code="invalid_cursor",
                fields={"cursor": "belongs to a different query"},
            )
        if not (isinstance(score, int | float) and not isinstance(score, bool) and math.isfinite(score)):
            raise invalid_cursor()
        if not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**64 for n in (sort_key, seen)
        ):
            raise invalid_cursor()
        return float(score), sort_key, seen
