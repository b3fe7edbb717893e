"""StackOne client: retries honour Retry-After, back off on reads only, and stop at the time budget."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
import respx

from chalicelib.clients.stackone.auth import StackOneKeyAuth
from chalicelib.clients.stackone.client import StackOneClient
from chalicelib.clients.stackone.errors import (
    StackOneAuthError,
    StackOneBudgetExceededError,
    StackOnePreconditionError,
    StackOneRateLimitedError,
    StackOneServerError,
    StackOneTimeoutError,
    StackOneTransportError,
    StackOneUnsupportedError,
)

BASE = "https://api.stackone.test"
POSTINGS = "/unified/ats/job_postings"


class FakeTime:
    """Monotonic clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def make_client(fake_time: FakeTime, **kwargs: object) -> StackOneClient:
    http = httpx.Client(base_url=BASE, auth=StackOneKeyAuth(lambda: "v1.eu1.secret-key"))
    options: dict[str, object] = {
        "sleep": fake_time.sleep,
        "monotonic": fake_time.monotonic,
        "jitter": lambda: 0.0,
        "retry_budget_seconds": 120.0,
    }
    options.update(kwargs)
    return StackOneClient(http, **options)  # type: ignore[arg-type]


def page(data: list[dict[str, object]], next_: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "next": next_})


def test_429_waits_retry_after_then_succeeds(api: respx.MockRouter, fake_time: FakeTime) -> None:
    # GIVEN StackOne rate-limits twice with Retry-After 7 and 3
    route = api.get(POSTINGS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"statusCode": 429}),
            httpx.Response(429, headers={"Retry-After": "3"}, json={"statusCode": 429}),
            page([{"id": "p1"}]),
        ]
    )
    rate_limited: list[int] = []
    client = make_client(fake_time, on_rate_limited=lambda: rate_limited.append(1))
    # WHEN a page is read
    result = client.list_job_postings_page("acc1")
    # THEN the client waited exactly what StackOne asked, and counted the 429s
    assert [p["id"] for p in result.data] == ["p1"]
    assert fake_time.sleeps == [7.0, 3.0]
    assert route.call_count == 3
    assert len(rate_limited) == 2


def test_408_honours_retry_after_on_reads(api: respx.MockRouter, fake_time: FakeTime) -> None:
    api.get(POSTINGS).mock(side_effect=[httpx.Response(408, headers={"Retry-After": "11"}), page([])])
    make_client(fake_time).list_job_postings_page("acc1")
    assert fake_time.sleeps == [11.0]


def test_retry_after_as_http_date(api: respx.MockRouter, fake_time: FakeTime) -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
    api.get(POSTINGS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "Mon, 05 Jan 2026 12:00:20 GMT"}),
            page([]),
        ]
    )
    make_client(fake_time, now=lambda: now).list_job_postings_page("acc1")
    assert fake_time.sleeps == [20.0]


def test_5xx_on_reads_backs_off_exponentially_with_jitter(api: respx.MockRouter, fake_time: FakeTime) -> None:
    api.get(POSTINGS).mock(
        side_effect=[httpx.Response(502), httpx.Response(500), httpx.Response(503), page([])]
    )
    # jitter 1.0 = the full exponential step; 0.0 would be half of it
    make_client(fake_time, jitter=lambda: 1.0, backoff_base_seconds=0.5).list_job_postings_page("acc1")
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


def test_jitter_spreads_the_wait_between_half_and_full_step(
    api: respx.MockRouter, fake_time: FakeTime
) -> None:
    api.get(POSTINGS).mock(side_effect=[httpx.Response(500), httpx.Response(500), page([])])
    make_client(fake_time, jitter=lambda: 0.5, backoff_base_seconds=1.0).list_job_postings_page("acc1")
    assert fake_time.sleeps == [0.75, 1.5]


def test_transport_errors_on_reads_are_retried(api: respx.MockRouter, fake_time: FakeTime) -> None:
    api.get(POSTINGS).mock(side_effect=[httpx.ReadError("reset"), httpx.ReadTimeout("slow"), page([])])
    make_client(fake_time).list_job_postings_page("acc1")
    assert len(fake_time.sleeps) == 2


def test_writes_are_not_retried_on_5xx_or_timeouts(api: respx.MockRouter, fake_time: FakeTime) -> None:
    route = api.post("/unified/ats/applications").mock(return_value=httpx.Response(502))
    with pytest.raises(StackOneServerError):
        make_client(fake_time).create_application("acc1", {"job_posting_id": "p1"})
    assert route.call_count == 1
    route.mock(return_value=httpx.Response(408, headers={"Retry-After": "1"}))
    with pytest.raises(StackOneTimeoutError):
        make_client(fake_time).create_application("acc1", {"job_posting_id": "p1"})
    assert route.call_count == 2
    assert fake_time.sleeps == []


