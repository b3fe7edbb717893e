"""Apply with Embloy: redirect and JSON, the token chosen from the posting's employer, error mapping."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from chalicelib import deps
from tests.api.apply_factories import make_client_token, make_posting, store_posting
from tests.conftest import bearer

TOKEN_PATH = "/api/v0/sdk/request/auth/token"


@pytest.fixture
def embloy_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url="https://api.embloy.test", assert_all_called=False) as router:
        yield router


def upload_token(client: Any, api_key: str, token: str) -> None:
    response = client.http.put(
        "/employer/embloy-token",
        body=json.dumps({"client_token": token}),
        headers={**bearer(api_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 204


def click(client: Any, job_id: str) -> Any:
    """The confirmation page's button: a form POST to the same URL."""
    return client.http.post(
        f"/jobs/{job_id}/apply/embloy",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"",
    )


def sent_form(route: respx.Route) -> dict[str, list[str]]:
    return parse_qs(route.calls.last.request.content.decode())


def test_form_post_redirects_to_embloy_portal_with_the_request_token(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter
) -> None:
    employer_id, api_key = employer
    token = make_client_token()
    upload_token(client, api_key, token)
    posting = store_posting(make_posting(employer_id=employer_id))
    route = embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "eyJrt.payload.sig"})

    response = click(client, posting.job_id)

    assert response.status_code == 303
    assert response.headers["Location"] == "https://embloy.test/sdk/apply?request_token=eyJrt.payload.sig"
    assert response.headers["Cache-Control"] == "no-store"
    request = route.calls.last.request
    assert str(request.url) == "https://api.embloy.test/api/v0/sdk/request/auth/token"
    assert request.headers["client_token"] == token
    assert sent_form(route) == {
        "mode": ["ashby"],
        "job_slug": ["0a1b2c3d-ashby-posting"],
        "success_url": [f"https://board.test/jobs/{posting.job_id}?applied=embloy"],
        "cancel_url": [f"https://board.test/jobs/{posting.job_id}?cancelled=embloy"],
    }


def test_post_returns_the_portal_url_as_json(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id, provider="lever", remote_id="bab6e549"))
    route = embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "rt"})

    response = client.http.post(f"/jobs/{posting.job_id}/apply/embloy")

    assert response.status_code == 200
    assert response.json_body == {"url": "https://embloy.test/sdk/apply?request_token=rt"}
    assert sent_form(route)["mode"] == ["lever"]
    assert sent_form(route)["job_slug"] == ["bab6e549"]


def test_token_comes_from_the_postings_employer_never_the_request(
    client: Any, embloy_api: respx.MockRouter
) -> None:
    service = deps.get_employer_service()
    _employer_a, key_a = service.create("Employer A")
    employer_b, key_b = service.create("Employer B")
    token_a, token_b = make_client_token(marker="a"), make_client_token(marker="b")
    upload_token(client, key_a, token_a)
    upload_token(client, key_b, token_b)
    posting_b = store_posting(make_posting(employer_id=employer_b.employer_id, posting_id="post-b"))
    route = embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "rt"})

    smuggled = client.http.post(
        f"/jobs/{posting_b.job_id}/apply/embloy",
        body=json.dumps({"client_token": token_a, "success_url": "https://evil.test"}),
        headers={"Content-Type": "application/json"},
    )
    response = client.http.post(
        f"/jobs/{posting_b.job_id}/apply/embloy?client_token={token_a}&mode=job",
        body="{}",
        headers={**bearer(key_a), "Content-Type": "application/json", "client_token": token_a},
    )

    assert smuggled.status_code == 400  # body fields are refused, never read
    assert response.status_code == 200
    assert route.call_count == 1
    assert route.calls.last.request.headers["client_token"] == token_b
    form = sent_form(route)
    assert form["mode"] == ["ashby"]
    assert form["success_url"] == [f"https://board.test/jobs/{posting_b.job_id}?applied=embloy"]


@pytest.mark.parametrize("provider", ["greenhouse", "workday", "smartrecruiters"])
def test_postings_from_atss_embloy_cannot_take_are_refused(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter, provider: str
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id, provider=provider))
    route = embloy_api.post(TOKEN_PATH)

    response = click(client, posting.job_id)

    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "embloy_unsupported"
    assert route.call_count == 0


