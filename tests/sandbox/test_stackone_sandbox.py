"""The StackOne sandbox behaves like StackOne where the board depends on it, and its knobs work."""

from __future__ import annotations

import base64
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest

from sandbox.demo_employers import DEMO_EMPLOYERS
from sandbox.stackone import StackOneSandboxHandle, start_stackone_sandbox
from sandbox.stackone.seed import ALL_QUESTION_TYPES, is_on_board
from tests.sandbox.conftest import API_KEY, SleepRecorder

ACME = DEMO_EMPLOYERS[0]  # greenhouse
INITECH = DEMO_EMPLOYERS[3]  # lever
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def postings_page(client: httpx.Client, account_id: str, **params: Any) -> httpx.Response:
    return client.get("/unified/ats/job_postings", params=params, headers={"x-account-id": account_id})


def all_postings(client: httpx.Client, account_id: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every posting by following `next`; also how many pages were empty."""
    collected: list[dict[str, Any]] = []
    empty_pages = 0
    cursor = None
    for _ in range(500):
        query = dict(params)
        if cursor:
            query["next"] = cursor
        body = postings_page(client, account_id, **query).raise_for_status().json()
        collected.extend(body["data"])
        empty_pages += not body["data"]
        cursor = body["next"]
        if not cursor:
            return collected, empty_pages
    raise AssertionError("pagination never ended")


# Auth ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"wrong-key:").decode(),
        "Bearer " + API_KEY,
        "Basic not-base64!!",
    ],
)
def test_requests_without_the_api_key_get_stackones_401_body(
    admin: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = admin.get("/accounts", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["statusCode"] == 401 and body["message"] == "Unauthorized"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", body["timestamp"])


def test_basic_auth_with_and_without_the_trailing_colon_is_accepted(admin: httpx.Client) -> None:
    for raw in (f"{API_KEY}:", API_KEY):
        header = "Basic " + base64.b64encode(raw.encode()).decode()
        assert admin.get("/accounts", headers={"Authorization": header}).status_code == 200


# Accounts --------------------------------------------------------------------------------------------


def test_accounts_list_is_a_bare_array_of_the_demo_employers(stackone_http: httpx.Client) -> None:
    accounts = stackone_http.get("/accounts").json()
    assert isinstance(accounts, list)
    assert [(a["id"], a["origin_owner_id"], a["origin_owner_name"], a["provider"]) for a in accounts] == [
        (e.account_id, e.employer_id, e.name, e.provider) for e in DEMO_EMPLOYERS
    ]
    assert all(a["status"] == "active" for a in accounts)


def test_accounts_filters_and_paging(stackone_http: httpx.Client) -> None:
    by_owner = stackone_http.get("/accounts", params={"origin_owner_id": ACME.employer_id}).json()
    assert [a["id"] for a in by_owner] == [ACME.account_id]
    by_providers = stackone_http.get(
        "/accounts", params=[("providers", "lever"), ("providers", "ashby")]
    ).json()
    assert sorted(a["provider"] for a in by_providers) == ["ashby", "lever"]
    assert stackone_http.get("/accounts", params={"status": "expired"}).json() == []
    first = stackone_http.get("/accounts", params={"page": 1, "page_size": 3}).json()
    second = stackone_http.get("/accounts", params={"page": 2, "page_size": 3}).json()
    assert len(first) == 3 and len(second) == 1
    assert {a["id"] for a in first + second} == {e.account_id for e in DEMO_EMPLOYERS}


def test_get_account_and_meta(stackone_http: httpx.Client) -> None:
    account = stackone_http.get(f"/accounts/{INITECH.account_id}").json()
    assert account["provider"] == "lever" and account["origin_owner_id"] == INITECH.employer_id
    meta = stackone_http.get(f"/accounts/{INITECH.account_id}/meta").json()
    assert meta["provider"] == "lever" and meta["category"] == "ats" and "job_postings" in meta["models"]
    missing = stackone_http.get("/accounts/acc_nope")
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404


# Connect sessions and the Hub page -------------------------------------------------------------------


def test_connect_session_requires_owner_id_and_name(stackone_http: httpx.Client) -> None:
    for body in ({"origin_owner_name": "Acme"}, {"origin_owner_id": "emp_1"}, {"origin_owner_id": ""}):
        response = stackone_http.post("/connect_sessions", json=body)
        assert response.status_code == 400
        assert response.json()["statusCode"] == 400 and "origin_owner" in response.json()["message"]


def test_connect_session_returns_token_and_hub_link(
    stackone_http: httpx.Client, stackone: StackOneSandboxHandle
) -> None:
    response = stackone_http.post(
        "/connect_sessions",
        json={
            "origin_owner_id": "emp_new",
            "origin_owner_name": "New Co",
            "categories": ["ats"],
            "expires_in": 600,
        },
    )
    assert response.status_code == 201
    session = response.json()
    for name in ("id", "organization_id", "project_id", "origin_owner_id", "origin_owner_name", "created_at"):
        assert session[name] not in (None, "")
    assert session["categories"] == ["ats"]
    assert session["auth_link_url"] == f"{stackone.base_url}/hub/link?token={session['token']}"
    stored = stackone.state.sessions[session["token"]]
    assert (stored.expires_at - stored.created_at).total_seconds() == 600


def test_linking_through_the_hub_page_creates_an_active_account_with_postings(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    session = stackone_http.post(
        "/connect_sessions", json={"origin_owner_id": "emp_new", "origin_owner_name": "New Co"}
    ).json()
    page = admin.get(session["auth_link_url"])
    assert page.status_code == 200
    assert '<label for="provider">ATS provider</label>' in page.text
    assert '<button type="submit">Link account</button>' in page.text

    linked = admin.post("/hub/link", data={"token": session["token"], "provider": "workable"})
    assert linked.status_code == 200 and "Account linked" in linked.text
    linked_id = re.search(r'data-account-id="([^"]+)"', linked.text)
    assert linked_id is not None
    account_id = linked_id.group(1)

    accounts = stackone_http.get("/accounts", params={"origin_owner_id": "emp_new"}).json()
    assert [(a["id"], a["provider"], a["status"]) for a in accounts] == [(account_id, "workable", "active")]
    postings, _ = all_postings(stackone_http, account_id)
    assert len(postings) >= 5
    # the token is single-use
    again = admin.post("/hub/link", data={"token": session["token"], "provider": "workable"})
    assert again.status_code == 410 and 'role="alert"' in again.text


def test_hub_page_for_a_session_with_a_provider_links_that_provider(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    session = stackone_http.post(
        "/connect_sessions", json={"origin_owner_id": "emp_x", "origin_owner_name": "X", "provider": "ashby"}
    ).json()
    page = admin.get(session["auth_link_url"])
    assert "<select" not in page.text and "Ashby" in page.text
    admin.post("/hub/link", data={"token": session["token"], "provider": "ashby"}).raise_for_status()
    assert (
        stackone_http.get("/accounts", params={"origin_owner_id": "emp_x"}).json()[0]["provider"] == "ashby"
    )


def test_edit_mode_session_reactivates_an_expired_account(
    stackone_http: httpx.Client, admin: httpx.Client, stackone: StackOneSandboxHandle
) -> None:
    stackone.state.expire_account(ACME.account_id)
    session = stackone_http.post(
        "/connect_sessions",
        json={
            "origin_owner_id": ACME.employer_id,
            "origin_owner_name": ACME.name,
            "account_id": ACME.account_id,
        },
    ).json()
    assert session["account_id"] == ACME.account_id
    page = admin.get(session["auth_link_url"])
    assert ACME.account_id in page.text
    admin.post("/hub/link", data={"token": session["token"]}).raise_for_status()
    assert stackone_http.get(f"/accounts/{ACME.account_id}").json()["status"] == "active"
    assert len(stackone_http.get("/accounts", params={"origin_owner_id": ACME.employer_id}).json()) == 1


def test_edit_mode_for_another_owners_account_is_refused(stackone_http: httpx.Client) -> None:
    response = stackone_http.post(
        "/connect_sessions",
        json={"origin_owner_id": "emp_other", "origin_owner_name": "Other", "account_id": ACME.account_id},
    )
    assert response.status_code == 403


def test_hub_page_for_unknown_or_expired_tokens_shows_an_error(
    stackone_http: httpx.Client, admin: httpx.Client, stackone: StackOneSandboxHandle
) -> None:
    unknown = admin.get("/hub/link", params={"token": "nope"})
    assert unknown.status_code == 404 and "unknown" in unknown.text
    session = stackone_http.post(
        "/connect_sessions", json={"origin_owner_id": "e", "origin_owner_name": "E", "expires_in": 60}
    ).json()
    assert admin.get(session["auth_link_url"]).status_code == 200
    created = stackone.state.sessions[session["token"]].created_at
    stackone.state.clock = lambda: created + timedelta(seconds=61)
    response = admin.get(session["auth_link_url"])
    assert response.status_code == 410 and "expired" in response.text
    linked = admin.post("/hub/link", data={"token": session["token"], "provider": "lever"})
    assert (
        linked.status_code == 410
        and stackone_http.get("/accounts", params={"origin_owner_id": "e"}).json() == []
    )


# Job postings ----------------------------------------------------------------------------------------


def test_postings_need_a_known_x_account_id(stackone_http: httpx.Client) -> None:
    missing = stackone_http.get("/unified/ats/job_postings")
    assert missing.status_code == 400 and missing.json()["statusCode"] == 400
    unknown = postings_page(stackone_http, "acc_unknown")
    assert unknown.status_code == 404 and "account" in unknown.json()["message"]


def test_paging_with_a_cursor_returns_every_posting_once(stackone_http: httpx.Client) -> None:
    first = postings_page(stackone_http, ACME.account_id, page_size=5).json()
    assert len(first["data"]) == 5 and first["next"]
    base64.urlsafe_b64decode(first["next"] + "==")  # opaque, but base64
    postings, _ = all_postings(stackone_http, ACME.account_id, page_size=5)
    assert len(postings) == 12 == len({p["id"] for p in postings})
    assert postings_page(stackone_http, ACME.account_id).json()["next"] is None  # default page_size 25


def test_a_cursor_from_another_account_or_garbage_is_rejected(stackone_http: httpx.Client) -> None:
    cursor = postings_page(stackone_http, ACME.account_id, page_size=2).json()["next"]
    assert postings_page(stackone_http, INITECH.account_id, next=cursor).status_code == 400
    assert postings_page(stackone_http, ACME.account_id, next="%%%").status_code == 400


def test_short_and_empty_pages_still_carry_next(stackone_http: httpx.Client, admin: httpx.Client) -> None:
    admin.put(
        "/_sandbox/config", json={"pagination": {"short_page_size": 2, "empty_pages": True}}
    ).raise_for_status()
    first = postings_page(stackone_http, ACME.account_id, page_size=100).json()
    assert first["data"] == [] and first["next"]
    second = postings_page(stackone_http, ACME.account_id, page_size=100, next=first["next"]).json()
    assert len(second["data"]) == 2 and second["next"]
    postings, empty_pages = all_postings(stackone_http, ACME.account_id, page_size=100)
    assert len({p["id"] for p in postings}) == 12 and empty_pages == 6


def test_questionnaires_only_when_included(stackone_http: httpx.Client) -> None:
    plain = postings_page(stackone_http, ACME.account_id).json()["data"]
    assert all("questionnaires" not in p for p in plain)
    included = postings_page(stackone_http, ACME.account_id, include="questionnaires").json()["data"]
    assert any(p["questionnaires"] for p in included)
    single = stackone_http.get(
        f"/unified/ats/job_postings/{plain[0]['id']}", headers={"x-account-id": ACME.account_id}
    ).json()
    assert single["data"]["id"] == plain[0]["id"] and "questionnaires" not in single["data"]


def test_get_posting_by_remote_id_and_unknown_posting(stackone_http: httpx.Client) -> None:
    posting = postings_page(stackone_http, INITECH.account_id).json()["data"][0]
    headers = {"x-account-id": INITECH.account_id}
    by_remote = stackone_http.get(f"/unified/ats/job_postings/{posting['remote_id']}", headers=headers)
    assert by_remote.json()["data"]["id"] == posting["id"]
    missing = stackone_http.get("/unified/ats/job_postings/c28xIQnope", headers=headers)
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404


def test_seeded_demo_data_covers_what_the_board_must_handle(stackone: StackOneSandboxHandle) -> None:
    postings = [p for items in stackone.state.postings.values() for p in items.values()]
    assert len(postings) >= 40
    locations = {loc["name"] for p in postings for loc in p["locations"]}
    assert {"Remote", "Remote - EU", "Berlin, Germany"} <= locations
    assert len({p["employment_type"]["value"] for p in postings}) >= 3
    assert len({p["employment_contract_type"]["value"] for p in postings}) >= 2
    compensation = [c for p in postings for c in p["compensation"]]
    assert any("min_value_range" in c for c in compensation) and any("min_value" in c for c in compensation)
    assert any("remote_job_posting_id" in p for p in postings) and any("remote_job_id" in p for p in postings)
    assert {type(p["internal"]) for p in postings} == {str, bool}
    assert any("<script>" in p["content"]["html"] and "onclick" in p["content"]["html"] for p in postings)
    assert all(p["content"]["sections"] for p in postings)
    questions = [q for p in postings for qn in p["questionnaires"] for q in qn["questions"]]
    assert set(ALL_QUESTION_TYPES) <= {q["type"]["value"] for q in questions}
    assert any(q["parent_question"] for q in questions)
    assert any(str(q["required"]).lower() == "true" for q in questions)
    statuses = {p["status"]["value"] for p in postings}
    assert {"live", "draft", "closed"} <= statuses
    assert any(p["internal"] == "true" and p["status"]["value"] == "live" for p in postings)
    assert 30 <= sum(is_on_board(p) for p in postings) < len(postings)
    for employer in DEMO_EMPLOYERS:
        if employer.provider in ("lever", "ashby"):
            assert all(
                UUID_RE.match(p["remote_id"]) for p in stackone.state.postings[employer.account_id].values()
            )


def test_demo_data_is_deterministic_for_a_seed() -> None:
    from sandbox.stackone.state import StackOneState

    first, second = StackOneState(api_key="k", seed_value=7), StackOneState(api_key="k", seed_value=7)
    other = StackOneState(api_key="k", seed_value=8)
    assert first.postings == second.postings
    assert first.postings != other.postings


# Deltas ----------------------------------------------------------------------------------------------


def test_updated_after_returns_edits_and_closures_but_not_deletions(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    postings, _ = all_postings(stackone_http, ACME.account_id)
    watermark = max(p["updated_at"] for p in postings)
    assert all_postings(stackone_http, ACME.account_id, **{"filter[updated_after]": watermark})[0] == []

    edited, closed, deleted = postings[0]["id"], postings[1]["id"], postings[2]["id"]
    base = f"/_sandbox/accounts/{ACME.account_id}/postings"
    admin.patch(f"{base}/{edited}", json={"title": "Principal Engineer"}).raise_for_status()
    admin.post(f"{base}/{closed}/close").raise_for_status()
    admin.delete(f"{base}/{deleted}").raise_for_status()

    delta, _ = all_postings(stackone_http, ACME.account_id, **{"filter[updated_after]": watermark})
    assert {p["id"]: (p["title"], p["status"]["value"]) for p in delta} == {
        edited: ("Principal Engineer", postings[0]["status"]["value"]),
        closed: (postings[1]["title"], "closed"),
    }
    full, _ = all_postings(stackone_http, ACME.account_id)
    assert deleted not in {p["id"] for p in full} and len(full) == 11
    gone = stackone_http.get(
        f"/unified/ats/job_postings/{deleted}", headers={"x-account-id": ACME.account_id}
    )
    assert gone.status_code == 404

    new_watermark = max(p["updated_at"] for p in delta)
    admin.post(f"{base}/{closed}/reopen").raise_for_status()
    reopened, _ = all_postings(stackone_http, ACME.account_id, **{"filter[updated_after]": new_watermark})
    assert [(p["id"], p["status"]["value"]) for p in reopened] == [(closed, "live")]


def test_bad_updated_after_is_a_400(stackone_http: httpx.Client) -> None:
    response = postings_page(stackone_http, ACME.account_id, **{"filter[updated_after]": "yesterday"})
    assert response.status_code == 400


def test_deleting_while_paging_skips_nothing_else(
    stackone_http: httpx.Client, stackone: StackOneSandboxHandle
) -> None:
    first = postings_page(stackone_http, ACME.account_id, page_size=4).json()
    stackone.state.delete_posting(ACME.account_id, first["data"][0]["id"])
    rest, _ = all_postings(stackone_http, ACME.account_id, page_size=4, next=first["next"])
    assert len(first["data"]) + len(rest) == 12


# Knobs -----------------------------------------------------------------------------------------------


def test_injected_429_carries_retry_after_then_requests_succeed(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    admin.post("/_sandbox/failures", json={"status": 429, "count": 2, "retry_after": 7}).raise_for_status()
    for _ in range(2):
        response = postings_page(stackone_http, ACME.account_id)
        assert response.status_code == 429 and response.headers["Retry-After"] == "7"
        assert response.json()["statusCode"] == 429
    assert postings_page(stackone_http, ACME.account_id).status_code == 200
    assert admin.get("/_sandbox/failures").json() == []


def test_failures_scoped_to_one_account_leave_others_alone(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    admin.post(
        "/_sandbox/failures", json={"status": 502, "probability": 1.0, "account_id": INITECH.account_id}
    )
    failing = postings_page(stackone_http, INITECH.account_id)
    assert failing.status_code == 502 and failing.json()["provider_errors"]
    assert postings_page(stackone_http, ACME.account_id).status_code == 200
    assert postings_page(stackone_http, INITECH.account_id).status_code == 502  # probability 1: every time
    admin.delete("/_sandbox/failures").raise_for_status()
    assert postings_page(stackone_http, INITECH.account_id).status_code == 200


@pytest.mark.parametrize(("status", "retry_after"), [(408, "3"), (500, None)])
def test_injected_408_and_500(
    stackone_http: httpx.Client, admin: httpx.Client, status: int, retry_after: str | None
) -> None:
    admin.post("/_sandbox/failures", json={"status": status, "retry_after": 3, "path_prefix": "/unified/"})
    assert stackone_http.get("/accounts").status_code == 200  # outside the path prefix
    response = postings_page(stackone_http, ACME.account_id)
    assert response.status_code == status and response.headers.get("Retry-After") == retry_after


def test_injected_connection_drop_is_a_transport_error(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    admin.post("/_sandbox/failures", json={"status": "drop", "count": 1})
    with pytest.raises(httpx.TransportError):
        postings_page(stackone_http, ACME.account_id)
    assert postings_page(stackone_http, ACME.account_id).status_code == 200


def test_probability_zero_never_fails(stackone_http: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/_sandbox/failures", json={"status": 500, "probability": 0.0})
    assert all(postings_page(stackone_http, ACME.account_id).status_code == 200 for _ in range(5))


def test_expired_credentials_give_401_with_error_code_and_status_expired(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    admin.post(f"/_sandbox/accounts/{ACME.account_id}/expire").raise_for_status()
    response = postings_page(stackone_http, ACME.account_id)
    assert response.status_code == 401
    assert response.json()["errorCode"] == "AccountExpiredCredentialsError"
    account = stackone_http.get(f"/accounts/{ACME.account_id}").json()
    assert account["status"] == "expired" and account["status_reasons"]
    assert postings_page(stackone_http, INITECH.account_id).status_code == 200


def test_latency_is_applied_to_api_requests_only(
    stackone_http: httpx.Client, admin: httpx.Client, sandbox_sleep: SleepRecorder
) -> None:
    admin.put("/_sandbox/config", json={"latency_ms": 120}).raise_for_status()
    stackone_http.get("/accounts")
    postings_page(stackone_http, ACME.account_id)
    admin.get("/_sandbox/stats")
    assert sandbox_sleep.calls == [0.12, 0.12]


def test_request_counters_by_path_and_account(stackone_http: httpx.Client, admin: httpx.Client) -> None:
    all_postings(stackone_http, ACME.account_id, page_size=5)
    stackone_http.get("/accounts")
    stats = admin.get("/_sandbox/stats").json()
    assert stats["requests_total"] == 4
    assert stats["by_path"] == {"GET /unified/ats/job_postings": 3, "GET /accounts": 1}
    assert stats["by_account"] == {ACME.account_id: 3}
    assert admin.post("/_sandbox/stats/reset").json()["requests_total"] == 0


def test_bulk_generated_accounts_and_postings(stackone_http: httpx.Client, admin: httpx.Client) -> None:
    created = admin.post("/_sandbox/accounts/generate", json={"count": 3, "postings_per_account": 30}).json()
    assert len(created) == 3 and len({a["origin_owner_id"] for a in created}) == 3
    postings, _ = all_postings(stackone_http, created[0]["id"], page_size=100)
    assert len(postings) == 30 and all(is_on_board(p) for p in postings)
    more = admin.post(f"/_sandbox/accounts/{created[0]['id']}/postings", json={"count": 5}).json()
    assert len(more) == 5
    assert len(all_postings(stackone_http, created[0]["id"], page_size=100)[0]) == 35
    assert len(stackone_http.get("/accounts", params={"page_size": 100}).json()) == 7


def test_generate_accounts_gives_each_its_own_owner_and_postings(stackone: StackOneSandboxHandle) -> None:
    accounts = stackone.state.generate_accounts(20, 25)
    assert len(accounts) == 20 == len({a["origin_owner_id"] for a in accounts})
    assert all(len(stackone.state.postings[a["id"]]) == 25 for a in accounts)
    later = stackone.state.generate_accounts(2, 1)
    assert not {a["id"] for a in later} & {a["id"] for a in accounts}


def test_admin_account_creation_and_reset(stackone_http: httpx.Client, admin: httpx.Client) -> None:
    created = admin.post(
        "/_sandbox/accounts",
        json={
            "origin_owner_id": "emp_b",
            "origin_owner_name": "B",
            "provider": "lever",
            "id": "acc_b",
            "postings": 4,
        },
    )
    assert created.status_code == 201
    assert len(all_postings(stackone_http, "acc_b")[0]) == 4
    admin.post("/_sandbox/failures", json={"status": 500, "probability": 1.0})
    admin.post("/_sandbox/reset").raise_for_status()
    assert stackone_http.get("/accounts/acc_b").status_code == 404
    assert postings_page(stackone_http, ACME.account_id).status_code == 200


def test_admin_rejects_bad_knobs(admin: httpx.Client) -> None:
    assert admin.post("/_sandbox/failures", json={"status": 418}).status_code == 400
    assert admin.put("/_sandbox/config", json={"latency_ms": -1}).status_code == 400
    assert admin.post("/_sandbox/accounts/acc_nope/expire").status_code == 404


# Applications ----------------------------------------------------------------------------------------


def _full_questionnaire_posting(stackone: StackOneSandboxHandle) -> dict[str, Any]:
    return next(
        p
        for p in stackone.state.postings[ACME.account_id].values()
        if len(p["questionnaires"]) == 2 and is_on_board(p)
    )


def _answers(posting: dict[str, Any], *, visa: str) -> list[dict[str, Any]]:
    main, short = posting["questionnaires"]
    q = {question["remote_id"]: question for question in main["questions"] + short["questions"]}
    visa_option = next(o["id"] for o in q["q_visa"]["multiple_choice_answers"] if o["text"] == visa)
    answers = [
        {"id": q["q_name"]["id"], "type": {"value": "short_text"}, "values": ["Ada"]},
        {"id": q["q_motivation"]["id"], "type": {"value": "long_text"}, "values": ["Robots."]},
        {"id": q["q_visa"]["id"], "type": {"value": "single_select"}, "values": [visa_option]},
        {"id": q["q_years"]["id"], "type": {"value": "number"}, "values": ["7"]},
    ]
    return [
        {"id": main["id"], "answers": answers},
        {
            "id": short["id"],
            "answers": [{"id": q["q_salary"]["id"], "type": {"value": "number"}, "values": ["90000"]}],
        },
    ]


def _application(posting: dict[str, Any], questionnaires: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "job_posting_id": posting["id"],
        "job_id": posting["job_id"],
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "questionnaires": questionnaires,
        "documents": [
            {
                "name": "cv.pdf",
                "file_format": {"value": "pdf"},
                "category": {"value": "resume"},
                "content": base64.b64encode(b"%PDF-1.4").decode(),
            }
        ],
        "source": {"name": "Unified Job Board"},
    }


def test_create_application_records_the_body_and_serves_it_back(
    stackone_http: httpx.Client, admin: httpx.Client, stackone: StackOneSandboxHandle
) -> None:
    posting = _full_questionnaire_posting(stackone)
    body = _application(posting, _answers(posting, visa="No"))
    response = stackone_http.post(
        "/unified/ats/applications", json=body, headers={"x-account-id": ACME.account_id}
    )
    assert response.status_code == 201
    created = response.json()
    assert created["statusCode"] == 201 and created["message"] and created["timestamp"]
    application_id = created["data"]["id"]
    assert created["data"]["remote_id"]

    received = admin.get("/_sandbox/applications", params={"account_id": ACME.account_id}).json()
    assert [(a["id"], a["received"]) for a in received] == [(application_id, body)]

    fetched = stackone_http.get(
        f"/unified/ats/applications/{application_id}", headers={"x-account-id": ACME.account_id}
    ).json()["data"]
    assert fetched["application_status"]["value"] == "new"
    assert fetched["candidate"]["email"] == "ada@example.com" and fetched["job_id"] == posting["job_id"]

    admin.post(
        f"/_sandbox/applications/{application_id}/status", json={"value": "interview"}
    ).raise_for_status()
    refreshed = stackone_http.get(
        f"/unified/ats/applications/{application_id}", headers={"x-account-id": ACME.account_id}
    ).json()["data"]
    assert refreshed["application_status"]["value"] == "interview"
    other_account = stackone_http.get(
        f"/unified/ats/applications/{application_id}", headers={"x-account-id": INITECH.account_id}
    )
    assert other_account.status_code == 404


def test_conditional_required_question_is_enforced_only_when_shown(
    stackone_http: httpx.Client, stackone: StackOneSandboxHandle
) -> None:
    posting = _full_questionnaire_posting(stackone)
    headers = {"x-account-id": ACME.account_id}
    needs_visa = stackone_http.post(
        "/unified/ats/applications",
        json=_application(posting, _answers(posting, visa="Yes")),
        headers=headers,
    )
    assert needs_visa.status_code == 400 and "q_visa_country" in needs_visa.json()["message"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"candidate": None}, "candidate"),
        ({"candidate_id": "c1"}, "either candidate or candidate_id"),
        ({"questionnaires": []}, "is required"),
        ({"documents": [{"name": "cv.pdf", "content": "not base64!"}]}, "base64"),
    ],
)
def test_invalid_applications_are_rejected_with_400(
    stackone_http: httpx.Client, stackone: StackOneSandboxHandle, change: dict[str, Any], expected: str
) -> None:
    posting = _full_questionnaire_posting(stackone)
    body = {**_application(posting, _answers(posting, visa="No")), **change}
    response = stackone_http.post(
        "/unified/ats/applications", json=body, headers={"x-account-id": ACME.account_id}
    )
    assert response.status_code == 400 and expected in response.json()["message"]
    assert stackone.state.applications == {}


def test_applying_to_a_closed_or_unknown_posting_fails(
    stackone_http: httpx.Client, stackone: StackOneSandboxHandle
) -> None:
    closed = next(
        p for p in stackone.state.postings[ACME.account_id].values() if p["status"]["value"] == "closed"
    )
    body = _application(closed, [])
    headers = {"x-account-id": ACME.account_id}
    assert stackone_http.post("/unified/ats/applications", json=body, headers=headers).status_code == 400
    body["job_posting_id"] = "c28xIQunknown"
    assert stackone_http.post("/unified/ats/applications", json=body, headers=headers).status_code == 404


def test_injected_501_on_create_application(
    stackone_http: httpx.Client, admin: httpx.Client, stackone: StackOneSandboxHandle
) -> None:
    admin.post(
        "/_sandbox/failures",
        json={
            "status": 501,
            "method": "POST",
            "path_prefix": "/unified/ats/applications",
            "account_id": ACME.account_id,
        },
    )
    posting = _full_questionnaire_posting(stackone)
    body = _application(posting, _answers(posting, visa="No"))
    response = stackone_http.post(
        "/unified/ats/applications", json=body, headers={"x-account-id": ACME.account_id}
    )
    assert response.status_code == 501


def test_parallel_requests_are_served_concurrently() -> None:
    """Each request's latency step waits at a barrier that only opens when 4 requests are inside at once,
    so a server that handled one request at a time would time out here."""
    barrier = threading.Barrier(4)

    def wait_at_barrier(_seconds: float) -> None:
        barrier.wait(timeout=5)

    handle = start_stackone_sandbox(api_key=API_KEY, latency_ms=1, sleep=wait_at_barrier)
    try:

        def fetch(employer: Any) -> int:
            with httpx.Client(
                base_url=handle.base_url, auth=httpx.BasicAuth(API_KEY, ""), verify=False
            ) as client:
                return postings_page(client, employer.account_id).status_code

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(fetch, DEMO_EMPLOYERS)) == [200, 200, 200, 200]
    finally:
        handle.stop()
