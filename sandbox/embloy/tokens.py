"""HS256 JWTs as Embloy Core issues them (stdlib only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

DEFAULT_CLIENT_TOKEN_SECRET = "embloy-sandbox-client-token-secret"
ISSUER = "api.embloy.com"
TIERS = ("basic", "premium", "enterprise_1", "enterprise_2", "enterprise_3")
CLIENT_TOKEN_LIFETIME = 90 * 24 * 3600  # Embloy's default: three months
REQUEST_TOKEN_LIFETIME = 30 * 60


class InvalidToken(Exception):
    """Signature, format, issuer, claims or expiry are wrong (Embloy answers 401 `token`)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(claims: dict[str, Any], secret: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def decode_jwt(token: str, secret: str, *, now: float | None = None) -> dict[str, Any]:
    """The verified claims; InvalidToken for anything Embloy's `JWT.decode(..., verify: true)` rejects."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT")
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("not a JWT") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise InvalidToken("wrong algorithm")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise InvalidToken("bad signature")
    moment = time.time() if now is None else now
    if claims.get("iss") != ISSUER:
        raise InvalidToken("wrong issuer")
    for claim in ("sub", "iat", "exp"):
        if not isinstance(claims.get(claim), int):
            raise InvalidToken(f"missing {claim}")
    if claims["iat"] > moment + 60:
        raise InvalidToken("issued in the future")
    if claims["exp"] <= moment:
        raise InvalidToken("expired")
    return claims


def mint_client_token(
    sub: int,
    *,
    typ: str = "enterprise_3",
    secret: str = DEFAULT_CLIENT_TOKEN_SECRET,
    issued_at: int | None = None,
    expires_in: int = CLIENT_TOKEN_LIFETIME,
) -> str:
    """A client token the sandbox accepts (an employer's "Embloy API key"); no server call needed."""
    iat = int(time.time()) if issued_at is None else issued_at
    claims = {"sub": sub, "typ": typ, "iat": iat, "exp": iat + expires_in, "iss": ISSUER}
    return encode_jwt(claims, secret)


def demo_user_id(employer_id: str) -> int:
    """The Embloy user id (`sub`) the sandbox uses for a demo employer: stable, derived from its id."""
    return 1000 + int(hashlib.sha256(employer_id.encode()).hexdigest()[:6], 16) % 9000


def demo_client_token(employer_id: str, *, secret: str = DEFAULT_CLIENT_TOKEN_SECRET) -> str:
    """A valid client token for a demo employer (the local bootstrap stores one per Ashby/Lever employer)."""
    return mint_client_token(demo_user_id(employer_id), secret=secret)
