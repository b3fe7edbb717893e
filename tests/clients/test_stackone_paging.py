"""StackOne client: cursor paging, account listing shapes, and the API key read through the secret store."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from chalicelib import deps
from chalicelib.clients.stackone.client import StackOneClient
from chalicelib.settings import get_settings

BASE = "https://api.stackone.test"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


def client() -> StackOneClient:
    return StackOneClient(httpx.Client(base_url=BASE), sleep=lambda _: None)


def account(account_id: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "provider": "greenhouse",
        "status": "active",
        "origin_owner_id": "emp1",
        "origin_owner_name": "Acme",
    }


def test_iterator_follows_next_through_empty_and_short_pages(api: respx.MockRouter) -> None:
    # GIVEN a first page that is empty but carries `next`, then a short page, then the last page
    route = api.get("/unified/ats/job_postings").mock(
        side_effect=[
            httpx.Response(200, json={"data": [], "next": "c1"}),
            httpx.Response(200, json={"data": [{"id": "p1"}], "next": "c2"}),
            httpx.Response(200, json={"data": [{"id": "p2"}, {"id": "p3"}], "next": ""}),
        ]
    )
    # WHEN every posting is read with a delta filter
    ids = [p["id"] for p in client().iter_job_postings("acc1", updated_after="2026-01-01T00:00:00.000Z")]
    # THEN all pages were read with a fixed page size, the cursor, the filter, questionnaires and the account
    assert ids == ["p1", "p2", "p3"]
    params = [dict(call.request.url.params) for call in route.calls]
    assert [p.get("next") for p in params] == [None, "c1", "c2"]
    assert {p["page_size"] for p in params} == {"100"}
    assert all(p["filter[updated_after]"] == "2026-01-01T00:00:00.000Z" for p in params)
    assert all(p["include"] == "questionnaires" for p in params)
    assert all(call.request.headers["x-account-id"] == "acc1" for call in route.calls)


@pytest.mark.parametrize("envelope", [False, True])
def test_list_accounts_pages_bare_array_or_data_envelope(api: respx.MockRouter, envelope: bool) -> None:
    first = [account(f"a{i}") for i in range(100)]
    second = [account("a100")]

    def body(items: list[dict[str, Any]]) -> Any:
        return {"data": items} if envelope else items

    route = api.get("/accounts").mock(
        side_effect=[httpx.Response(200, json=body(first)), httpx.Response(200, json=body(second))]
    )
    accounts = client().list_accounts()
    assert len(accounts) == 101
    assert [c.request.url.params["page"] for c in route.calls] == ["1", "2"]
    assert "x-account-id" not in route.calls.last.request.headers


def test_api_key_comes_from_the_cached_secret_store(aws: None, api: respx.MockRouter) -> None:
    import boto3

    # GIVEN the StackOne key in Secrets Manager, and a counter of Secrets Manager reads
    secrets = boto3.client("secretsmanager")
    name = get_settings().stackone_api_key_secret_name
    secrets.create_secret(Name=name, SecretString="v1.eu1.first")
    reads: list[str] = []
    deps.get_boto3_session().events.register(
        "before-call.secrets-manager.GetSecretValue", lambda **_: reads.append("read")
    )
    route = api.get("/accounts/acc1").mock(return_value=httpx.Response(200, json=account("acc1")))
    stackone = deps.get_stackone_client()
    # WHEN three calls are made in one warm process
    for _ in range(3):
        stackone.get_account("acc1")
    # THEN Secrets Manager was read once, and the header is base64("<key>:")
    assert reads == ["read"]
    expected = "Basic " + base64.b64encode(b"v1.eu1.first:").decode()
    assert route.calls.last.request.headers["Authorization"] == expected


def test_rotated_key_is_used_once_the_cache_expires(
    aws: None, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("SECRETS_MAX_AGE_SECONDS", "0")  # every read is past the max age
    get_settings.cache_clear()  # the `aws` fixture read the settings before the variable was set
    secrets = boto3.client("secretsmanager")
    name = get_settings().stackone_api_key_secret_name
    secrets.create_secret(Name=name, SecretString="v1.eu1.old")
    route = api.get("/accounts/acc1").mock(return_value=httpx.Response(200, json=account("acc1")))
    stackone = deps.get_stackone_client()
    stackone.get_account("acc1")
    secrets.put_secret_value(SecretId=name, SecretString="v1.eu1.new")
    stackone.get_account("acc1")
    headers = [call.request.headers["Authorization"] for call in route.calls]
    assert headers == [
        "Basic " + base64.b64encode(b"v1.eu1.old:").decode(),
        "Basic " + base64.b64encode(b"v1.eu1.new:").decode(),
    ]


def test_body_that_is_not_json_is_a_stackone_error(api: respx.MockRouter) -> None:
    from chalicelib.clients.stackone.errors import StackOneError

    api.get("/unified/ats/job_postings").mock(return_value=httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(StackOneError):
        client().list_job_postings_page("acc1")


def test_page_with_huge_integers_still_parses(api: respx.MockRouter) -> None:
    api.get("/unified/ats/job_postings").mock(
        return_value=httpx.Response(200, content=b'{"data": [{"id": "p1", "n": 123456789012345678901234}]}')
    )
    [posting] = client().list_job_postings_page("acc1").data
    assert posting["id"] == "p1" and int(posting["n"]) > 10**23
