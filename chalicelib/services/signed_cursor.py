"""Opaque, signed page cursors (itsdangerous), shared by every paged endpoint.

A cursor is `base64url(JSON payload).base64url(HMAC-SHA256)`. The signature covers the payload and a
salt made of the cursor's purpose and the context it is bound to (for example the employer and job
filter it was issued for), so a cursor altered by hand, signed with another key, issued for another
purpose or presented in another context is refused with one 400 (`invalid_cursor`). What the payload
means is up to the caller, which still checks its shape after `decode`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode

from chalicelib.errors import InvalidRequestError

__all__ = ["SignedCursor", "invalid_cursor"]

_MAX_CURSOR_LENGTH = 2048


class _PlainURLSafeSerializer(URLSafeSerializer):
    """URLSafeSerializer without its optional zlib step: cursors stay `payload.signature`, always."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(self.serializer.dumps(obj, **self.serializer_kwargs).encode("utf-8"))


def invalid_cursor() -> InvalidRequestError:
    return InvalidRequestError(
        "The cursor is not valid; use the next_cursor of a previous response.",
        code="invalid_cursor",
        fields={"cursor": "not a valid cursor"},
    )


class SignedCursor:
    """Signs JSON payloads as cursors for one purpose, optionally bound to a context string."""

    def __init__(self, key: bytes, *, purpose: str, max_length: int = _MAX_CURSOR_LENGTH) -> None:
        self._purpose = purpose
        self._max_length = max_length
        self._serializer = _PlainURLSafeSerializer(
            key, salt=purpose, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def _salt(self, context: str) -> str:
        return f"{self._purpose}\n{context}"

    def encode(self, payload: Any, *, context: str = "") -> str:
        return self._serializer.dumps(payload, salt=self._salt(context))

    def decode(self, cursor: str, *, context: str = "") -> Any:
        """The payload of a cursor this instance issued in `context`; InvalidRequestError otherwise."""
        if not cursor or len(cursor) > self._max_length:
            raise invalid_cursor()
        try:
            return self._serializer.loads(cursor, salt=self._salt(context))
        except (BadSignature, ValueError, UnicodeError) as exc:
            raise invalid_cursor() from exc
