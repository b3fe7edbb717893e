"""Injected time: services take `now`/`sleep` callables so tests never sleep or depend on the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def real_sleep(seconds: float) -> None:
    time.sleep(seconds)


def isoformat(moment: datetime) -> str:
    """Sortable ISO-8601 UTC with milliseconds and a Z, the form StackOne uses."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