def test_employer_without_a_token_gets_not_configured(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter
) -> None:
    posting = store_posting(make_posting(employer_id=employer[0]))
    route = embloy_api.post(TOKEN_PATH)

    response = client.http.post(f"/jobs/{posting.job_id}/apply/embloy")

    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "embloy_not_configured"
    assert route.call_count == 0


def test_closed_and_unknown_postings_are_not_found(client: Any, employer: tuple[str, str]) -> None:
    closed = store_posting(make_posting(employer_id=employer[0], status="closed"))
    missing = make_posting(posting_id="never-stored")
    for job_id in (closed.job_id, missing.job_id, "not-a-job-id!"):
        response = click(client, job_id)
        assert response.status_code == 404
        assert response.json_body["error"]["code"] == "job_not_found"


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_token_gives_502_and_flags_renewal_until_a_new_upload(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter, status: int
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    embloy_api.post(TOKEN_PATH).respond(status, json={"token": [{"error": "ERR_INVALID"}]})

    response = click(client, posting.job_id)

    assert response.status_code == 502
    assert response.json_body["error"]["code"] == "embloy_token_invalid"
    status_body = client.http.get("/employer/embloy-token", headers=bearer(api_key)).json_body
    assert status_body["needs_renewal"] is True
    upload_token(client, api_key, make_client_token(marker="renewed"))
    status_body = client.http.get("/employer/embloy-token", headers=bearer(api_key)).json_body
    assert status_body["needs_renewal"] is False


def test_embloy_rate_limit_becomes_503_with_retry_after(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    embloy_api.post(TOKEN_PATH).respond(503, text="Rate limit exceeded. Please try again later.")

    response = click(client, posting.job_id)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert response.json_body["error"]["code"] == "embloy_unavailable"


@pytest.mark.parametrize(
    ("exception", "code"),
    [(httpx.ConnectError("refused"), "embloy_unreachable"), (httpx.ReadTimeout("slow"), "embloy_timeout")],
)
def test_unreachable_or_slow_embloy_becomes_504(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter, exception: Exception, code: str
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    embloy_api.post(TOKEN_PATH).mock(side_effect=exception)

    response = client.http.post(f"/jobs/{posting.job_id}/apply/embloy")

    assert response.status_code == 504
    assert response.json_body["error"]["code"] == code


def test_token_and_request_token_never_reach_the_logs(
    client: Any,
    employer: tuple[str, str],
    embloy_api: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The app's own logger and the HTTP stack at DEBUG; AWS SDK wire dumps are not the app's logging.
    caplog.set_level(logging.INFO)
    for name in ("job-board", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    employer_id, api_key = employer
    token = make_client_token(marker="very-secret-client-token")
    upload_token(client, api_key, token)
    posting = store_posting(make_posting(employer_id=employer_id))
    embloy_api.post(TOKEN_PATH).mock(
        side_effect=[
            httpx.Response(200, json={"request_token": "secret-request-token"}),
            httpx.Response(401, json={"token": [{"error": "ERR_INVALID"}]}),
            httpx.ConnectError("refused"),
        ]
    )

    for _ in range(3):
        click(client, posting.job_id)

    captured = capsys.readouterr()
    output = caplog.text + captured.out + captured.err
    assert "upstream failure" in output  # the failures were logged, just without secrets
    for secret in (token, token.split(".")[1], "secret-request-token"):
        assert secret not in output


def test_warm_click_reads_no_secret_from_secrets_manager(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "rt"})
    reads: list[str] = []
    events = deps.get_secrets_provider().client.meta.events
    events.register("before-call.secrets-manager.GetSecretValue", lambda **kwargs: reads.append("read"))

    click(client, posting.job_id)
    first = len(reads)
    click(client, posting.job_id)
    client.http.post(f"/jobs/{posting.job_id}/apply/embloy")

    assert first == 2  # the employer's Embloy token and the deployment's key for hashing client addresses
    assert len(reads) == first


def test_warm_click_costs_a_rate_count_one_posting_read_and_one_record_write(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    route = embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "rt"})
    click(client, posting.job_id)  # warm up: the secret is now cached
    calls: list[str] = []

    def count(event_name: str, **kwargs: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    deps.get_table().meta.client.meta.events.register("before-call.dynamodb", count)
    deps.get_secrets_provider().client.meta.events.register("before-call.secrets-manager", count)

    response = click(client, posting.job_id)

    assert response.status_code == 303
    # The client's rate count, the posting, and the employer's record of the click.
    assert sorted(calls) == ["GetItem", "PutItem", "UpdateItem"]
    assert route.call_count == 2  # one outbound call per click


def test_get_is_a_confirmation_page_with_no_write_and_no_embloy_call(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    route = embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "rt"})
    before = deps.get_table().scan()["Items"]

    for _ in range(20):  # a link prefetcher, a crawler, a chat preview ...
        response = client.http.get(f"/jobs/{posting.job_id}/apply/embloy")
        assert response.status_code == 200

    page = response.body.decode()
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert '<form method="post">' in page
    assert f'href="https://board.test/jobs/{posting.job_id}"' in page
    assert route.call_count == 0
    assert deps.get_table().scan()["Items"] == before
    records = client.http.get("/applications", headers=bearer(api_key)).json_body["data"]
    assert records == []


def test_get_of_what_cannot_be_a_job_id_is_404(client: Any) -> None:
    response = client.http.get("/jobs/not-a-job-id!/apply/embloy")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "job_not_found"


def test_clicks_per_client_and_job_are_rate_limited(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter
) -> None:
    from chalicelib.settings import get_settings

    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    other = store_posting(make_posting(employer_id=employer_id, posting_id="post-2"))
    route = embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "rt"})
    limit = get_settings().apply_rate_limit

    statuses = [click(client, posting.job_id).status_code for _ in range(limit + 3)]

    assert statuses == [303] * limit + [429] * 3
    throttled = click(client, posting.job_id)
    assert throttled.json_body["error"]["code"] == "rate_limited"
    assert 1 <= int(throttled.headers["Retry-After"]) <= get_settings().apply_rate_window_seconds
    assert route.call_count == limit  # no Embloy call past the limit
    records = client.http.get("/applications", headers=bearer(api_key)).json_body["data"]
    assert len(records) == limit
    assert click(client, other.job_id).status_code == 303  # another job has its own budget


BAD_BODIES = {
    "malformed JSON": (b"{not json", "application/json", "invalid_json"),
    "a JSON array": (b"[]", "application/json", "invalid_json"),
    "UTF-16 JSON": ("{}".encode("utf-16"), "application/json", "invalid_json"),
    "an unknown field": (b'{"success_url": "https://evil.test"}', "application/json", "invalid_request"),
    "a form field": (
        b"success_url=https%3A%2F%2Fevil.test",
        "application/x-www-form-urlencoded",
        "invalid_request",
    ),
    "a malformed form": (b"%ff=1", "application/x-www-form-urlencoded", "invalid_form"),
    "text that is not JSON": (b"hello", "text/plain", "unsupported_media_type"),
}


@pytest.mark.parametrize(("body", "content_type", "code"), BAD_BODIES.values(), ids=list(BAD_BODIES))
def test_a_bad_body_is_refused_before_any_token_click_or_rate_slot_is_spent(
    client: Any,
    employer: tuple[str, str],
    embloy_api: respx.MockRouter,
    body: bytes,
    content_type: str,
    code: str,
) -> None:
    from chalicelib.settings import get_settings

    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    route = embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "rt"})
    before = deps.get_table().scan()["Items"]

    for _ in range(get_settings().apply_rate_limit + 1):
        response = client.http.post(
            f"/jobs/{posting.job_id}/apply/embloy", body=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 400, response.body
        assert response.json_body["error"]["code"] == code

    assert route.call_count == 0  # no Embloy request token spent
    assert deps.get_table().scan()["Items"] == before  # no click recorded, no rate count taken
    assert click(client, posting.job_id).status_code == 303  # the client's whole budget is left


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"", "application/json"), (b"{}", "application/json"), (b" {} ", "application/json; charset=utf-8"),
     (b"", "application/x-www-form-urlencoded"), (b"", "text/plain")],
)  # fmt: skip
def test_an_empty_body_is_accepted(
    client: Any, employer: tuple[str, str], embloy_api: respx.MockRouter, body: bytes, content_type: str
) -> None:
    employer_id, api_key = employer
    upload_token(client, api_key, make_client_token())
    posting = store_posting(make_posting(employer_id=employer_id))
    embloy_api.post(TOKEN_PATH).respond(200, json={"request_token": "rt"})

    response = client.http.post(
        f"/jobs/{posting.job_id}/apply/embloy", body=body, headers={"Content-Type": content_type}
    )

    assert response.status_code in (200, 303), response.body
