"""Builds the one httpx.Client per third-party API (explicit timeouts, optional transport for tests).

Every client carries a request hook that cuts each request's timeouts to the time the API request has
left (`chalicelib.deadline`), and refuses to send when none is left. Outside an API request the client's
own timeouts apply unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from chalicelib.deadline import FOLLOW_UP_RESERVE_SECONDS, current_deadline

_TIMEOUT_PHASES = ("connect", "read", "write", "pool")


class RequestDeadlineTimeout(httpx.TimeoutException):
    """The API request's deadline left no time to send this request."""


def cap_to_request_deadline(request: httpx.Request) -> None:
    """httpx request hook: no phase of this request may wait longer than the API request has left."""
    deadline = current_deadline()
    if deadline is None:
        return
    if deadline.exhausted(FOLLOW_UP_RESERVE_SECONDS):
        raise RequestDeadlineTimeout("The request's deadline left no time to send it.", request=request)
    configured = request.extensions.get("timeout") or {}
    request.extensions["timeout"] = {
        phase: deadline.cap(configured.get(phase), FOLLOW_UP_RESERVE_SECONDS) for phase in _TIMEOUT_PHASES
    }


def build_http_client(
    base_url: str,
    *,
    timeout_seconds: float,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx.Client with a connect timeout capped at 5 s and the given overall timeout, each cut to
    the request deadline's time left when there is one."""
    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
        headers=dict(headers or {}),
        auth=auth,
        transport=transport,
        follow_redirects=False,
        event_hooks={"request": [cap_to_request_deadline]},
    )
