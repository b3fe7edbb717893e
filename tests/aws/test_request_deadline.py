"""Every boto3 client of the app takes each attempt's read timeout, and whether to retry at all, from the
time the API request has left (botocore's own event hooks, `chalicelib/aws/deadline.py`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from chalicelib import deps
from chalicelib.aws.deadline import (
    MIN_ATTEMPT_SECONDS,
    RequestDeadlineExceeded,
    RetryWithinDeadline,
    cap_attempt_timeout,
    longest_backoff,
)
from chalicelib.aws.errors import TABLE
from chalicelib.deadline import ANSWER_RESERVE_SECONDS, FOLLOW_UP_RESERVE_SECONDS, deadline_scope
from chalicelib.errors import UpstreamUnavailableError
from tests.stalled import *  # noqa: F403
from tests.stalled import StalledListener


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Attempt:
    """What `before-send` hands its handlers, as far as the hook reads it: the request's context."""

    context: dict[str, Any]


def prepared(read_timeout: float) -> Attempt:
    return Attempt({"client_config": Config(read_timeout=read_timeout)})


RESERVES = ANSWER_RESERVE_SECONDS + FOLLOW_UP_RESERVE_SECONDS


def test_each_attempt_reads_for_no_longer_than_the_request_has_left() -> None:
    clock = FakeMonotonic()
    s3_attempt, table_attempt = prepared(20.0), prepared(3.0)
    with deadline_scope(10.0, clock):
        cap_attempt_timeout(s3_attempt)
        cap_attempt_timeout(table_attempt)
        assert s3_attempt.context["read_timeout"] == pytest.approx(10.0 - RESERVES)
        assert table_attempt.context["read_timeout"] == 3.0  # the client's own, shorter, timeout
        clock.now += 8.5
        cap_attempt_timeout(s3_attempt)
        cap_attempt_timeout(table_attempt)
    assert s3_attempt.context["read_timeout"] == pytest.approx(1.5 - RESERVES)
    assert table_attempt.context["read_timeout"] == pytest.approx(1.5 - RESERVES)


def test_a_follow_up_call_inside_the_reserve_gets_what_is_left() -> None:
    # e.g. giving back a sync-now slot after the queue stalled: it may use the reserve kept for it.
    clock = FakeMonotonic()
    follow_up = prepared(3.0)
    with deadline_scope(10.0, clock):
        clock.now += 10.0 - ANSWER_RESERVE_SECONDS - 0.3
        cap_attempt_timeout(follow_up)
    assert follow_up.context["read_timeout"] == pytest.approx(0.3)


def test_no_attempt_starts_once_the_deadline_has_passed() -> None:
    clock = FakeMonotonic()
    with deadline_scope(1.0, clock):
        clock.now += 1.0
        with pytest.raises(RequestDeadlineExceeded, match="GetItem"):
            cap_attempt_timeout(prepared(3.0), event_name="before-send.dynamodb.GetItem")


def test_outside_a_request_the_clients_own_timeouts_apply() -> None:
    attempt = prepared(20.0)
    cap_attempt_timeout(attempt)
    assert "read_timeout" not in attempt.context


def retry_kwargs(attempts: int, caught: BaseException | None, response: Any = None) -> dict[str, Any]:
    client = deps.get_boto3_session().client("dynamodb", region_name="eu-central-1")
    return {
        "response": response,
        "attempts": attempts,
        "caught_exception": caught,
        "request_dict": {"context": {}},
        "operation": client.meta.service_model.operation_model("GetItem"),
    }


@pytest.mark.parametrize(("left", "attempts_allowed"), [(0.5, 1), (1.5, 2), (3.0, 3), (6.0, 4), (9.0, 5)])
def test_retries_shrink_with_the_time_left(left: float, attempts_allowed: int) -> None:
    # A retry is made only while its longest backoff and a minimal attempt still fit in what is left.
    clock = FakeMonotonic()
    veto = RetryWithinDeadline()
    allowed = 1
    with deadline_scope(left + RESERVES, clock):
        for attempts in range(1, 5):
            try:
                veto(**retry_kwargs(attempts, ReadTimeoutError(endpoint_url="https://dynamodb.test")))
            except RequestDeadlineExceeded as exc:
                assert isinstance(exc.__cause__, ReadTimeoutError)  # what failed stays the cause
                break
            allowed += 1
    assert allowed == attempts_allowed
    assert left < longest_backoff(attempts_allowed) + MIN_ATTEMPT_SECONDS  # what stopped them


def test_an_answer_no_retry_would_change_is_left_alone_when_time_is_short() -> None:
    # A success, or a conditional-check failure (a 409 to the caller, never a 503), goes back as it is.
    clock = FakeMonotonic()
    with deadline_scope(0.2, clock):
        veto = RetryWithinDeadline()
        veto(**retry_kwargs(1, None, response=(None, {"ResponseMetadata": {}})))  # no exception
        conflict = {"Error": {"Code": "ConditionalCheckFailedException"}, "ResponseMetadata": {}}
        veto(**retry_kwargs(1, None, response=(None, conflict)))


def test_a_stalled_table_answers_within_the_deadline_not_after_every_attempt(
    stalled: StalledListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the app's table client (3 s read timeout, 3 attempts: 9 s and more on its own) and a table
    # that takes the request and never answers
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", stalled.url)
    table = deps.get_table()
    attempts: list[float] = []
    table.meta.client.meta.events.register(
        "before-send", lambda request, **_: attempts.append(request.context["read_timeout"])
    )
    # WHEN a request with 1.5 s left reads it
    started = time.monotonic()
    with deadline_scope(1.5), pytest.raises(UpstreamUnavailableError) as raised, TABLE:
        table.get_item(Key={"PK": "A", "SK": "B"})
    elapsed = time.monotonic() - started
    # THEN one attempt, cut to the time left, then the adapter's 503 (generous bound: no hang)
    assert raised.value.code == "table_unavailable"
    assert len(attempts) == 1 and attempts[0] <= 1.5
    assert elapsed < 1.5 + 1.0
