"""One request deadline: with any dependency stalled, every route answers 503 with Retry-After within
REQUEST_DEADLINE_SECONDS (never hangs into API Gateway's 29 s), and warm board reads stay 200 from what
the process has loaded.

A stalled dependency is a loopback listener that takes the request and never answers (tests/stalled.py),
put in place of the service's endpoint (boto3's AWS_ENDPOINT_URL_<SERVICE>, or the StackOne/Embloy URL);
the other services stay on moto.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from chalicelib import deps
from chalicelib.models.posting import make_job_id
from chalicelib.settings import get_settings
from tests.api.apply_factories import (
    application_body,
    json_headers,
    make_client_token,
    make_posting,
    store_posting,
    store_stackone_key,
)
from tests.api.board_factories import make_posting as make_board_posting
from tests.api.board_factories import put_posting
from tests.api.employers_fixtures import *  # noqa: F403
from tests.api.employers_fixtures import EmployerApi, linked_account, reload_settings
from tests.aws_failures import OUTAGES, fail_calls
from tests.conftest import bearer
from tests.stalled import *  # noqa: F403
from tests.stalled import StalledListener

DEADLINE_SECONDS = 2.0
# Generous: the deadline plus the answer's own work; a stalled dependency on its own timeouts takes 9-60 s.
ANSWER_BOUND_SECONDS = DEADLINE_SECONDS + 1.0


@pytest.fixture
def short_deadline(client: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("REQUEST_DEADLINE_SECONDS", str(DEADLINE_SECONDS))
    reload_settings()
    return client


def stall(monkeypatch: pytest.MonkeyPatch, variable: str, listener: StalledListener) -> None:
    """Point one dependency at the stalled listener, and build the app's clients afresh (outside the
    timed request: building one loads its service model, which is no dependency's time)."""
    monkeypatch.setenv(variable, listener.url)
    reload_settings()
    deps.get_table()
    deps.get_secrets_provider()
    deps.get_secrets_client()
    deps.get_s3_client()
    deps.get_sqs_client()


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_503_in_time(answer: tuple[Any, float], code: str) -> None:
    response, elapsed = answer
    assert response.status_code == 503, response.body
    assert response.json_body["error"]["code"] == code
    assert int(response.headers["Retry-After"]) >= 1
    assert elapsed < ANSWER_BOUND_SECONDS


# ---- DynamoDB -------------------------------------------------------------------------------------------


