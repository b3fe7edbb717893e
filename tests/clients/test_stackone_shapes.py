"""StackOne client: every answer in a shape the spec does not describe is StackOneBadResponseError (502),
never a silent default such as an empty page; ids that arrive as numbers are read as text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from chalicelib.clients.stackone.client import StackOneClient
from chalicelib.clients.stackone.errors import StackOneBadResponseError

BASE = "https://api.stackone.test"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


def client() -> StackOneClient:
    return StackOneClient(httpx.Client(base_url=BASE), sleep=lambda _: None)


LIST_CALLS: dict[str, tuple[str, Callable[[StackOneClient], Any]]] = {
    "postings": ("/unified/ats/job_postings", lambda c: c.list_job_postings_page("acc1")),
    "jobs": ("/unified/ats/jobs", lambda c: c.list_jobs_page("acc1")),
    "departments": ("/unified/ats/departments", lambda c: c.list_departments_page("acc1")),
    "applications": (
        "/unified/ats/applications",
        lambda c: c.find_application("acc1", email="ada@example.com", created_after="2026-01-01T00:00:00Z"),
    ),
}
UNKNOWN_PAGES = {
    "empty-object": {},
    "null-data": {"data": None, "next": None},
    "object-data": {"data": {"id": "p1"}},
    "other-key": {"results": [{"id": "p1"}]},
    "bare-array": [{"id": "p1"}],
    "a-string": "ok",
}


@pytest.mark.parametrize("listing", sorted(LIST_CALLS))
@pytest.mark.parametrize("page", sorted(UNKNOWN_PAGES))
def test_a_list_page_in_an_unknown_shape_is_a_bad_response(
    api: respx.MockRouter, listing: str, page: str
) -> None:
    path, call = LIST_CALLS[listing]
    api.get(path).respond(200, json=UNKNOWN_PAGES[page])

    with pytest.raises(StackOneBadResponseError) as raised:
        call(client())

    assert raised.value.code == "stackone_bad_response"


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/accounts/acc1", lambda c: c.get_account("acc1")),
        ("/unified/ats/job_postings/p1", lambda c: c.get_job_posting("acc1", "p1")),
        ("/unified/ats/applications/a1", lambda c: c.get_application("acc1", "a1")),
    ],
    ids=["account", "posting", "application"],
)
@pytest.mark.parametrize(
    "body", [{}, {"data": None}, [], "ok"], ids=["empty", "null-data", "array", "string"]
)
def test_a_single_item_in_an_unknown_shape_is_a_bad_response(
    api: respx.MockRouter, path: str, call: Callable[[StackOneClient], Any], body: Any
) -> None:
    api.get(path).respond(200, json=body)

    with pytest.raises(StackOneBadResponseError):
        call(client())


def test_an_empty_page_as_the_spec_describes_it_is_still_empty(api: respx.MockRouter) -> None:
    api.get("/unified/ats/job_postings").respond(200, json={"data": [], "next": None})

    page = client().list_job_postings_page("acc1")

    assert page.data == [] and page.next is None


def test_numeric_ids_are_read_as_text(api: respx.MockRouter) -> None:
    api.get("/accounts").respond(
        200,
        json=[
            {
                "id": 4711,
                "provider": "greenhouse",
                "status": "active",
                "origin_owner_id": 12,
                "origin_owner_name": "Acme",
            }
        ],
    )
    api.get("/accounts/4711").respond(
        200,
        json={
            "id": 4711,
            "provider": "greenhouse",
            "status": "active",
            "origin_owner_id": "emp1",
            "origin_owner_name": "Acme",
        },
    )
    api.get("/unified/ats/job_postings").respond(200, json={"data": [], "next": 2})
    api.post("/unified/ats/applications").respond(
        201, json={"statusCode": 201, "data": {"id": 9001, "remote_id": 77.0}}
    )

    (listed,) = client().list_accounts()
    fetched = client().get_account("4711")
    page = client().list_job_postings_page("acc1")
    created = client().create_application("acc1", {"job_posting_id": "p1"})

    assert (listed.id, listed.origin_owner_id, fetched.id) == ("4711", "12", "4711")
    assert page.next == "2"
    assert (created.id, created.remote_id) == ("9001", "77")
