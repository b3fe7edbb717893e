"""A loopback TCP proxy giving a local S3 (moto's server) the bandwidth and latency of S3 seen from Lambda.

Responses (upstream -> client) are paced by two token buckets: one per connection and one shared by all
connections, so one GET gets at most the per-connection rate and parallel GETs share the total. The
first byte of each response waits until `first_byte_seconds` after its request began (S3's time to
first byte). Requests (client -> upstream) pass unpaced: uploads that set a benchmark up are not what
it measures. Figures and sources: docs/benchmarks.md#snapshot-download.

The buckets keep their accounting on a schedule: each chunk of a response is given the earliest time
at which both buckets hold enough tokens, and is sent at that time. `ThrottlingProxy.schedule` is that
record, (time, bytes, connection) per chunk; tests check it against the buckets' bounds, and inject a
virtual clock so that no test waits in real time.

    with ThrottlingProxy(("127.0.0.1", moto_port), per_connection_bytes_per_second=85e6,
                         total_bytes_per_second=300e6, first_byte_seconds=0.03) as proxy:
        proxy.url   # http://127.0.0.1:<port>: the endpoint to give the S3 client

    python -m bench.throttle --upstream 127.0.0.1:5001 --per-connection-mbps 85 --total-mbps 300
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# Largest chunk sent at once, and the buckets' capacity: a bucket must hold a whole chunk.
DEFAULT_BURST_BYTES = 256 * 1024
Clock = Callable[[], float]
SleepUntil = Callable[[float], Awaitable[None]]


class TokenBucket:
    """`rate` tokens (bytes) a second, at most `capacity` held; reservations may lie in the future.

    `earliest(amount, now)` is the first time at or after `now` (and after every earlier reservation)
    when `amount` tokens are there; `take(amount, at)` spends them then. Reservations are made in time
    order, so over any interval of length T the bytes taken are at most rate * T + capacity.
    """

    def __init__(self, rate: float, capacity: float, *, start: float = 0.0) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("a bucket needs a positive rate and capacity")
        self.rate = rate
        self.capacity = capacity
        self._at = start  # time of the last reservation (may be ahead of the clock)
        self._tokens = capacity  # tokens left at `_at`

    def _tokens_at(self, moment: float) -> float:
        return min(self.capacity, self._tokens + (moment - self._at) * self.rate)

    def earliest(self, amount: float, now: float) -> float:
        if amount > self.capacity:
            raise ValueError(f"{amount} tokens never fit a bucket of {self.capacity}")
        base = max(now, self._at)
        missing = amount - self._tokens_at(base)
        return base if missing <= 0 else base + missing / self.rate

    def take(self, amount: float, at: float) -> None:
        if at < self._at:
            raise ValueError("reservations must be made in time order")
        tokens = self._tokens_at(at) - amount
        if tokens < -1e-6 * self.capacity:
            raise ValueError("not enough tokens at that time")
        self._at, self._tokens = at, max(0.0, tokens)


@dataclass(slots=True)
class Throttle:
    """The accounting of one proxy: a bucket per connection and one for all of them, plus the record."""

    per_connection_rate: float
    total_rate: float
    burst: int = DEFAULT_BURST_BYTES
    start: float = 0.0
    schedule: list[tuple[float, int, int]] = field(default_factory=list)  # (time, bytes, connection)
    _total: TokenBucket = field(init=False)
    _connections: dict[int, TokenBucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._total = TokenBucket(self.total_rate, self.burst, start=self.start)

    def reserve(self, connection: int, amount: int, now: float) -> float:
        """When `amount` bytes of `connection` may go: the later of both buckets' earliest times."""
        own = self._connections.get(connection)
        if own is None:
            own = self._connections[connection] = TokenBucket(self.per_connection_rate, self.burst, start=now)
        at = max(own.earliest(amount, now), self._total.earliest(amount, now))
        own.take(amount, at)
        self._total.take(amount, at)
        self.schedule.append((at, amount, connection))
        return at

    def forget(self, connection: int) -> None:
        self._connections.pop(connection, None)


