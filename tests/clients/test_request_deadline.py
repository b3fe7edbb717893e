"""StackOne's and Embloy's httpx clients take every timeout from the time the API request has left, and a
call the deadline cuts short is a 503 with the integration's own code."""

from __future__ import annotations

import time

import httpx
import pytest

from chalicelib.api.http_errors import status_for
from chalicelib.clients.embloy.client import EmbloyClient
from chalicelib.clients.embloy.errors import EmbloyDeadlineError, EmbloyTimeoutError
from chalicelib.clients.embloy.models import EmbloySession
from chalicelib.clients.http import RequestDeadlineTimeout, build_http_client, cap_to_request_deadline
from chalicelib.clients.stackone.client import StackOneClient
from chalicelib.clients.stackone.errors import StackOneDeadlineError, StackOneTimeoutError
from chalicelib.deadline import ANSWER_RESERVE_SECONDS, FOLLOW_UP_RESERVE_SECONDS, deadline_scope
from tests.stalled import *  # noqa: F403
from tests.stalled import StalledListener

RESERVES = ANSWER_RESERVE_SECONDS + FOLLOW_UP_RESERVE_SECONDS


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def built_request(timeout_seconds: float) -> httpx.Request:
    client = build_http_client("https://api.stackone.test", timeout_seconds=timeout_seconds)
    return client.build_request("GET", "/accounts")


def test_every_timeout_of_a_request_is_cut_to_the_time_left() -> None:
    clock = FakeMonotonic()
    request = built_request(20.0)
    with deadline_scope(10.0, clock):
        cap_to_request_deadline(request)
        first = dict(request.extensions["timeout"])
        clock.now += 7.0
        cap_to_request_deadline(request)
        later = dict(request.extensions["timeout"])
    assert first["read"] == pytest.approx(10.0 - RESERVES)
    assert first["connect"] == 5.0  # the client's own connect timeout is already shorter
    assert later == {phase: pytest.approx(3.0 - RESERVES) for phase in ("connect", "read", "write", "pool")}


def test_outside_a_request_the_clients_timeouts_stay() -> None:
    request = built_request(20.0)
    before = dict(request.extensions["timeout"])
    cap_to_request_deadline(request)
    assert request.extensions["timeout"] == before


def test_nothing_is_sent_once_the_time_is_up() -> None:
    clock = FakeMonotonic()
    with deadline_scope(1.0, clock):
        clock.now += 1.0
        with pytest.raises(RequestDeadlineTimeout):
            cap_to_request_deadline(built_request(20.0))


def test_a_stalled_stackone_is_a_503_within_the_deadline(stalled: StalledListener) -> None:
    # GIVEN StackOne's client with its production timeout (20 s) and a StackOne that never answers
    client = StackOneClient(build_http_client(stalled.url, timeout_seconds=20.0), retry_budget_seconds=0.0)
    started = time.monotonic()
    # WHEN a request with 1.5 s reads the linked accounts
    with deadline_scope(1.5), pytest.raises(StackOneTimeoutError) as raised:
        client.list_accounts()
    # THEN the deadline cut it: 503 stackone_unavailable, still a timeout for callers that care whether a
    # write may have happened; answered well before 20 s (generous bound: no hang)
    assert isinstance(raised.value, StackOneDeadlineError)
    assert (status_for(raised.value), raised.value.code) == (503, "stackone_unavailable")
    assert time.monotonic() - started < 1.5 + 1.0


def test_a_stalled_embloy_is_a_503_within_the_deadline(stalled: StalledListener) -> None:
    client = EmbloyClient(build_http_client(stalled.url, timeout_seconds=10.0))
    session = EmbloySession(
        mode="lever",
        job_slug="post-1",
        success_url="https://board.test/ok",
        cancel_url="https://board.test/no",
    )
    started = time.monotonic()
    with deadline_scope(1.5), pytest.raises(EmbloyTimeoutError) as raised:
        client.request_token("client-token", session)
    assert isinstance(raised.value, EmbloyDeadlineError)
    assert (status_for(raised.value), raised.value.code) == (503, "embloy_unavailable")
    assert time.monotonic() - started < 1.5 + 1.0


def test_a_timeout_of_the_upstreams_own_with_time_left_stays_a_timeout(stalled: StalledListener) -> None:
    # Embloy's own 1 s timeout fires long before the request's 10 s: Embloy was slow, not the deadline.
    client = EmbloyClient(build_http_client(stalled.url, timeout_seconds=1.0))
    session = EmbloySession(
        mode="lever",
        job_slug="post-1",
        success_url="https://board.test/ok",
        cancel_url="https://board.test/no",
    )
    with deadline_scope(10.0), pytest.raises(EmbloyTimeoutError) as raised:
        client.request_token("client-token", session)
    assert not isinstance(raised.value, EmbloyDeadlineError)
    assert status_for(raised.value) == 504
