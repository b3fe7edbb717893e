"""Basic auth for StackOne whose key is read per request through the cached secret store."""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator

import httpx


class StackOneKeyAuth(httpx.Auth):
    """`Authorization: Basic base64("<api key>:")`, the key fetched from `api_key()` on every request.

    `api_key` is the secret store's cached read: a warm process never calls Secrets Manager, and a
    rotated key is picked up once the cache entry passes its max age.
    """

    def __init__(self, api_key: Callable[[], str]) -> None:
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = base64.b64encode(f"{self._api_key()}:".encode()).decode()
        request.headers["Authorization"] = f"Basic {token}"
        yield request

    def __repr__(self) -> str:  # never show the key
        return "StackOneKeyAuth(<secret>)"
