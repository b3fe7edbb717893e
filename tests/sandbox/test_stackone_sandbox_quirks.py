"""The StackOne sandbox's knobs for answers the spec allows and real data that breaks naive code."""

from __future__ import annotations

import json

import httpx

from sandbox.demo_employers import DEMO_EMPLOYERS
from sandbox.stackone import StackOneSandboxHandle
from tests.sandbox.test_stackone_sandbox import postings_page

ACME = DEMO_EMPLOYERS[0]


def test_repeat_cursor_answers_the_same_cursor_forever(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    admin.put("/_sandbox/config", json={"pagination": {"repeat_cursor": True}}).raise_for_status()

    first = postings_page(stackone_http, ACME.account_id, page_size=2).json()
    second = postings_page(stackone_http, ACME.account_id, page_size=2, next=first["next"]).json()

    assert first["next"] and second["next"] == first["next"]
    assert [p["id"] for p in second["data"]] == [p["id"] for p in first["data"]]
    assert admin.get("/_sandbox/config").json()["pagination"]["repeat_cursor"] is True


def test_null_application_id_still_creates_the_application(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    admin.put("/_sandbox/config", json={"quirks": {"null_application_id": True}}).raise_for_status()
    posting = next(p for p in admin.get(f"/_sandbox/accounts/{ACME.account_id}/postings").json()
                   if p["status"]["value"] == "live" and not p.get("questionnaires"))  # fmt: skip

    created = stackone_http.post(
        "/unified/ats/applications",
        headers={"x-account-id": ACME.account_id},
        json={"job_posting_id": posting["id"],
              "candidate": {"first_name": "Ada", "last_name": "L", "email": "ada@example.com"}},
    )  # fmt: skip

    assert created.status_code == 201, created.text
    assert created.json()["data"]["id"] is None
    assert len(admin.get("/_sandbox/applications").json()) == 1
    listed = stackone_http.get(
        "/unified/ats/applications",
        headers={"x-account-id": ACME.account_id},
        params={"filter[created_after]": "2000-01-01T00:00:00Z"},
    ).json()
    later = stackone_http.get(
        "/unified/ats/applications",
        headers={"x-account-id": ACME.account_id},
        params={"filter[created_after]": "2999-01-01T00:00:00Z"},
    ).json()
    assert [a["candidate"]["email"] for a in listed["data"]] == ["ada@example.com"]  # found by email
    assert later["data"] == []


def test_fractional_connect_session_ids(stackone_http: httpx.Client, admin: httpx.Client) -> None:
    admin.put("/_sandbox/config", json={"quirks": {"fractional_session_ids": True}}).raise_for_status()

    session = stackone_http.post(
        "/connect_sessions", json={"origin_owner_id": "o1", "origin_owner_name": "Org"}
    ).json()

    assert isinstance(session["id"], float) and session["id"] % 1 == 0.5


def test_poison_postings(
    stackone: StackOneSandboxHandle, stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    surrogate = admin.post(
        f"/_sandbox/accounts/{ACME.account_id}/poison", json={"kind": "lone_surrogate"}
    ).json()
    admin.post(f"/_sandbox/accounts/{ACME.account_id}/poison", json={"kind": "oversized"}).raise_for_status()
    admin.post(
        f"/_sandbox/accounts/{ACME.account_id}/poison", json={"kind": "not_an_object"}
    ).raise_for_status()

    page = postings_page(stackone_http, ACME.account_id, page_size=100)
    data = json.loads(page.content)  # the standard library reads lone surrogates; UTF-8 cannot hold them
    titles = {p["id"]: p["title"] for p in data["data"] if isinstance(p, dict)}

    assert data["data"][0] is None
    assert "\ud800" in titles[surrogate["posting_id"]]
    assert max(len(p["content"]["html"] or "") for p in data["data"] if isinstance(p, dict)) > 400_000
    assert admin.post(f"/_sandbox/accounts/{ACME.account_id}/poison", json={"kind": "x"}).status_code == 400


def test_jobs_and_departments_come_from_the_postings(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    headers = {"x-account-id": ACME.account_id}
    postings = admin.get(f"/_sandbox/accounts/{ACME.account_id}/postings").json()

    jobs = stackone_http.get(
        "/unified/ats/jobs", headers=headers, params={"fields": "id,department_ids"}
    ).json()
    departments = stackone_http.get("/unified/ats/departments", headers=headers).json()

    names = {d["id"]: d["name"] for d in departments["data"]}
    by_job = {j["id"]: names[j["department_ids"][0]] for j in jobs["data"]}
    assert set(jobs["data"][0]) == {"id", "department_ids"}
    for posting in postings:
        assert by_job[posting["job_id"]] == posting["unified_custom_fields"]["department"]
    paged = stackone_http.get("/unified/ats/jobs", headers=headers, params={"page_size": 1}).json()
    assert len(paged["data"]) == 1 and paged["next"]


def test_duplicate_applications_conflict_answers_409_and_creates_nothing(
    stackone_http: httpx.Client, admin: httpx.Client
) -> None:
    admin.put(
        "/_sandbox/config", json={"quirks": {"duplicate_applications_conflict": True}}
    ).raise_for_status()
    posting = next(p for p in admin.get(f"/_sandbox/accounts/{ACME.account_id}/postings").json()
                   if p["status"]["value"] == "live" and not p.get("questionnaires"))  # fmt: skip

    def apply(email: str, posting_ref: str) -> httpx.Response:
        return stackone_http.post(
            "/unified/ats/applications",
            headers={"x-account-id": ACME.account_id},
            json={"job_posting_id": posting_ref,
                  "candidate": {"first_name": "Ada", "last_name": "L", "email": email}},
        )  # fmt: skip

    first = apply("ada@example.com", posting["id"])
    again = apply("ADA@example.com", posting["remote_id"])
    other = apply("grace@example.com", posting["id"])

    assert (first.status_code, again.status_code, other.status_code) == (201, 409, 201)
    assert again.json()["statusCode"] == 409 and set(again.json()) == {"statusCode", "message", "timestamp"}
    assert len(admin.get("/_sandbox/applications").json()) == 2
    assert admin.get("/_sandbox/config").json()["quirks"]["duplicate_applications_conflict"] is True
