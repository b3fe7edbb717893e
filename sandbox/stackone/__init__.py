"""A local StackOne: the platform + unified ATS subset the board uses, seeded with demo employers.

`start_stackone_sandbox(...)` runs it in a background thread (tests, benchmarks);
`python -m sandbox.stackone` runs it in the foreground (the local stack). See sandbox/README.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sandbox._http import RunningServer
from sandbox.stackone.server import StackOneSandbox
from sandbox.stackone.state import FailureRule, StackOneState, _now

__all__ = ["FailureRule", "StackOneSandboxHandle", "StackOneState", "start_stackone_sandbox"]

DEFAULT_API_KEY = "sandbox-api-key"


@dataclass
class StackOneSandboxHandle:
    """A running sandbox: `base_url`, the live `state` (inspect or mutate it directly), `stop()`."""

    server: RunningServer
    state: StackOneState

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> StackOneSandboxHandle:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_stackone_sandbox(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    api_key: str = DEFAULT_API_KEY,
    latency_ms: int = 0,
    seed: int = 42,
    public_url: str | None = None,
    seed_demo_data: bool = True,
    clock: Callable[[], datetime] = _now,
    sleep: Callable[[float], None] | None = None,
) -> StackOneSandboxHandle:
    """Start the sandbox on host:port (0 = a free port) in a daemon thread and return its handle."""
    state = StackOneState(
        api_key=api_key, seed_value=seed, latency_ms=latency_ms, clock=clock, seed_demo_data=seed_demo_data
    )
    app = StackOneSandbox(state) if sleep is None else StackOneSandbox(state, sleep=sleep)
    server = RunningServer(app, host, port)
    state.public_url = public_url or server.base_url
    return StackOneSandboxHandle(server, state)
