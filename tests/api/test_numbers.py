"""Per-job numbers end to end on moto: counted requests queue one event each, `count_events` sums them,
GET /employer/numbers shows them to their employer only."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import respx

from chalicelib import deps
from chalicelib.api.openapi import get_document
from chalicelib.models.posting import make_job_id
from chalicelib.settings import get_settings
from tests.api.apply_factories import application_body, json_headers, store_posting
from tests.api.apply_factories import make_posting as make_apply_posting
from tests.api.board_factories import make_posting, put_postings
from tests.api.employers_fixtures import reload_settings
from tests.conftest import bearer
from tests.sync_support import sqs_event

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
PERSON = {"User-Agent": BROWSER}
NUMBERS = "/employer/numbers"


@pytest.fixture
def numbers_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs").create_queue(QueueName=get_settings().numbers_queue_name)["QueueUrl"]
    monkeypatch.setenv("NUMBERS_QUEUE_URL", url)
    reload_settings()
    return url


def queued(queue_url: str) -> list[dict[str, Any]]:
    """Every message on the queue (received and deleted)."""
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def drain(client: Any, queue_url: str) -> list[dict[str, Any]]:
    """What the event source does: hand the queued events to `count_events` in one batch."""
    bodies = queued(queue_url)
    if bodies:
        client.lambda_.invoke("count_events", sqs_event(bodies, [f"m{i}" for i in range(len(bodies))]))
    return bodies


def numbers(client: Any, api_key: str, query: str = "") -> Any:
    return client.http.get(f"{NUMBERS}{query}", headers=bearer(api_key))


@pytest.fixture
def own_job(client: Any, employer: tuple[str, str]) -> str:
    employer_id, _ = employer
    (posting,) = put_postings(make_posting("Platform Engineer", employer_id=employer_id))
    return posting.job_id


# ---- views --------------------------------------------------------------------------------------------
def test_a_person_s_job_page_view_is_counted_once_and_shows_in_the_employer_s_numbers(
    client: Any, employer: tuple[str, str], own_job: str, numbers_queue: str
) -> None:
    _, api_key = employer

    page = client.http.get(f"/board/jobs/{own_job}", headers=PERSON)
    counted = drain(client, numbers_queue)

    assert page.status_code == 200
    assert [(body["job_id"], body["type"]) for body in counted] == [(own_job, "view")]
    response = numbers(client, api_key, "?days=7")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json_body
    assert body["totals"] == {"views": 1, "apply_starts": 0, "applications": 0, "embloy_clicks": 0}
    assert len(body["series"]) == 7 and body["series"][-1]["views"] == 1
    assert sum(day["views"] for day in body["series"]) == 1
    assert body["jobs"] == [{"job_id": own_job, "title": "Platform Engineer", "totals": body["totals"]}]


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("HEAD", PERSON),
        ("GET", {**PERSON, "Sec-Purpose": "prefetch"}),
        ("GET", {**PERSON, "Purpose": "prefetch"}),
        ("GET", {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}),
        ("GET", {"User-Agent": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"}),
        ("GET", {}),
    ],
)
def test_head_requests_prefetches_and_bots_are_served_but_not_counted(
    client: Any, own_job: str, numbers_queue: str, method: str, headers: dict[str, str]
) -> None:
    response = client.http.request(method, f"/board/jobs/{own_job}", headers=headers)

    assert response.status_code == 200
    assert queued(numbers_queue) == []


def test_the_json_job_and_unknown_or_closed_pages_are_not_views(
    client: Any, own_job: str, numbers_queue: str
) -> None:
    client.http.get(f"/jobs/{own_job}", headers=PERSON)
    client.http.get(f"/board/jobs/{make_job_id('acc_gh', 'post_missing')}", headers=PERSON)

    assert queued(numbers_queue) == []


def test_a_queue_outage_never_fails_the_page(client: Any, own_job: str, numbers_queue: str) -> None:
    boto3.client("sqs").delete_queue(QueueUrl=numbers_queue)

    response = client.http.get(f"/board/jobs/{own_job}", headers=PERSON)

    assert response.status_code == 200


# ---- apply starts (the beacon) --------------------------------------------------------------------------
def beacon(client: Any, job_id: str, body: Any, **headers: str) -> Any:
    return client.http.post(
        f"/jobs/{job_id}/events",
        body=body if isinstance(body, str) else json.dumps(body),
        headers={"Content-Type": "application/json", **PERSON, **headers},
    )


def test_the_apply_start_beacon_answers_204_and_queues_exactly_one_event(
    client: Any, own_job: str, numbers_queue: str
) -> None:
    response = beacon(client, own_job, {"type": "apply_start"})

    assert response.status_code == 204
    assert response.headers["Cache-Control"] == "no-store"
    assert [(body["job_id"], body["type"]) for body in queued(numbers_queue)] == [(own_job, "apply_start")]


def test_the_documented_beacon_example_is_accepted(client: Any, own_job: str, numbers_queue: str) -> None:
    operation = get_document()["paths"]["/jobs/{job_id}/events"]["post"]
    example = operation["requestBody"]["content"]["application/json"]["example"]

    assert beacon(client, own_job, example).status_code == 204
    assert len(queued(numbers_queue)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"type": "view"},  # views are counted by the page itself, never by the browser
        {"type": "application"},
        {"type": "apply_start", "count": 1000},
        {"type": ["apply_start", "apply_start"]},
        {},
        "not json",
        [{"type": "apply_start"}],
    ],
)
def test_a_bad_beacon_is_a_400_and_counts_nothing(
    client: Any, own_job: str, numbers_queue: str, body: Any
) -> None:
    response = beacon(client, own_job, body)

    assert response.status_code == 400
    assert response.json_body["error"]["code"] in ("invalid_request", "invalid_json")
    assert queued(numbers_queue) == []


def test_a_beacon_for_what_is_not_a_job_id_is_a_404(client: Any, numbers_queue: str) -> None:
    response = beacon(client, "not-a-job", {"type": "apply_start"})

    assert response.status_code == 404
    assert queued(numbers_queue) == []


def test_a_bot_s_beacon_is_accepted_but_not_counted(client: Any, own_job: str, numbers_queue: str) -> None:
    assert (
        beacon(client, own_job, {"type": "apply_start"}, **{"User-Agent": "HeadlessChrome bot"}).status_code
        == 204
    )
    assert queued(numbers_queue) == []


def test_a_forged_beacon_for_a_job_that_does_not_exist_is_dropped_by_the_counter(
    client: Any, employer: tuple[str, str], own_job: str, numbers_queue: str
) -> None:
    _, api_key = employer
    beacon(client, make_job_id("acc_gh", "post_never"), {"type": "apply_start"})
    beacon(client, own_job, {"type": "apply_start"})

    drain(client, numbers_queue)

    body = numbers(client, api_key, "?days=1").json_body
    assert body["totals"]["apply_starts"] == 1
    assert [job["job_id"] for job in body["jobs"]] == [own_job]


# ---- applications and Embloy clicks ---------------------------------------------------------------------
def test_a_delivered_native_application_is_counted_once_even_when_its_answer_is_replayed(
    apply_client: Any, stackone_api: respx.MockRouter, numbers_queue: str
) -> None:
    posting = store_posting(make_apply_posting())
    stackone_api.post("/unified/ats/applications").respond(
        201,
        json={
            "statusCode": 201,
            "message": "ok",
            "timestamp": "2026-12-07T09:00:00.000Z",
            "data": {"id": "a1"},
        },
    )
    headers = json_headers(**{"Idempotency-Key": "key-1"})

    first = apply_client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(application_body()), headers=headers
    )
    again = apply_client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps(application_body()), headers=headers
    )

    assert first.status_code == again.status_code == 201
    assert [(b["job_id"], b["type"]) for b in queued(numbers_queue)] == [(posting.job_id, "application")]


def test_an_invalid_application_counts_nothing(apply_client: Any, numbers_queue: str) -> None:
    posting = store_posting(make_apply_posting())

    response = apply_client.http.post(
        f"/jobs/{posting.job_id}/applications", body=json.dumps({"candidate": {}}), headers=json_headers()
    )

    assert response.status_code == 400
    assert queued(numbers_queue) == []


def test_an_embloy_redirect_is_counted_as_a_click(
    client: Any, employer: tuple[str, str], numbers_queue: str
) -> None:
    from tests.api.apply_factories import make_client_token

    employer_id, api_key = employer
    stored = client.http.put(
        "/employer/embloy-token",
        body=json.dumps({"client_token": make_client_token()}),
        headers={**bearer(api_key), "Content-Type": "application/json"},
    )
    assert stored.status_code == 204
    posting = store_posting(make_apply_posting(employer_id=employer_id))
    with respx.mock(base_url="https://api.embloy.test") as embloy:
        embloy.post("/api/v0/sdk/request/auth/token").respond(200, json={"request_token": "rt"})
        response = client.http.post(f"/jobs/{posting.job_id}/apply/embloy")

    assert response.status_code == 200
    drain(client, numbers_queue)
    assert numbers(client, api_key, "?days=1").json_body["totals"]["embloy_clicks"] == 1


# ---- the numbers API ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query", ["?days=0", "?days=91", "?days=-1", "?days=abc", "?days=1.5", "?job_id=", "?unknown=1"]
)
def test_bad_query_parameters_are_a_400(client: Any, employer: tuple[str, str], query: str) -> None:
    _, api_key = employer

    response = numbers(client, api_key, query)

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("days", [1, 90])
def test_days_from_1_to_90_are_accepted(client: Any, employer: tuple[str, str], days: int) -> None:
    _, api_key = employer

    body = numbers(client, api_key, f"?days={days}").json_body

    assert body["days"] == days and len(body["series"]) == days


def test_without_a_key_it_is_a_401(client: Any) -> None:
    assert client.http.get(NUMBERS).status_code == 401


def test_an_employer_never_sees_another_employer_s_numbers(
    client: Any, employer: tuple[str, str], own_job: str, numbers_queue: str
) -> None:
    _, api_key = employer
    rival, rival_key = deps.get_employer_service().create("Initech")
    for _ in range(3):
        client.http.get(f"/board/jobs/{own_job}", headers=PERSON)
    drain(client, numbers_queue)

    mine = numbers(client, api_key).json_body
    theirs = numbers(client, rival_key).json_body
    their_view_of_my_job = numbers(client, rival_key, f"?job_id={own_job}")

    assert mine["totals"]["views"] == 3
    assert theirs["totals"]["views"] == 0 and theirs["jobs"] == []
    assert their_view_of_my_job.status_code == 404
    assert their_view_of_my_job.json_body["error"]["code"] == "job_not_found"
    assert rival.employer_id != employer[0]


def test_one_job_s_numbers(client: Any, employer: tuple[str, str], own_job: str, numbers_queue: str) -> None:
    employer_id, api_key = employer
    (other,) = put_postings(make_posting("Data Engineer", employer_id=employer_id))
    client.http.get(f"/board/jobs/{own_job}", headers=PERSON)
    client.http.get(f"/board/jobs/{other.job_id}", headers=PERSON)
    beacon(client, other.job_id, {"type": "apply_start"})
    drain(client, numbers_queue)

    body = numbers(client, api_key, f"?days=90&job_id={other.job_id}").json_body

    assert body["job_id"] == other.job_id
    assert body["totals"] == {"views": 1, "apply_starts": 1, "applications": 0, "embloy_clicks": 0}
    assert [job["job_id"] for job in body["jobs"]] == [other.job_id]
    assert numbers(client, api_key).json_body["totals"]["views"] == 2


# ---- the console's section ------------------------------------------------------------------------------
def test_the_console_page_carries_the_numbers_section_with_labelled_controls_and_its_own_script(
    client: Any,
) -> None:
    html = client.http.get("/board/employer").body.decode()
    script = client.http.get("/board/assets/numbers.js")

    assert '<section id="numbers" aria-labelledby="numbers-heading"' in html
    assert '<h2 id="numbers-heading">Numbers</h2>' in html
    assert '<label for="numbers-job">Job</label>' in html and 'id="numbers-job"' in html
    assert '<label for="numbers-days">Period</label>' in html and 'id="numbers-days"' in html
    assert '<p id="numbers-status" role="status" aria-live="polite">' in html
    assert 'src="/board/assets/numbers.js"' in html and 'href="/board/assets/numbers.css"' in html
    assert script.status_code == 200
    body = script.body.decode()
    # Charts are images with a title and a description; the same figures are in tables.
    assert 'role: "img"' in body and '"aria-labelledby"' in body and 'svg("desc"' in body
    assert "/employer/numbers?" in body
