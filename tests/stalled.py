"""A dependency that stalls: a loopback TCP listener that takes connections and never answers.

The kernel completes each handshake into the listen backlog, so a client connects and sends its request
and then waits for an answer that never comes, exactly as with a hung service behind a load balancer.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

__all__ = ["StalledListener", "stalled"]


class StalledListener:
    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.port = int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def stalled() -> Iterator[StalledListener]:
    listener = StalledListener()
    try:
        yield listener
    finally:
        listener.close()
