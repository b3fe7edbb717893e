"""Builds the one httpx.Client per third-party API (explicit timeouts, optional transport for tests)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx


def build_http_client(
    base_url: str,
    *,
    timeout_seconds: float,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx.Client with a connect timeout capped at 5 s and the given overall timeout."""
    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
        headers=dict(headers or {}),
        auth=auth,
        transport=transport,
        follow_redirects=False,
    )
