"""Rate limits on candidate-facing writes of public routes (per client and job, fixed windows)."""

from __future__ import annotations

import hashlib
import math
from typing import Protocol

from chalicelib.clock import Clock, utcnow
from chalicelib.errors import ThrottledError


class RateCounters(Protocol):
    def hit(
        self, scope: str, subject: str, *, window_start: int, window_seconds: int, limit: int
    ) -> bool: ...


class PublicWriteLimiter:
    """At most `limit` writes per (scope, client, job) in each `window_seconds` window; ThrottledError after.

    The client (a source IP) is stored only as a salted hash: the counters need identity, not addresses.
    """

    def __init__(
        self, counters: RateCounters, *, limit: int, window_seconds: int, salt: str, now: Clock = utcnow
    ) -> None:
        self._counters = counters
        self._limit = limit
        self._window = window_seconds
        self._salt = salt
        self._now = now

    def check(self, scope: str, client: str, job_id: str) -> None:
        """Count one write by `client` on `job_id`; raise ThrottledError (429) when over the limit."""
        epoch = math.floor(self._now().timestamp())
        window_start = epoch - epoch % self._window
        subject = hashlib.sha256(f"{self._salt}\n{client}\n{job_id}".encode()).hexdigest()[:32]
        if not self._counters.hit(
            scope, subject, window_start=window_start, window_seconds=self._window, limit=self._limit
        ):
            raise ThrottledError(
                "Too many attempts for this job from your network; try again later.",
                code="rate_limited",
                retry_after=max(1, window_start + self._window - epoch),
            )
