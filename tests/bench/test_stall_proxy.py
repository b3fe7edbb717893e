"""The fault bench's stalling proxy: traffic flows, a stall swallows requests, and it flows again after."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bench.stall_proxy import StallingProxy


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's and httpx's pools use it

    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[StallingProxy]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        with StallingProxy((str(host), int(port)), name="hello") as running:
            yield running
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _client() -> httpx.Client:
    # Generous for a loopback answer; the stalled request must end by this timeout, not hang.
    return httpx.Client(timeout=httpx.Timeout(2.0), trust_env=False)


def test_the_proxy_forwards_until_stalled_swallows_while_stalled_and_forwards_again(
    proxy: StallingProxy,
) -> None:
    with _client() as client:
        assert client.get(f"{proxy.url}/").text == "hello"

        with proxy.stalled():
            assert proxy.is_stalled
            # The pooled connection and a fresh one alike: accepted, never answered.
            with pytest.raises(httpx.ReadTimeout):
                client.get(f"{proxy.url}/")
            with _client() as fresh, pytest.raises(httpx.ReadTimeout):
                fresh.get(f"{proxy.url}/")
            assert proxy.held_connections == 2

        assert not proxy.is_stalled
        assert client.get(f"{proxy.url}/").text == "hello"


def test_an_idle_pooled_connection_survives_a_stall_it_did_not_use(proxy: StallingProxy) -> None:
    with _client() as client:
        assert client.get(f"{proxy.url}/").status_code == 200
        with proxy.stalled():
            pass
        assert client.get(f"{proxy.url}/").text == "hello"
    assert proxy.held_connections == 0
