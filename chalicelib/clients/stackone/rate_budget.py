"""One request budget per StackOne API key, shared by every process that uses the key.

StackOne allows 1,000 requests per minute per API key, across all linked accounts and all Lambdas. Each
process asks a shared counter for a slot before every request (retries included). Time is cut into
short windows (1 s by default) of `per_minute * window / 60` requests each; a full window makes the
caller wait for the next one. Any 60 s span covers at most 61 windows, so with the default 900 per
minute no minute sees more than 915 requests, under StackOne's 1,000. StackOne's own 429 and
`Retry-After` stay the second line of defence (the client honours them).

The counter is injected (`WindowCounter`): a DynamoDB item in production (`chalicelib/aws/rate_budget.py`),
an in-memory one for tests and benchmarks. When the counter itself fails, requests go ahead (fail open):
a broken budget must not stop the board, and StackOne's 429 still protects the key.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from chalicelib.clock import Sleep, real_sleep
from chalicelib.errors import AppError
from chalicelib.observability import logger


class WindowCounter(Protocol):
    def try_take(self, window: int, limit: int) -> bool:
        """Take one slot of `window` (an integer that only grows) if fewer than `limit` are taken."""
        ...


class RateBudgetExhaustedError(Exception):
    """No slot before the caller's deadline; `wait_seconds` until the next window opens."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"no request slot for {wait_seconds:.2f} s")
        self.wait_seconds = wait_seconds


class SharedRateBudget:
    """At most `per_minute` requests per minute across every process that shares `counter`.

    Parameters
    ----------
    counter:
        The shared window counter.
    per_minute:
        The budget (e.g. 900 for StackOne's 1,000 per minute, leaving room for clock skew and humans).
    window_seconds:
        Length of one window; the budget is spread evenly over the minute.
    clock, monotonic, sleep:
        Wall time (windows are wall-clock aligned, so every process agrees on them), the deadline clock,
        and the sleep between windows. Injected for tests.
    """

    def __init__(
        self,
        counter: WindowCounter,
        *,
        per_minute: int,
        window_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = real_sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        # Long enough for at least one request per window, even for tiny budgets.
        self._window = max(window_seconds, 60.0 / per_minute)
        self._limit = max(1, math.floor(per_minute * self._window / 60.0))
        self._counter = counter
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._full_window = -1  # a window this process already found full: no need to ask again
        self._lock = threading.Lock()

    @property
    def per_minute(self) -> float:
        return self._limit * 60.0 / self._window

    def acquire(self, deadline: float) -> float:
        """Wait for a request slot; returns the seconds waited.

        Raises RateBudgetExhaustedError (without waiting) when the next slot would come after
        `deadline` (a `monotonic` time).
        """
        waited = 0.0
        while True:
            now = self._clock()
            window = math.floor(now / self._window)
            with self._lock:
                known_full = window <= self._full_window
            if not known_full:
                try:
                    taken = self._counter.try_take(window, self._limit)
                except AppError as exc:
                    logger.warning("request budget unavailable; going ahead", extra={"error_code": exc.code})
                    return waited
                if taken:
                    return waited
                with self._lock:
                    self._full_window = max(self._full_window, window)
            wait = (window + 1) * self._window - now
            if self._monotonic() + wait > deadline:
                raise RateBudgetExhaustedError(wait)
            self._sleep(wait)
            waited += wait


class InMemoryWindowCounter:
    """A WindowCounter for one process (tests, benchmarks, the local CLI)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.window = -1
        self.taken = 0
        self.takes = 0  # slots granted overall
        self.refusals = 0

    def try_take(self, window: int, limit: int) -> bool:
        with self._lock:
            if window > self.window:
                self.window, self.taken = window, 0
            if window < self.window or self.taken >= limit:
                self.refusals += 1
                return False
            self.taken += 1
            self.takes += 1
            return True
