"""Typed wrapper over StackOne's platform and unified ATS API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from chalicelib.clients.stackone.errors import (
    StackOneError,
    StackOneTimeoutError,
    StackOneTransportError,
    error_class_for_status,
)
from chalicelib.clients.stackone.models import (
    ConnectSession,
    ConnectSessionCreate,
    CreatedApplication,
    JobPostingsPage,
    LinkedAccount,
)

ACCOUNTS_PAGE_SIZE = 100
POSTINGS_PAGE_SIZE = 100


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After")
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


def error_from_response(response: httpx.Response) -> StackOneError:
    """The typed error for a StackOne error response; its body is parsed tolerantly and never echoed."""
    error_code: str | None = None
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("errorCode"), str):
            error_code = body["errorCode"]
    except ValueError:
        pass
    error_type = error_class_for_status(response.status_code)
    return error_type(
        f"StackOne answered {response.status_code}.",
        status=response.status_code,
        error_code=error_code,
        retry_after=_retry_after(response),
    )


class StackOneClient:
    """One instance per process; `http` carries base URL, Basic auth and timeouts (see deps)."""

    def __init__(self, http: httpx.Client, *, postings_page_size: int = POSTINGS_PAGE_SIZE) -> None:
        self._http = http
        self._postings_page_size = postings_page_size

    # Platform -----------------------------------------------------------------------------------------

    def list_accounts(
        self,
        *,
        origin_owner_id: str | None = None,
        providers: list[str] | None = None,
        status: list[str] | None = None,
    ) -> list[LinkedAccount]:
        """All linked accounts matching the filters, across pages (bare array or {"data": [...]})."""
        accounts: list[LinkedAccount] = []
        page = 1
        while True:
            params: list[tuple[str, str | int]] = [("page", page), ("page_size", ACCOUNTS_PAGE_SIZE)]
            if origin_owner_id:
                params.append(("origin_owner_id", origin_owner_id))
            params.extend(("providers", provider) for provider in providers or [])
            params.extend(("status", value) for value in status or [])
            body = self._send("GET", "/accounts", params=params).json()
            items = body.get("data", []) if isinstance(body, dict) else body
            accounts.extend(LinkedAccount.model_validate(item) for item in items or [])
            if len(items or []) < ACCOUNTS_PAGE_SIZE:
                return accounts
            page += 1

    def get_account(self, account_id: str) -> LinkedAccount:
        return LinkedAccount.model_validate(self._send("GET", f"/accounts/{account_id}").json())

    def create_connect_session(self, request: ConnectSessionCreate) -> ConnectSession:
        body = request.model_dump(mode="json", exclude_none=True)
        return ConnectSession.model_validate(self._send("POST", "/connect_sessions", json=body).json())

    # Unified ATS --------------------------------------------------------------------------------------

    def list_job_postings_page(
        self, account_id: str, *, cursor: str | None = None, updated_after: str | None = None
    ) -> JobPostingsPage:
        params: dict[str, str] = {"page_size": str(self._postings_page_size), "include": "questionnaires"}
        if cursor:
            params["next"] = cursor
        if updated_after:
            params["filter[updated_after]"] = updated_after
        response = self._send(
            "GET", "/unified/ats/job_postings", params=params, headers={"x-account-id": account_id}
        )
        return JobPostingsPage.model_validate(response.json())

    def iter_job_postings(
        self, account_id: str, *, updated_after: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every posting of the account: follows `next` until empty, through short and empty pages."""
        cursor: str | None = None
        while True:
            page = self.list_job_postings_page(account_id, cursor=cursor, updated_after=updated_after)
            yield from page.data
            cursor = page.next if page.next and page.next.strip() else None
            if cursor is None:
                return

    def get_job_posting(self, account_id: str, posting_id: str) -> dict[str, Any]:
        response = self._send(
            "GET",
            f"/unified/ats/job_postings/{posting_id}",
            params={"include": "questionnaires"},
            headers={"x-account-id": account_id},
        )
        data = response.json().get("data")
        if not isinstance(data, dict):
            raise StackOneError("StackOne returned no posting.", status=response.status_code)
        return data

    def create_application(self, account_id: str, body: dict[str, Any]) -> CreatedApplication:
        response = self._send(
            "POST", "/unified/ats/applications", json=body, headers={"x-account-id": account_id}
        )
        return CreatedApplication.model_validate(response.json().get("data") or {})

    def get_application(self, account_id: str, application_id: str) -> dict[str, Any]:
        response = self._send(
            "GET", f"/unified/ats/applications/{application_id}", headers={"x-account-id": account_id}
        )
        data = response.json().get("data")
        if not isinstance(data, dict):
            raise StackOneError("StackOne returned no application.", status=response.status_code)
        return data

    # Transport ----------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise StackOneTimeoutError("StackOne did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise StackOneTransportError("StackOne could not be reached.") from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        return response
