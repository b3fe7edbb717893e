"""The benchmarks' throttling proxy: the token buckets' accounting holds every byte it forwards to the
per-connection and total rates, and each response's first byte waits the set latency.

The proxy runs on a virtual clock (its sleeps move the clock instead of waiting), so the checks are on
the schedule the buckets produced, never on how long the test took.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bench.throttle import ThrottlingProxy, TokenBucket

BODY = os.urandom(1 << 20)
RATE = 1_000_000.0  # bytes/s per connection
TOTAL = 1_500_000.0  # bytes/s over all connections
BURST = 64 * 1024
FIRST_BYTE = 0.05


class VirtualClock:
    """A clock that only moves when the proxy sleeps: sleeping until t makes it t at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    async def sleep_until(self, moment: float) -> None:
        with self._lock:
            self.now = max(self.now, moment)
        await asyncio.sleep(0)


def most_in_any_window(schedule: Sequence[tuple[float, int]], rate: float) -> float:
    """max over windows [t_i, t_j] of (bytes sent in it) - rate * (t_j - t_i): the bucket's burst bound."""
    times = sorted(schedule)
    worst = 0.0
    for i, (start, _) in enumerate(times):
        sent = 0
        for end, amount in times[i:]:
            sent += amount
            worst = max(worst, sent - rate * (end - start))
    return worst


def test_a_bucket_never_grants_more_than_its_rate_plus_capacity_and_no_less_than_its_rate() -> None:
    bucket = TokenBucket(rate=1000.0, capacity=100.0)
    granted: list[tuple[float, int]] = []
    now = 0.0
    for amount in [100, 100, 50, 100, 30, 100] * 20:
        at = bucket.earliest(amount, now)
        bucket.take(amount, at)
        granted.append((at, amount))
        now = at + (0.01 if len(granted) % 7 == 0 else 0.0)  # now and then a pause of 10 ms

    sent = sum(amount for _, amount in granted)
    last = granted[-1][0]
    assert most_in_any_window(granted, 1000.0) <= 100.0 + 1e-6
    # Back-to-back demand is served at the rate: the schedule is no longer than the bytes need.
    pauses = 0.01 * (len(granted) // 7)
    assert last <= (sent - 100.0) / 1000.0 + pauses + 1e-9
    with pytest.raises(ValueError):
        bucket.earliest(101, now)  # a chunk larger than the bucket could never go


class _Blob(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy_and_clock() -> Iterator[tuple[ThrottlingProxy, VirtualClock]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Blob)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    clock = VirtualClock()
    host, port = server.server_address[:2]
    try:
        with ThrottlingProxy(
            (str(host), int(port)),
            per_connection_bytes_per_second=RATE,
            total_bytes_per_second=TOTAL,
            first_byte_seconds=FIRST_BYTE,
            burst_bytes=BURST,
            clock=clock,
            sleep_until=clock.sleep_until,
        ) as proxy:
            yield proxy, clock
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fetch_through(proxy: ThrottlingProxy, connections: int, requests_each: int) -> list[bytes]:
    def one_connection(_: int) -> list[bytes]:
        with httpx.Client(base_url=proxy.url, timeout=30, trust_env=False) as client:
            return [client.get("/blob").content for _ in range(requests_each)]

    with ThreadPoolExecutor(max_workers=connections) as pool:
        return [body for bodies in pool.map(one_connection, range(connections)) for body in bodies]


def test_one_connection_is_held_to_its_rate_with_a_first_byte_wait_per_request(
    proxy_and_clock: tuple[ThrottlingProxy, VirtualClock],
) -> None:
    proxy, clock = proxy_and_clock

    bodies = fetch_through(proxy, connections=1, requests_each=2)

    assert bodies == [BODY, BODY]
    schedule = [(at, amount) for at, amount, _ in proxy.schedule]
    assert sum(amount for _, amount in schedule) == proxy.bytes_down >= 2 * len(BODY)
    assert most_in_any_window(schedule, RATE) <= BURST + 1e-6
    # The bytes took at least what the rate allows, plus a first-byte wait for each of the two requests.
    span = max(at for at, _ in schedule) - proxy.throttle.start
    assert span >= (proxy.bytes_down - BURST) / RATE + FIRST_BYTE
    assert clock.now >= max(at for at, _ in schedule)  # it waited for each chunk's time before sending
    assert proxy.requests == 2
    assert min(proxy.first_byte_waits) >= FIRST_BYTE


def test_parallel_connections_share_the_total_rate(
    proxy_and_clock: tuple[ThrottlingProxy, VirtualClock],
) -> None:
    proxy, clock = proxy_and_clock

    bodies = fetch_through(proxy, connections=3, requests_each=1)

    assert bodies == [BODY] * 3
    by_connection: dict[int, list[tuple[float, int]]] = {}
    for at, amount, connection in proxy.schedule:
        by_connection.setdefault(connection, []).append((at, amount))
    assert len(by_connection) == 3
    for schedule in by_connection.values():
        assert most_in_any_window(schedule, RATE) <= BURST + 1e-6
    everything = [(at, amount) for at, amount, _ in proxy.schedule]
    assert most_in_any_window(everything, TOTAL) <= BURST + 1e-6
    # Three connections at 1 MB/s each would move 3 MB/s: the total of 1.5 MB/s is what held them.
    span = max(at for at, _ in everything) - proxy.throttle.start
    assert span >= (proxy.bytes_down - BURST) / TOTAL
    assert clock.now >= max(at for at, _ in everything)
