"""Typed wrapper over Embloy's one server-to-server call: client token + posting -> request token."""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from chalicelib.clients.embloy.errors import (
    EmbloyBadResponseError,
    EmbloyDeadlineError,
    EmbloyTimeoutError,
    EmbloyUnreachableError,
    error_for_status,
)
from chalicelib.clients.embloy.models import EmbloySession, RequestTokenResponse, portal_url
from chalicelib.clock import Clock, utcnow
from chalicelib.deadline import upstream_time_is_up
from chalicelib.http_headers import retry_after_seconds

__all__ = ["REQUEST_TOKEN_PATH", "EmbloyClient", "portal_url"]

REQUEST_TOKEN_PATH = "/api/v0/sdk/request/auth/token"


class EmbloyClient:
    """`http` carries Embloy's base URL and timeouts (see deps); the token travels per call.

    The client token goes only in the `client_token` header (the name Embloy's server reads); neither it
    nor the request token is ever put into an exception message or a log line.
    """

    def __init__(self, http: httpx.Client, *, now: Clock = utcnow) -> None:
        self._http = http
        self._now = now

    def request_token(self, client_token: str, session: EmbloySession) -> str:
        """Mint a short-lived (30 min) request token for one candidate click."""
        try:
            response = self._http.post(
                REQUEST_TOKEN_PATH,
                headers={"client_token": client_token, "Accept": "application/json"},
                data=session.model_dump(mode="json"),
            )
        except httpx.TimeoutException as exc:
            if upstream_time_is_up():
                raise EmbloyDeadlineError() from exc
            raise EmbloyTimeoutError() from exc
        except httpx.TransportError as exc:
            raise EmbloyUnreachableError() from exc
        if response.status_code >= 300:
            raise error_for_status(
                response.status_code, retry_after_seconds(response.headers.get("Retry-After"), self._now)
            )
        try:
            return RequestTokenResponse.model_validate(response.json()).request_token
        except (ValueError, ValidationError) as exc:
            raise EmbloyBadResponseError(status=response.status_code) from exc
