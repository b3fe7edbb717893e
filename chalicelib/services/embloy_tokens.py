"""Employers' Embloy client tokens: validated before storing, never returned or logged."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.clock import Clock, isoformat, utcnow
from chalicelib.errors import InvalidRequestError

# Real client tokens are HS256 JWTs of a few hundred bytes; anything far larger is not one.
MAX_TOKEN_LENGTH = 4096
_MIN_EXP = 0
_MAX_EXP = 253402300799  # 9999-12-31T23:59:59Z, the last second datetime can represent
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class EmbloyTokenState:
    """What an employer (and the board) may know about a stored token: never the token itself."""

    configured: bool
    updated_at: str | None
    needs_renewal: bool


class EmbloyTokenRepository(Protocol):
    def get_token(self, employer_id: str) -> str | None: ...
    def get_status(self, employer_id: str) -> EmbloyTokenState: ...
    def put_token(self, employer_id: str, token: str, updated_at: str) -> None: ...
    def delete_token(self, employer_id: str, updated_at: str) -> None: ...
    def flag_needs_renewal(self, employer_id: str) -> None: ...


def _decode_segment(segment: str) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def check_client_token(token: str, now: datetime) -> None:
    """Reject what cannot be an Embloy client token (a signed JWT); InvalidRequestError naming the field.

    Only the shape is checked here (the signature is Embloy's secret): three base64url segments, a JSON
    header with an `alg`, a JSON payload, and an `exp` in the future when present.
    """

    def bad(message: str, code: str = "invalid_client_token") -> InvalidRequestError:
        return InvalidRequestError(message, code=code, fields={"client_token": message})

    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise bad(f"client_token must be 1-{MAX_TOKEN_LENGTH} characters.")
    segments = token.split(".")
    if len(segments) != 3 or not all(_SEGMENT.match(part) for part in segments):
        raise bad("client_token must be a JWT (three base64url segments).")
    try:
        header = _decode_segment(segments[0])
        payload = _decode_segment(segments[1])
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad("client_token must be a JWT with a JSON header and payload.") from exc
    if not isinstance(header.get("alg"), str):
        raise bad("client_token must be a JWT with a JSON header and payload.")
    exp = payload.get("exp")
    if exp is None:
        return
    # A NumericDate: seconds since the epoch. Anything datetime cannot hold (1e20, NaN) is malformed.
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not _MIN_EXP <= exp <= _MAX_EXP:
        raise bad("client_token has an invalid exp (expiry) claim.")
    if datetime.fromtimestamp(exp, UTC) <= now:
        raise bad("client_token has expired; create a new one in Embloy.", code="embloy_token_expired")


class EmbloyTokenService:
    """Upload, inspect and remove an employer's Embloy client token."""

    def __init__(self, repository: EmbloyTokenRepository, *, now: Clock = utcnow) -> None:
        self._repository = repository
        self._now = now

    def upload(self, employer_id: str, token: str) -> None:
        token = token.strip()
        moment = self._now()
        check_client_token(token, moment)
        self._repository.put_token(employer_id, token, isoformat(moment))

    def status(self, employer_id: str) -> EmbloyTokenState:
        return self._repository.get_status(employer_id)

    def delete(self, employer_id: str) -> None:
        self._repository.delete_token(employer_id, isoformat(self._now()))