def test_board_reads_on_a_stalled_table_answer_503_within_the_deadline(
    short_deadline: Any, stalled: StalledListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    stall(monkeypatch, "AWS_ENDPOINT_URL_DYNAMODB", stalled)
    job_id = make_job_id("acc_gh", "post_1")

    assert_503_in_time(timed(lambda: short_deadline.http.get("/jobs")), "board_unavailable")
    assert_503_in_time(timed(lambda: short_deadline.http.get(f"/jobs/{job_id}")), "board_unavailable")


def test_an_application_on_a_stalled_table_answers_503_within_the_deadline(
    short_deadline: Any, stalled: StalledListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_stackone_key()
    posting = store_posting(make_posting())
    stall(monkeypatch, "AWS_ENDPOINT_URL_DYNAMODB", stalled)

    answer = timed(
        lambda: short_deadline.http.post(
            f"/jobs/{posting.job_id}/applications",
            body=json.dumps(application_body()),
            headers=json_headers(),
        )
    )

    assert_503_in_time(answer, "table_unavailable")


def test_an_employer_route_on_a_stalled_key_store_answers_503_within_the_deadline(
    short_deadline: Any, employer: tuple[str, str], stalled: StalledListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, api_key = employer
    stall(monkeypatch, "AWS_ENDPOINT_URL_DYNAMODB", stalled)

    answer = timed(lambda: short_deadline.http.get("/accounts", headers=bearer(api_key)))

    assert_503_in_time(answer, "auth_unavailable")


# ---- S3, SQS and Secrets Manager ------------------------------------------------------------------------


def test_a_cold_board_on_stalled_snapshot_storage_answers_503_within_the_deadline(
    short_deadline: Any, stalled: StalledListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_posting(make_board_posting())
    assert deps.get_snapshot_builder().build().published
    stall(monkeypatch, "AWS_ENDPOINT_URL_S3", stalled)

    assert_503_in_time(timed(lambda: short_deadline.http.get("/jobs")), "board_unavailable")


def test_sync_now_on_a_stalled_queue_answers_503_within_the_deadline(
    short_deadline: Any,
    employer_api: EmployerApi,
    stalled: StalledListener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    employer_api.stackone.get("/accounts/acc_1").respond(
        200, json=linked_account("acc_1", employer_api.employer_id)
    )
    stall(monkeypatch, "AWS_ENDPOINT_URL_SQS", stalled)

    answer = timed(
        lambda: short_deadline.http.post("/accounts/acc_1/sync", headers=employer_api.headers(), body="")
    )

    assert_503_in_time(answer, "queue_unavailable")


def test_the_board_on_a_stalled_secret_store_answers_503_within_the_deadline(
    short_deadline: Any, stalled: StalledListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    stall(monkeypatch, "AWS_ENDPOINT_URL_SECRETS_MANAGER", stalled)

    assert_503_in_time(timed(lambda: short_deadline.http.get("/jobs")), "secret_unavailable")


# ---- StackOne and Embloy --------------------------------------------------------------------------------


def test_accounts_on_a_stalled_stackone_answer_503_within_the_deadline(
    short_deadline: Any,
    employer: tuple[str, str],
    stackone_key: str,
    stalled: StalledListener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, api_key = employer
    stall(monkeypatch, "STACKONE_BASE_URL", stalled)

    answer = timed(lambda: short_deadline.http.get("/accounts", headers=bearer(api_key)))

    assert_503_in_time(answer, "stackone_unavailable")


def test_an_embloy_click_on_a_stalled_embloy_answers_503_within_the_deadline(
    short_deadline: Any, employer: tuple[str, str], stalled: StalledListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    employer_id, api_key = employer
    uploaded = short_deadline.http.put(
        "/employer/embloy-token",
        body=json.dumps({"client_token": make_client_token()}),
        headers={**bearer(api_key), "Content-Type": "application/json"},
    )
    assert uploaded.status_code == 204
    posting = store_posting(make_posting(employer_id=employer_id))
    stall(monkeypatch, "EMBLOY_API_URL", stalled)

    answer = timed(lambda: short_deadline.http.post(f"/jobs/{posting.job_id}/apply/embloy", body="{}"))

    assert_503_in_time(answer, "embloy_unavailable")


# ---- Retry-After on every 503 ---------------------------------------------------------------------------


def test_a_storage_outage_503_carries_retry_after(client: Any, employer: tuple[str, str]) -> None:
    _, api_key = employer
    fail_calls(
        deps.get_table().meta.client,
        OUTAGES["service_error"],
        operations={"GetItem"},
        matching="embloy_configured",
    )

    response = client.http.get("/employer/embloy-token", headers=bearer(api_key))

    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "table_unavailable"
    assert int(response.headers["Retry-After"]) >= 1


def test_a_job_page_that_cannot_be_read_carries_retry_after(client: Any) -> None:
    posting = put_posting(make_board_posting())
    fail_calls(deps.get_table().meta.client, OUTAGES["read_timeout"], operations={"GetItem"})

    response = client.http.get(f"/board/jobs/{posting.job_id}")

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1


# ---- Warm board reads while the table stalls ------------------------------------------------------------


def test_warm_board_reads_stay_200_from_what_is_loaded_while_the_table_stalls(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a warm board process that catches up on every request
    monkeypatch.setenv("BOARD_REFRESH_SECONDS", "0")
    reload_settings()
    posting = put_posting(make_board_posting("Platform Engineer"))
    assert client.http.get("/jobs").status_code == 200
    # AND a table whose reads stall (each waits for `release`, at most 5 s, then times out)
    release, finished = threading.Event(), threading.Event()

    def stalled_read(**_: Any) -> None:
        try:
            if not release.wait(5.0):
                raise ReadTimeoutError(endpoint_url="https://dynamodb.test")
        finally:
            finished.set()

    deps.get_table().meta.client.meta.events.register("before-parameter-build.dynamodb.Query", stalled_read)

    # WHEN board reads arrive
    answers = [client.http.get(path) for path in ("/jobs", "/jobs?q=platform", "/feed.xml", "/board")]

    # THEN each is a 200 from what is loaded, answered while the table's read was still stalled
    assert [response.status_code for response in answers] == [200] * 4
    assert posting.job_id in answers[0].body.decode()
    assert not finished.is_set()
    release.set()
    assert deps.get_board_service().settle(timeout=30)


def test_a_job_this_process_served_stays_200_while_the_table_stalls(
    short_deadline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a job whose detail this process served
    posting = put_posting(make_board_posting("Platform Engineer"))
    never_served = put_posting(make_board_posting("Data Engineer"))
    first = short_deadline.http.get(f"/jobs/{posting.job_id}")
    assert first.status_code == 200
    # AND a table that stops answering: each attempt waits out its read timeout, as on a stalled socket
    read_timeouts: list[float] = []

    def stalled_send(request: Any, event_name: str, **_: Any) -> None:
        if not event_name.startswith("before-send.dynamodb."):
            return
        timeout = request.context.get("read_timeout") or get_settings().aws_read_timeout_seconds
        read_timeouts.append(timeout)
        threading.Event().wait(timeout)
        raise ReadTimeoutError(endpoint_url="https://dynamodb.test")

    # After the app's own hooks on the same event (which set each attempt's read timeout), before moto.
    deps.get_table().meta.client.meta.events.register_first("before-send", stalled_send)

    # WHEN it is asked for again
    again, elapsed = timed(lambda: short_deadline.http.get(f"/jobs/{posting.job_id}"))

    # THEN it is a 200 from the loaded copy, its item read having waited at most BOARD_READ_WAIT_SECONDS
    assert again.status_code == 200
    assert again.json_body == first.json_body
    assert read_timeouts and max(read_timeouts) <= get_settings().board_read_wait_seconds
    assert elapsed < ANSWER_BOUND_SECONDS
    # AND a job this process never served is a 503 with Retry-After within the deadline
    assert_503_in_time(
        timed(lambda: short_deadline.http.get(f"/jobs/{never_served.job_id}")), "board_unavailable"
    )