async def _sleep_until(moment: float, clock: Clock = time.monotonic) -> None:
    delay = moment - clock()
    if delay > 0:
        await asyncio.sleep(delay)


class ThrottlingProxy:
    """Forwards loopback TCP connections to `upstream`, pacing what comes back (see the module doc)."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        per_connection_bytes_per_second: float,
        total_bytes_per_second: float,
        first_byte_seconds: float,
        burst_bytes: int = DEFAULT_BURST_BYTES,
        clock: Clock = time.monotonic,
        sleep_until: SleepUntil | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self._upstream = upstream
        self._host = host
        self._clock = clock
        self._sleep_until = sleep_until or (lambda moment: _sleep_until(moment, clock))
        self.first_byte_seconds = first_byte_seconds
        self.throttle = Throttle(
            per_connection_bytes_per_second, total_bytes_per_second, burst_bytes, start=clock()
        )
        self._ids = itertools.count(1)
        self.port = 0
        self.requests = 0  # responses begun (each waited for its first byte)
        self.bytes_down = 0
        self.first_byte_waits: list[float] = []  # (first byte sent at) - (request began), per response
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def schedule(self) -> list[tuple[float, int, int]]:
        return self.throttle.schedule

    # ---- life cycle: its own event loop on a thread, so synchronous benchmarks and tests can use it ----
    def start(self) -> ThrottlingProxy:
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(asyncio.start_server(self._serve, self._host, 0))
            self.port = int(self._server.sockets[0].getsockname()[1])
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="throttling-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("the throttling proxy did not start")
        return self

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shut(), loop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> ThrottlingProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- one connection --------------------------------------------------------------------------------
    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        connection = next(self._ids)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
            # Set by the request pump when a request begins, cleared by the response pump at its first byte.
            request_began: list[float] = []
            requests = asyncio.ensure_future(self._requests(client_reader, upstream_writer, request_began))
            try:
                await self._responses(connection, upstream_reader, client_writer, request_began)
            finally:
                requests.cancel()
                await asyncio.gather(requests, return_exceptions=True)
        except (OSError, asyncio.IncompleteReadError):
            pass  # either side went away: the connection ends
        finally:
            self.throttle.forget(connection)
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    writer.close()
                    with contextlib.suppress(Exception):
                        await writer.wait_closed()
            self._tasks.discard(task)

    async def _requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request_began: list[float]
    ) -> None:
        while data := await reader.read(DEFAULT_BURST_BYTES):
            if not request_began:
                request_began.append(self._clock())  # a new request (HTTP/1.1: one at a time)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    async def _responses(
        self,
        connection: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request_began: list[float],
    ) -> None:
        burst = self.throttle.burst
        while data := await reader.read(burst):
            if request_began:
                began = request_began.pop()
                await self._sleep_until(began + self.first_byte_seconds)
                self.requests += 1
                self.first_byte_waits.append(self._clock() - began)
            at = self.throttle.reserve(connection, len(data), self._clock())
            await self._sleep_until(at)
            writer.write(data)
            await writer.drain()
            self.bytes_down += len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True, help="host:port to forward to")
    parser.add_argument("--per-connection-mbps", type=float, default=85.0, help="MB/s (10^6) per connection")
    parser.add_argument("--total-mbps", type=float, default=300.0, help="MB/s (10^6) over all connections")
    parser.add_argument("--first-byte-ms", type=float, default=30.0)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    proxy = ThrottlingProxy(
        (host, int(port)),
        per_connection_bytes_per_second=args.per_connection_mbps * 1e6,
        total_bytes_per_second=args.total_mbps * 1e6,
        first_byte_seconds=args.first_byte_ms / 1000,
    ).start()
    print(f"throttling {args.upstream} at {proxy.url} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.close()


if __name__ == "__main__":
    main()
