"""Typed wrapper over StackOne's platform and unified ATS API, with budgeted retries.

Retry policy (tenacity): 429 is retried for every method and 408 for reads, both waiting `Retry-After`
when StackOne sends it; 5xx and transport failures are retried on reads only, with exponential backoff
and jitter (a write is retried only when the connection never opened, so nothing was sent). No retry
ever starts when its wait would end past the budget: the deadline a caller sets with `time_budget(...)`
(the sync run), or else the per-call `retry_budget_seconds` (request handlers; 0 = fail fast). Inside an
API request its deadline (`chalicelib.deadline`) also bounds every wait, retry and attempt; a call it cuts
short is `StackOneDeadlineError` (503 with Retry-After).

Every attempt first takes a slot of the shared request budget (`rate_budget`, one per API key across
all processes), waiting for one within the same deadline. A body the board cannot read (not JSON, or not
the documented shape) is `StackOneBadResponseError` (502), never a validation error of our own.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception

from chalicelib.clients.stackone.errors import (
    StackOneBadResponseError,
    StackOneBudgetExceededError,
    StackOneDeadlineError,
    StackOneError,
    StackOneRateLimitedError,
    StackOneServerError,
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
    ListPage,
)
from chalicelib.clients.stackone.rate_budget import RateBudgetExhaustedError, SharedRateBudget
from chalicelib.clock import Clock, Sleep, real_sleep, utcnow
from chalicelib.deadline import FOLLOW_UP_RESERVE_SECONDS, current_deadline, upstream_time_is_up
from chalicelib.http_headers import retry_after_seconds
from chalicelib.observability import logger

ACCOUNTS_PAGE_SIZE = 100
POSTINGS_PAGE_SIZE = 100


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Deadline (monotonic seconds) set by `StackOneClient.time_budget`; per context, so threads don't share it.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("stackone_deadline", default=None)

_Model = TypeVar("_Model", bound=BaseModel)


def _validated(model: type[_Model], body: Any, status: int) -> _Model:
    """`model` from a StackOne body; a body of another shape is StackOne's fault (502), not the caller's."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise StackOneBadResponseError(
            f"StackOne answered {status} with a body that is not a {model.__name__}.", status=status
        ) from exc


def _decode(response: httpx.Response) -> Any:
    """The JSON body (orjson: pages of postings are the sync's largest CPU cost after hashing)."""
    import orjson

    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:  # what orjson refuses but the standard library reads (e.g. integers beyond 64 bits)
        return response.json()
    except ValueError as exc:
        raise StackOneBadResponseError(
            "StackOne returned a body that is not JSON.", status=response.status_code
        ) from exc


def error_from_response(response: httpx.Response, now: Clock = utcnow) -> StackOneError:
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
        retry_after=retry_after_seconds(response.headers.get("Retry-After"), now),
    )


def _account_items(body: Any, status: int) -> list[Any]:
    """The listed accounts: a bare array (the spec), or `{"data": [...]}`. Anything else, including an
    object without a `data` array, is an unknown shape (502), never "no accounts"."""
    items = body.get("data") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise StackOneBadResponseError("StackOne listed accounts in an unknown shape.", status=status)
    return items


def _emails(application: dict[str, Any]) -> set[str]:
    candidate = application.get("candidate")
    if not isinstance(candidate, dict):
        return set()
    emails = {candidate.get("email")}
    emails.update(e.get("value") for e in candidate.get("emails") or [] if isinstance(e, dict))
    return {e.strip().lower() for e in emails if isinstance(e, str)}


