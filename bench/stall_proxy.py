"""A loopback TCP proxy in front of one dependency that can be switched to "accept but never answer".

What a stalled AWS endpoint or third-party API looks like to a client: the connection opens (or stays
open, for pooled keep-alive connections), the request goes out, and nothing ever comes back. While the
proxy is stalled, every connection that sends or would receive anything is held: what the client sends is
read and dropped, nothing is forwarded either way. Connections that stay idle through a stall are left
alone, so a client's connection pool is not poisoned by a stall it never used. When the stall ends,
held connections are closed (their clients gave up long ago: a late answer would be a lie) and traffic
flows again.

    proxy = StallingProxy(("127.0.0.1", 5001), name="dynamodb").start()
    proxy.url            # http://127.0.0.1:<port>, to configure instead of the dependency's own URL
    with proxy.stalled():
        ...              # requests through the proxy hang until the client's own timeout
    proxy.close()
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable, Iterator

_POLL_SECONDS = 0.05
_CHUNK = 65536


class StallingProxy:
    """Forwards loopback TCP connections to `upstream` until `stall()`; `resume()` lets traffic through."""

    def __init__(self, upstream: tuple[str, int], *, name: str, host: str = "127.0.0.1") -> None:
        self.name = name
        self._upstream = upstream
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(_POLL_SECONDS)
        self.host, self.port = self._listener.getsockname()[:2]
        self._stall = threading.Event()
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.held_connections = 0  # connections a stall has swallowed so far

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_stalled(self) -> bool:
        return self._stall.is_set()

    def start(self) -> StallingProxy:
        self._spawn(self._accept_loop, f"{self.name}-proxy-accept")
        return self

    def stall(self) -> None:
        self._stall.set()

    def resume(self) -> None:
        self._stall.clear()

    @contextlib.contextmanager
    def stalled(self) -> Iterator[StallingProxy]:
        """Stalled for the `with` block, then traffic flows again."""
        self.stall()
        try:
            yield self
        finally:
            self.resume()

    def close(self) -> None:
        """Stop accepting, close every connection and wait for the proxy's threads."""
        self._closed.set()
        self._listener.close()
        for thread in list(self._threads):
            thread.join(timeout=5)

    def __enter__(self) -> StallingProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed
            client.setblocking(True)
            self._spawn(self._serve, f"{self.name}-proxy-conn", client)

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            if self._stall.is_set():
                self._hold(client)
                return
            try:
                upstream = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                return  # the dependency is down: the client sees the connection close
            upstream.settimeout(None)  # blocking like the client side; select() paces both
            with contextlib.suppress(OSError):  # either side reset or closed: the connection ends
                self._pipe(client, upstream)
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        while not self._closed.is_set():
            readable, _, _ = select.select([client, upstream], [], [], _POLL_SECONDS)
            if not readable:
                continue
            if self._stall.is_set():
                # Traffic during a stall: from now on this connection is swallowed.
                self._hold(client)
                return
            for sock in readable:
                data = sock.recv(_CHUNK)
                if not data:
                    return
                peers[sock].sendall(data)

    def _hold(self, client: socket.socket) -> None:
        """Read and drop what the client sends, answer nothing, until the stall ends or the client leaves."""
        with self._lock:
            self.held_connections += 1
        while self._stall.is_set() and not self._closed.is_set():
            readable, _, _ = select.select([client], [], [], _POLL_SECONDS)
            if readable:
                try:
                    if not client.recv(_CHUNK):
                        return  # the client gave up and closed
                except OSError:
                    return
