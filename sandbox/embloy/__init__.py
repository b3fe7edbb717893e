"""A local Embloy: `POST /api/v0/sdk/request/auth/token` validated like Embloy Core, and `/sdk/apply`.

Client tokens are HS256 JWTs signed with the sandbox's client-token secret (default
`DEFAULT_CLIENT_TOKEN_SECRET`), with the five claims Embloy requires: `sub` (int), `typ` (tier), `iat`,
`exp`, `iss="api.embloy.com"`. Mint one offline with `mint_client_token(sub=...)` (no server needed;
the local bootstrap stores one per demo employer), or via `POST /_sandbox/client_tokens`.
See sandbox/README.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox._http import RunningServer
from sandbox.embloy.server import EmbloySandbox, EmbloyState
from sandbox.embloy.tokens import (
    DEFAULT_CLIENT_TOKEN_SECRET,
    decode_jwt,
    demo_client_token,
    demo_user_id,
    encode_jwt,
    mint_client_token,
)

__all__ = [
    "DEFAULT_CLIENT_TOKEN_SECRET",
    "EmbloySandboxHandle",
    "EmbloyState",
    "decode_jwt",
    "demo_client_token",
    "demo_user_id",
    "encode_jwt",
    "mint_client_token",
    "start_embloy_sandbox",
]


@dataclass
class EmbloySandboxHandle:
    """A running Embloy sandbox: `base_url` (API), `portal_url`, the live `state`, `stop()`."""

    server: RunningServer
    state: EmbloyState

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def portal_url(self) -> str:
        return self.state.portal_url

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> EmbloySandboxHandle:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_embloy_sandbox(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    portal_url: str | None = None,
    client_token_secret: str = DEFAULT_CLIENT_TOKEN_SECRET,
    clock: Callable[[], float] | None = None,
) -> EmbloySandboxHandle:
    """Start the Embloy sandbox on host:port (0 = free port) in a daemon thread."""
    state = EmbloyState(client_token_secret=client_token_secret)
    if clock is not None:
        state.clock = clock
    server = RunningServer(EmbloySandbox(state), host, port)
    state.portal_url = (portal_url or server.base_url).rstrip("/")
    return EmbloySandboxHandle(server, state)
