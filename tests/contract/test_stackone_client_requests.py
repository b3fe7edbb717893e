"""The requests the product's StackOneClient sends conform to StackOne's published specs.

The real client runs against the sandbox through a recording transport; every request it sent (and the
sandbox's answer) is then validated against the spec of its API (platform or unified ATS).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from openapi_core import OpenAPI

from chalicelib.clients.http import build_http_client
from chalicelib.clients.stackone.client import StackOneClient
from chalicelib.clients.stackone.models import ConnectSessionCreate
from sandbox.demo_employers import DEMO_EMPLOYERS
from sandbox.stackone import StackOneSandboxHandle
from sandbox.stackone.seed import is_on_board
from tests.contract.conftest import API_KEY
from tests.contract.oas import RecordingTransport, spec_for, validate_request, validate_response
from tests.contract.test_sandbox_responses import with_legacy_internal_as_string


@pytest.fixture
def recorded(stackone: StackOneSandboxHandle) -> Iterator[tuple[StackOneClient, RecordingTransport]]:
    transport = RecordingTransport()
    # Built like chalicelib.deps.get_stackone_http, with the recording transport in between.
    http = build_http_client(
        stackone.base_url,
        timeout_seconds=5,
        auth=httpx.BasicAuth(API_KEY, ""),
        headers={"Accept": "application/json"},
        transport=transport,
    )
    with http:
        yield StackOneClient(http, postings_page_size=5), transport


def _validate_all(
    transport: RecordingTransport, ats_spec: OpenAPI, platform_spec: OpenAPI
) -> list[tuple[str, str]]:
    validated = []
    for request, response in transport.exchanges:
        spec = spec_for(request, ats_spec, platform_spec)
        validate_request(spec, request)
        wrapped = httpx.Response(
            response.status_code, headers=response.headers, content=response.content, request=request
        )
        if request.url.path.startswith("/unified/ats/job_postings"):
            wrapped = with_legacy_internal_as_string(wrapped)
        validate_response(spec, wrapped)
        validated.append((request.method, request.url.path))
    return validated


def test_platform_calls_conform(
    recorded: tuple[StackOneClient, RecordingTransport], ats_spec: OpenAPI, platform_spec: OpenAPI
) -> None:
    client, transport = recorded
    employer = DEMO_EMPLOYERS[0]
    accounts = client.list_accounts(
        origin_owner_id=employer.employer_id, providers=["greenhouse"], status=["active"]
    )
    assert [a.id for a in accounts] == [employer.account_id]
    assert client.get_account(employer.account_id).status == "active"
    session = client.create_connect_session(
        ConnectSessionCreate(
            origin_owner_id=employer.employer_id,
            origin_owner_name=employer.name,
            provider="greenhouse",
            account_id=employer.account_id,
            label="Careers",
        )
    )
    assert session.auth_link_url.endswith(session.token)
    request = transport.exchanges[0][0]
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert _validate_all(transport, ats_spec, platform_spec) == [
        ("GET", "/accounts"),
        ("GET", f"/accounts/{employer.account_id}"),
        ("POST", "/connect_sessions"),
    ]


def test_sync_and_apply_calls_conform(
    recorded: tuple[StackOneClient, RecordingTransport],
    stackone: StackOneSandboxHandle,
    ats_spec: OpenAPI,
    platform_spec: OpenAPI,
) -> None:
    client, transport = recorded
    employer = DEMO_EMPLOYERS[3]
    postings = list(client.iter_job_postings(employer.account_id))
    assert len(postings) == 12
    delta = list(client.iter_job_postings(employer.account_id, updated_after="2020-01-01T00:00:00.000Z"))
    assert len(delta) == 12
    posting = next(p for p in postings if is_on_board(p) and len(p["questionnaires"]) == 2)
    assert client.get_job_posting(employer.account_id, posting["remote_id"])["id"] == posting["id"]

    main, short = posting["questionnaires"]
    questions = {q["remote_id"]: q for q in main["questions"] + short["questions"]}
    no_visa = next(o["id"] for o in questions["q_visa"]["multiple_choice_answers"] if o["text"] == "No")
    english = next(
        o["id"] for o in questions["q_languages"]["multiple_choice_answers"] if o["text"] == "English"
    )
    body = {
        "job_posting_id": posting["id"],
        "job_id": posting["job_id"],
        "candidate": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone_numbers": [{"type": "mobile", "phone": "+44 20 7946 0000"}],
            "country": "GB",
        },
        "questionnaires": [
            {
                "id": main["id"],
                "answers": [
                    {"id": questions["q_name"]["id"], "type": {"value": "short_text"}, "values": ["Ada"]},
                    {
                        "id": questions["q_motivation"]["id"],
                        "type": {"value": "long_text"},
                        "values": ["Engines."],
                    },
                    {
                        "id": questions["q_visa"]["id"],
                        "type": {"value": "single_select"},
                        "values": [no_visa],
                    },
                    {
                        "id": questions["q_languages"]["id"],
                        "type": {"value": "multi_select"},
                        "values": [english],
                    },
                    {"id": questions["q_relocate"]["id"], "type": {"value": "boolean"}, "values": ["true"]},
                    {"id": questions["q_years"]["id"], "type": {"value": "number"}, "values": ["12"]},
                    {"id": questions["q_start"]["id"], "type": {"value": "date"}, "values": ["2027-01-15"]},
                    {
                        "id": questions["q_portfolio"]["id"],
                        "type": {"value": "url"},
                        "values": ["https://ada.dev"],
                    },
                ],
            },
            {
                "id": short["id"],
                "answers": [
                    {"id": questions["q_salary"]["id"], "type": {"value": "number"}, "values": ["95000"]}
                ],
            },
        ],
        "documents": [
            {
                "name": "ada-lovelace-cv.pdf",
                "file_format": {"value": "pdf"},
                "category": {"value": "resume"},
                "content": base64.b64encode(b"%PDF-1.7 sandbox").decode(),
            }
        ],
        "source": {"name": "Unified Job Board"},
    }
    created = client.create_application(employer.account_id, body)
    assert created.id is not None
    assert stackone.state.applications[created.id].received == body
    stackone.state.set_application_status(created.id, "interview")
    assert (
        client.get_application(employer.account_id, created.id)["application_status"]["value"] == "interview"
    )

    validated = _validate_all(transport, ats_spec, platform_spec)
    assert validated.count(("GET", "/unified/ats/job_postings")) == 6  # 12 postings, pages of 5, twice
    assert validated[-2:] == [
        ("POST", "/unified/ats/applications"),
        ("GET", f"/unified/ats/applications/{created.id}"),
    ]
    sent = [request for request, _ in transport.exchanges if request.url.path == "/unified/ats/job_postings"]
    assert all(r.headers["x-account-id"] == employer.account_id for r in sent)
    assert all(r.url.params["include"] == "questionnaires" for r in sent)
    assert any("filter[updated_after]" in r.url.params for r in sent)
