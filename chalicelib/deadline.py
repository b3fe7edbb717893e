"""One deadline per API request, which every AWS and HTTP call consults for its timeouts and retries.

The API's middleware opens a `deadline_scope(seconds)` around each request (and the authorizer around
its key lookup). Inside it, `current_deadline()` is the request's `Deadline`: the botocore hooks
(`chalicelib/aws/deadline.py`) and the httpx request hook (`chalicelib/clients/http.py`) cut each
attempt's timeouts to the time left and start no attempt (and no retry) that could not finish in it.
Outside a scope (the sync worker, the snapshot builder, the schedule) there is no deadline and the clients
keep their own timeouts and the callers their own budgets.

The deadline lives in a context variable, so concurrent requests in one process (`chalice local` is
threaded) each see their own; work handed to a thread pool sees it only when submitted through
`in_current_context`.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

Monotonic = Callable[[], float]

# Left for answering once a dependency gave up: shaping the 503, logging, the gateway's own hop.
ANSWER_RESERVE_SECONDS = 0.1
# Further time a dependency call leaves unused, so that the handler can still record or undo what
# happened (an application pending confirmation, a sync-now slot given back) after a stalled call gave up.
# A call started inside this reserve (that follow-up itself) may use it.
FOLLOW_UP_RESERVE_SECONDS = 0.5
# A timeout fires at its value or a little after: this close to the end, the deadline is what cut it.
_EXPIRY_SLACK_SECONDS = 0.01

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point in monotonic time by which the request must have its answer."""

    expires_at: float
    monotonic: Monotonic = time.monotonic

    @classmethod
    def after(cls, seconds: float, monotonic: Monotonic = time.monotonic) -> Deadline:
        return cls(monotonic() + seconds, monotonic)

    def remaining(self, reserve: float = 0.0) -> float:
        """Seconds left for dependencies, never negative: the answer's own reserve and `reserve` (time
        the caller keeps for what follows) already taken off."""
        return max(0.0, self.expires_at - ANSWER_RESERVE_SECONDS - reserve - self.monotonic())

    def exhausted(self, reserve: float = 0.0) -> bool:
        """Nothing (beyond `reserve`) is left: a timeout that fired now was the deadline's doing."""
        return self.remaining(reserve) <= _EXPIRY_SLACK_SECONDS

    def cap(self, seconds: float | None, reserve: float = 0.0) -> float:
        """`seconds` (a client's own timeout; None: none) shortened to the time left beyond `reserve`."""
        left = self.remaining(reserve)
        return left if seconds is None else min(seconds, left)


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("request_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the request being served in this context, or None outside a request."""
    return _current.get()


def upstream_time_is_up() -> bool:
    """True when a request deadline is set and an upstream call has no time of it left (a timeout
    that fired now means "out of time", not "the upstream is slower than its own timeout")."""
    deadline = _current.get()
    return deadline is not None and deadline.exhausted(FOLLOW_UP_RESERVE_SECONDS)


@contextlib.contextmanager
def deadline_scope(seconds: float, monotonic: Monotonic = time.monotonic) -> Iterator[Deadline]:
    """Set a deadline `seconds` from now for everything called inside; an enclosing one that ends sooner
    stays in force (a nested scope never extends its caller's time)."""
    deadline = Deadline.after(seconds, monotonic)
    outer = _current.get()
    if outer is not None and outer.expires_at <= deadline.expires_at:
        deadline = outer
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def in_current_context(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """`func` bound to a copy of the caller's context (its deadline included), for a thread pool.

    Each call runs in its own copy, so the returned function may run in several threads at once.
    """
    context = contextvars.copy_context()

    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return context.copy().run(func, *args, **kwargs)

    return run