def test_writes_are_retried_on_429_and_on_connect_errors(api: respx.MockRouter, fake_time: FakeTime) -> None:
    route = api.post("/unified/ats/applications").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.ConnectError("refused"),
            httpx.Response(201, json={"data": {"id": "app1"}}),
        ]
    )
    created = make_client(fake_time).create_application("acc1", {"job_posting_id": "p1"})
    assert created.id == "app1"
    assert route.call_count == 3
    assert fake_time.sleeps[0] == 2.0


def test_budget_exhaustion_stops_before_a_wait_past_the_budget(
    api: respx.MockRouter, fake_time: FakeTime
) -> None:
    # GIVEN StackOne keeps answering 429 with Retry-After 30 and the budget is 70 s
    route = api.get(POSTINGS).mock(return_value=httpx.Response(429, headers={"Retry-After": "30"}))
    client = make_client(fake_time, retry_budget_seconds=70.0)
    # WHEN a page is read THEN it waits twice (60 s), refuses a third wait (90 s > 70 s) and raises
    with pytest.raises(StackOneRateLimitedError) as raised:
        client.list_job_postings_page("acc1")
    assert fake_time.sleeps == [30.0, 30.0]
    assert route.call_count == 3
    assert raised.value.retry_after == 30


def test_caller_time_budget_caps_retries_and_refuses_new_requests(
    api: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = api.get(POSTINGS).mock(return_value=httpx.Response(503))
    client = make_client(fake_time, jitter=lambda: 1.0, backoff_base_seconds=4.0)
    with client.time_budget(10.0):  # tighter than the per-call budget
        with pytest.raises(StackOneServerError):
            client.list_job_postings_page("acc1")
        assert fake_time.sleeps == [4.0]  # the next wait (8 s) would end past the 10 s budget
        fake_time.now = 10.0
        with pytest.raises(StackOneBudgetExceededError):
            client.list_job_postings_page("acc1")
    assert route.call_count == 2


def test_max_attempts_bounds_retries(api: respx.MockRouter, fake_time: FakeTime) -> None:
    route = api.get(POSTINGS).mock(return_value=httpx.Response(500))
    with pytest.raises(StackOneServerError):
        make_client(fake_time, max_attempts=3).list_job_postings_page("acc1")
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, StackOneAuthError), (412, StackOnePreconditionError), (501, StackOneUnsupportedError)],
)
def test_non_retryable_statuses_fail_at_once(
    api: respx.MockRouter, fake_time: FakeTime, status: int, error: type[Exception]
) -> None:
    route = api.get(POSTINGS).mock(
        return_value=httpx.Response(status, json={"statusCode": status, "errorCode": "SomeCode"})
    )
    with pytest.raises(error):
        make_client(fake_time).list_job_postings_page("acc1")
    assert route.call_count == 1
    assert fake_time.sleeps == []


def test_connect_failure_is_a_transport_error(api: respx.MockRouter, fake_time: FakeTime) -> None:
    api.get("/accounts/acc1").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(StackOneTransportError):
        make_client(fake_time, max_attempts=2).get_account("acc1")


def test_basic_auth_is_the_key_with_a_trailing_colon(api: respx.MockRouter, fake_time: FakeTime) -> None:
    route = api.get(POSTINGS).mock(return_value=page([]))
    make_client(fake_time).list_job_postings_page("acc1")
    header = route.calls.last.request.headers["Authorization"]
    assert header == "Basic " + base64.b64encode(b"v1.eu1.secret-key:").decode()
    assert "secret-key" not in repr(StackOneKeyAuth(lambda: "v1.eu1.secret-key"))


def test_a_run_budget_allows_waits_beyond_the_per_call_budget(
    api: respx.MockRouter, fake_time: FakeTime
) -> None:
    # GIVEN a per-call budget of 20 s (request handlers) and a sync run with 240 s left
    api.get(POSTINGS).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "60"}), page([])])
    client = make_client(fake_time, retry_budget_seconds=20.0)
    # WHEN StackOne asks for 60 s inside the run THEN the client waits them
    with client.time_budget(240.0):
        client.list_job_postings_page("acc1")
    assert fake_time.sleeps == [60.0]
    # while outside a run the same answer fails at once
    api.get(POSTINGS).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "60"})])
    with pytest.raises(StackOneRateLimitedError):
        client.list_job_postings_page("acc1")
    assert fake_time.sleeps == [60.0]


def test_outside_a_run_a_zero_budget_fails_fast(api: respx.MockRouter, fake_time: FakeTime) -> None:
    # request handlers (default STACKONE_RETRY_BUDGET_SECONDS=0) hand Retry-After to their caller
    route = api.get(POSTINGS).mock(return_value=httpx.Response(429, headers={"Retry-After": "5"}))
    with pytest.raises(StackOneRateLimitedError) as raised:
        make_client(fake_time, retry_budget_seconds=0.0).list_job_postings_page("acc1")
    assert route.call_count == 1 and fake_time.sleeps == []
    assert raised.value.retry_after == 5
