"""The request deadline on every boto3 client, through botocore's own event hooks.

- `before-send`: each attempt's read timeout becomes the client's `read_timeout` cut to the time the request
  has left (botocore's per-request `read_timeout` in the request context), less the follow-up reserve
  that lets the handler record or undo what happened; no attempt starts when less than
  `MIN_ATTEMPT_SECONDS` is left.
- `needs-retry`: a retry the standard retry mode would make is refused when its longest backoff plus a
  minimal attempt no longer fit in the time left, so the number of attempts shrinks with it.

Both raise `RequestDeadlineExceeded`, a `BotoCoreError`: adapters translate it through `AwsErrors` like any
other AWS failure, into their own 503 code (`table_unavailable`, `board_unavailable`, ...). Outside a
request (no deadline set) both hooks do nothing and the client's own configuration applies.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError
from botocore.retries.standard import RetryEventAdapter, StandardRetryConditions

from chalicelib.deadline import FOLLOW_UP_RESERVE_SECONDS, current_deadline

# Shorter than this, an attempt cannot complete a TLS handshake and a round trip: don't start one.
MIN_ATTEMPT_SECONDS = 0.05
# botocore's standard mode waits up to rand(0, 1) * min(scale * 2**(attempt - 1), 20) s before a retry,
# scale 1 s for throttling errors (50 ms otherwise): the longest wait, whatever the error.
_MAX_BACKOFF_SECONDS = 20.0


class RequestDeadlineExceeded(BotoCoreError):
    """The API request's deadline left no time for (another attempt of) an AWS call."""

    fmt = "The request's deadline left no time for {operation}"


def longest_backoff(attempts: int) -> float:
    """The longest wait of botocore's standard retry mode after attempt number `attempts` (1-based)."""
    return min(2.0 ** (attempts - 1), _MAX_BACKOFF_SECONDS)


def _operation_name(kwargs: dict[str, Any]) -> str:
    operation = kwargs.get("operation") or kwargs.get("operation_model")
    return str(getattr(operation, "name", "an AWS call"))


def cap_attempt_timeout(request: Any, event_name: str = "", **_: Any) -> None:
    """`before-send`: this attempt may read for no longer than the request has left."""
    deadline = current_deadline()
    if deadline is None:
        return
    left = deadline.remaining()
    if left < MIN_ATTEMPT_SECONDS:
        raise RequestDeadlineExceeded(operation=event_name.rsplit(".", 1)[-1] or "an AWS call")
    # Keep the follow-up reserve for what the handler does after a stalled call; a call started inside
    # it (that follow-up) gets what is left.
    beyond_reserve = deadline.remaining(FOLLOW_UP_RESERVE_SECONDS)
    if beyond_reserve >= MIN_ATTEMPT_SECONDS:
        left = beyond_reserve
    context = request.context
    configured = getattr(context.get("client_config"), "read_timeout", None)
    context["read_timeout"] = left if configured is None else min(float(configured), left)


class RetryWithinDeadline:
    """`needs-retry`: refuse a retry (raise) that could not finish before the request's deadline."""

    def __init__(self) -> None:
        self._adapter = RetryEventAdapter()
        # Only whether the failure is retryable at all; the attempt count is the time left's business
        # here, and the client's own `total_max_attempts` still applies through its own handler.
        self._retryable = StandardRetryConditions(max_attempts=1_000)

    def __call__(self, **kwargs: Any) -> None:
        deadline = current_deadline()
        if deadline is None:
            return
        attempts = int(kwargs["attempts"])
        if deadline.remaining(FOLLOW_UP_RESERVE_SECONDS) >= longest_backoff(attempts) + MIN_ATTEMPT_SECONDS:
            return
        if not self._retryable.is_retryable(self._adapter.create_retry_context(**kwargs)):
            return  # a success or an answer no retry would change: the caller gets it as it is
        caught = kwargs.get("caught_exception")
        raise RequestDeadlineExceeded(operation=_operation_name(kwargs)) from caught


def bound_to_request_deadline(client: Any) -> Any:
    """Register both hooks on a boto3 client (first, ahead of any stub that answers `before-send`)."""
    events = client.meta.events
    events.register_first("before-send", cap_attempt_timeout, unique_id="request-deadline-before-send")
    events.register_first("needs-retry", RetryWithinDeadline(), unique_id="request-deadline-needs-retry")
    return client