class StackOneClient:
    """One instance per process; `http` carries base URL, Basic auth and timeouts (see deps).

    Parameters
    ----------
    sleep, monotonic, now, jitter:
        Injected time and randomness (tests pass fakes and never sleep).
    retry_budget_seconds:
        Longest a single call outside `time_budget(...)` may spend retrying (waits included).
    max_attempts:
        Attempts per call, the first included.
    backoff_base_seconds, backoff_max_seconds:
        Exponential backoff for 5xx/transport failures: base * 2**(n-1), capped, with jitter.
    max_retry_after_seconds:
        Cap on a server-sent Retry-After.
    on_rate_limited:
        Called once per 429 answer (metrics).
    rate_budget:
        The request budget shared by every process using the key (None: no shared budget).
    rate_wait_seconds:
        Longest a call outside `time_budget(...)` waits for a slot of that budget.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        postings_page_size: int = POSTINGS_PAGE_SIZE,
        sleep: Sleep = real_sleep,
        monotonic: Callable[[], float] = time.monotonic,
        now: Clock = utcnow,
        jitter: Callable[[], float] = random.random,
        retry_budget_seconds: float = 20.0,
        max_attempts: int = 6,
        backoff_base_seconds: float = 0.5,
        backoff_max_seconds: float = 20.0,
        max_retry_after_seconds: float = 60.0,
        on_rate_limited: Callable[[], None] | None = None,
        rate_budget: SharedRateBudget | None = None,
        rate_wait_seconds: float = 2.0,
    ) -> None:
        self._http = http
        self._postings_page_size = postings_page_size
        self._sleep = sleep
        self._monotonic = monotonic
        self._now = now
        self._jitter = jitter
        self._retry_budget = retry_budget_seconds
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._backoff_max = backoff_max_seconds
        self._max_retry_after = max_retry_after_seconds
        self._on_rate_limited = on_rate_limited
        self._rate_budget = rate_budget
        self._rate_wait = rate_wait_seconds

    @contextlib.contextmanager
    def time_budget(self, seconds: float) -> Iterator[None]:
        """Within the block, no request starts and no retry waits past `seconds` from now."""
        token = _deadline.set(self._monotonic() + max(0.0, seconds))
        try:
            yield
        finally:
            _deadline.reset(token)

    # Platform -----------------------------------------------------------------------------------------

    def list_accounts(
        self,
        *,
        origin_owner_id: str | None = None,
        providers: list[str] | None = None,
        status: list[str] | None = None,
    ) -> list[LinkedAccount]:
        """All linked accounts matching the filters, across pages (bare array or {"data": [...]}).

        A listing in another shape, or one in which no account is readable, is StackOneBadResponseError.
        """
        accounts: list[LinkedAccount] = []
        listed = 0
        page = 1
        while True:
            params: list[tuple[str, str | int]] = [("page", page), ("page_size", ACCOUNTS_PAGE_SIZE)]
            if origin_owner_id:
                params.append(("origin_owner_id", origin_owner_id))
            params.extend(("providers", provider) for provider in providers or [])
            params.extend(("status", value) for value in status or [])
            response = self._send("GET", "/accounts", params=params)
            items = _account_items(_decode(response), response.status_code)
            listed += len(items)
            for item in items:
                try:
                    accounts.append(LinkedAccount.model_validate(item))
                except ValidationError:
                    # One unreadable account must not hide every other one; it is left out (and logged).
                    logger.warning(
                        "skipping a linked account StackOne listed in an unknown shape",
                        extra={"account_id": item.get("id") if isinstance(item, dict) else None},
                    )
            if len(items) < ACCOUNTS_PAGE_SIZE:
                break
            page += 1
        if listed and not accounts:
            # Accounts were listed but not one is readable: the shape is unknown, not "one odd account",
            # and an empty answer would read as "nothing linked".
            raise StackOneBadResponseError("StackOne listed accounts in an unknown shape.", status=200)
        return accounts

    def get_account(self, account_id: str) -> LinkedAccount:
        response = self._send("GET", f"/accounts/{account_id}")
        return _validated(LinkedAccount, _decode(response), response.status_code)

    def create_connect_session(self, request: ConnectSessionCreate) -> ConnectSession:
        body = request.model_dump(mode="json", exclude_none=True)
        response = self._send("POST", "/connect_sessions", json=body)
        return _validated(ConnectSession, _decode(response), response.status_code)

    # Unified ATS --------------------------------------------------------------------------------------

    def list_job_postings_page(
        self,
        account_id: str,
        *,
        cursor: str | None = None,
        updated_after: str | None = None,
        fields: str | None = None,
    ) -> JobPostingsPage:
        """One page of postings; with `fields` only those fields (and no questionnaires): a cheap listing."""
        params: dict[str, str] = {"page_size": str(self._postings_page_size)}
        if fields:
            params["fields"] = fields
        else:
            params["include"] = "questionnaires"
        if cursor:
            params["next"] = cursor
        if updated_after:
            params["filter[updated_after]"] = updated_after
        response = self._send(
            "GET", "/unified/ats/job_postings", params=params, headers={"x-account-id": account_id}
        )
        return _validated(JobPostingsPage, _decode(response), response.status_code)

    def list_jobs_page(self, account_id: str, *, cursor: str | None = None) -> ListPage:
        """One page of the account's jobs (requisitions), only what the department mapping reads."""
        return self._list_page("/unified/ats/jobs", account_id, cursor, fields="id,department_ids")

    def list_departments_page(self, account_id: str, *, cursor: str | None = None) -> ListPage:
        return self._list_page("/unified/ats/departments", account_id, cursor, fields="id,name")

    def _list_page(self, path: str, account_id: str, cursor: str | None, *, fields: str) -> ListPage:
        params = {"page_size": str(self._postings_page_size), "fields": fields}
        if cursor:
            params["next"] = cursor
        response = self._send("GET", path, params=params, headers={"x-account-id": account_id})
        return _validated(ListPage, _decode(response), response.status_code)

    def iter_job_postings(
        self, account_id: str, *, updated_after: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every posting of the account: follows `next` until empty, through short and empty pages.

        A cursor StackOne already gave (a listing that would never end) raises StackOneBadResponseError.
        """
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = self.list_job_postings_page(account_id, cursor=cursor, updated_after=updated_after)
            yield from page.data
            cursor = page.next if page.next and page.next.strip() else None
            if cursor is None:
                return
            if cursor in seen:
                raise StackOneBadResponseError("StackOne repeated a page cursor.", status=200)
            seen.add(cursor)

    def get_job_posting(self, account_id: str, posting_id: str) -> dict[str, Any]:
        response = self._send(
            "GET",
            f"/unified/ats/job_postings/{posting_id}",
            params={"include": "questionnaires"},
            headers={"x-account-id": account_id},
        )
        body = _decode(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise StackOneBadResponseError("StackOne returned no posting.", status=response.status_code)
        return data

    def create_application(self, account_id: str, body: dict[str, Any]) -> CreatedApplication:
        """Create an application. A 2xx whose body names no id (`data.id: null`, which the spec allows,
        or an unreadable body) is still a success: the application exists, its id is unknown (None)."""
        response = self._send(
            "POST", "/unified/ats/applications", json=body, headers={"x-account-id": account_id}
        )
        try:
            payload = _decode(response)
        except StackOneBadResponseError:
            payload = None
        data = payload.get("data") if isinstance(payload, dict) else None
        try:
            return CreatedApplication.model_validate(data if isinstance(data, dict) else {})
        except ValidationError:
            return CreatedApplication()

    def get_application(self, account_id: str, application_id: str) -> dict[str, Any]:
        response = self._send(
            "GET", f"/unified/ats/applications/{application_id}", headers={"x-account-id": account_id}
        )
        body = _decode(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise StackOneBadResponseError("StackOne returned no application.", status=response.status_code)
        return data

    def find_application(
        self, account_id: str, *, email: str, created_after: str, max_pages: int = 5
    ) -> dict[str, Any] | None:
        """The one application created after `created_after` whose candidate has `email` (case-insensitive),
        or None when there is none or more than one: matches a create whose 201 named no id."""
        wanted = email.strip().lower()
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(max_pages):
            params = {"page_size": "100", "filter[created_after]": created_after}
            if cursor:
                params["next"] = cursor
            response = self._send(
                "GET", "/unified/ats/applications", params=params, headers={"x-account-id": account_id}
            )
            page = _validated(ListPage, _decode(response), response.status_code)
            found.extend(item for item in page.data if isinstance(item, dict) and wanted in _emails(item))
            cursor = page.next.strip() if page.next and page.next.strip() else None
            if cursor is None or cursor in seen:
                break
            seen.add(cursor)
        return found[0] if len(found) == 1 else None

    # Transport ----------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        is_read = method.upper() in _READ_METHODS
        started = self._monotonic()
        caller_deadline = _deadline.get()
        # A caller's budget (the sync run's) replaces the per-call one, which protects request handlers
        # (API Gateway gives up after ~29 s) and is too short for a 60 s Retry-After inside a sync run.
        deadline = caller_deadline if caller_deadline is not None else started + self._retry_budget
        # Waiting for a slot of the shared budget: within the run's budget, or briefly in a handler.
        slot_deadline = started + max(self._retry_budget, self._rate_wait)
        if caller_deadline is not None:
            slot_deadline = caller_deadline

        # Inside an API request, its deadline bounds the slot wait and every retry too.
        request_deadline = current_deadline()
        if request_deadline is not None:
            left = request_deadline.remaining(FOLLOW_UP_RESERVE_SECONDS)
            slot_deadline = min(slot_deadline, started + left)

        def attempt() -> httpx.Response:
            if caller_deadline is not None and self._monotonic() >= caller_deadline:
                raise StackOneBudgetExceededError()
            if upstream_time_is_up():
                raise StackOneDeadlineError()
            self._take_slot(slot_deadline, in_run=caller_deadline is not None)
            return self._send_once(method, path, **kwargs)

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= self._max_attempts:
                return True
            if request_deadline is not None and state.upcoming_sleep >= request_deadline.remaining(
                FOLLOW_UP_RESERVE_SECONDS
            ):
                return True
            return self._monotonic() + state.upcoming_sleep > deadline

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            logger.warning(
                "retrying StackOne request",
                extra={
                    "method": method,
                    "path": path,
                    "attempt": state.attempt_number,
                    "wait_seconds": round(state.upcoming_sleep, 3),
                    "error_code": getattr(error, "code", None),
                    "status": getattr(error, "status", None),
                },
            )

        retrying = Retrying(
            sleep=self._sleep,
            retry=retry_if_exception(lambda exc: self._is_retryable(exc, is_read)),
            wait=self._wait,
            stop=stop,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(attempt)

    def _take_slot(self, deadline: float, *, in_run: bool) -> None:
        if self._rate_budget is None:
            return
        try:
            self._rate_budget.acquire(deadline)
        except RateBudgetExhaustedError as exc:
            if in_run:
                raise StackOneBudgetExceededError() from exc
            # Nothing was sent: like StackOne's own 429, with the wait as Retry-After (503 to callers).
            raise StackOneRateLimitedError(
                "The board's StackOne request budget is used up; try again shortly.",
                retry_after=max(1, math.ceil(exc.wait_seconds)),
            ) from exc

    def _is_retryable(self, exc: BaseException, is_read: bool) -> bool:
        if isinstance(exc, StackOneBudgetExceededError | StackOneDeadlineError):
            return False
        if isinstance(exc, StackOneRateLimitedError):
            return True  # StackOne refused before doing anything: safe for writes too
        if isinstance(exc, StackOneTransportError):
            return is_read or not exc.sent
        if isinstance(exc, StackOneTimeoutError | StackOneServerError):
            # A write that timed out or failed upstream may have happened in the ATS: never re-send it.
            return is_read
        return False

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if isinstance(error, StackOneRateLimitedError | StackOneTimeoutError) and retry_after is not None:
            return float(min(retry_after, self._max_retry_after))
        ceiling: float = min(self._backoff_max, self._backoff_base * 2 ** (state.attempt_number - 1))
        # "Equal jitter": at least half the exponential step, so retries spread without collapsing to 0.
        return ceiling / 2 + self._jitter() * ceiling / 2

    @staticmethod
    def _unsent() -> StackOneTransportError:
        error = StackOneTransportError("StackOne could not be reached.")
        error.sent = False
        return error

    def _send_once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            if upstream_time_is_up():  # cut short by the API request's deadline (or never sent for it)
                raise StackOneDeadlineError() from exc
            if isinstance(exc, httpx.ConnectTimeout):
                raise self._unsent() from exc
            raise StackOneTimeoutError("StackOne did not answer in time.") from exc
        except httpx.ConnectError as exc:
            raise self._unsent() from exc
        except httpx.TransportError as exc:
            raise StackOneTransportError("StackOne could not be reached.") from exc
        if response.status_code >= 400:
            if response.status_code == 429 and self._on_rate_limited is not None:
                self._on_rate_limited()
            raise error_from_response(response, self._now)
        return response
