"""HTTP surface of the StackOne sandbox: the platform + unified ATS subset, the Hub page, and admin knobs."""

from __future__ import annotations

import base64
import binascii
import copy
import html
import json
import time
from collections.abc import Callable
from typing import Any

from sandbox._http import Request, Response, Router, html_response, json_response
from sandbox.stackone import seed
from sandbox.stackone.state import (
    DROP,
    Application,
    FailureRule,
    Quirks,
    SandboxError,
    StackOneState,
    parse_timestamp,
)

MAX_PAGE_SIZE = 100  # the largest page the docs allow; bigger requests get (short) pages of 100
DEFAULT_PAGE_SIZE = 25
CATEGORIES = {
    "ats",
    "hris",
    "hris-legacy",
    "crm",
    "iam",
    "marketing",
    "lms",
    "stackone",
    "documents",
    "ticketing",
    "screening",
    "messaging",
    "accounting",
    "scheduling",
}
_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request timed out",
    409: "Conflict",
    412: "Precondition failed",
    422: "Unprocessable Entity",
    429: "Too many requests",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_ERROR_CODES = {412: "AccountIntegrationInactiveError"}
_RETRY_AFTER_STATUSES = {408, 429, 503}


class ApiError(Exception):
    """Answered as StackOne's error body: {statusCode, message, timestamp[, errorCode, ...]}."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        error_code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or _MESSAGES.get(status, "Error"))
        self.status = status
        self.message = message or _MESSAGES.get(status, "Error")
        self.error_code = error_code
        self.extra = extra or {}
        self.headers = headers or {}


def _error_response(state: StackOneState, error: ApiError) -> Response:
    body: dict[str, Any] = {
        "statusCode": error.status,
        "message": error.message,
        "timestamp": seed.iso(state.clock()),
    }
    if error.error_code:
        body["errorCode"] = error.error_code
    body.update(error.extra)
    return json_response(error.status, body, error.headers)


# Cursors -------------------------------------------------------------------------------------------------


def encode_cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(value: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Invalid next cursor.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise ApiError(400, "Invalid next cursor.")
    return payload


# The application ---------------------------------------------------------------------------------------


class StackOneSandbox:
    """Routes requests to handlers; applies auth, latency, counters and injected failures around them."""

    def __init__(self, state: StackOneState, sleep: Callable[[float], None] = time.sleep) -> None:
        self.state = state
        self._sleep = sleep
        self._json_cache: dict[tuple[Any, bool], tuple[tuple[int, Any, int], str]] = {}
        self.api = Router()
        self.open = Router()  # no auth: the Hub page and the admin knobs
        api = self.api
        api.add("GET", "/accounts", self.list_accounts)
        api.add("GET", "/accounts/{id}", self.get_account)
        api.add("GET", "/accounts/{id}/meta", self.get_account_meta)
        api.add("POST", "/connect_sessions", self.create_connect_session)
        api.add("GET", "/unified/ats/job_postings", self.list_job_postings)
        api.add("GET", "/unified/ats/job_postings/{id}", self.get_job_posting)
        api.add("GET", "/unified/ats/jobs", self.list_jobs)
        api.add("GET", "/unified/ats/departments", self.list_departments)
        api.add("POST", "/unified/ats/applications", self.create_application)
        api.add("GET", "/unified/ats/applications", self.list_applications)
        api.add("GET", "/unified/ats/applications/{id}", self.get_application)
        public = self.open
        public.add("GET", "/hub/link", self.hub_page)
        public.add("POST", "/hub/link", self.hub_link)
        public.add("GET", "/_sandbox/health", lambda _r: json_response(200, {"status": "ok"}))
        public.add("POST", "/_sandbox/reset", self.admin_reset)
        public.add("GET", "/_sandbox/stats", lambda _r: json_response(200, self.state.stats()))
        public.add("POST", "/_sandbox/stats/reset", self.admin_reset_stats)
        public.add("GET", "/_sandbox/config", self.admin_get_config)
        public.add("PUT", "/_sandbox/config", self.admin_put_config)
        public.add("GET", "/_sandbox/failures", self.admin_list_failures)
        public.add("POST", "/_sandbox/failures", self.admin_add_failure)
        public.add("DELETE", "/_sandbox/failures", self.admin_clear_failures)
        public.add("GET", "/_sandbox/accounts", self.admin_list_accounts)
        public.add("POST", "/_sandbox/accounts", self.admin_add_account)
        public.add("POST", "/_sandbox/accounts/generate", self.admin_generate_accounts)
        public.add("POST", "/_sandbox/accounts/{account_id}/expire", self.admin_expire_account)
        public.add("POST", "/_sandbox/accounts/{account_id}/status", self.admin_account_status)
        public.add("DELETE", "/_sandbox/accounts/{account_id}", self.admin_delete_account)
        public.add("POST", "/_sandbox/accounts/{account_id}/poison", self.admin_add_poison)
        public.add("GET", "/_sandbox/accounts/{account_id}/postings", self.admin_list_postings)
        public.add("POST", "/_sandbox/accounts/{account_id}/postings", self.admin_add_postings)
        public.add("PATCH", "/_sandbox/accounts/{account_id}/postings/{posting_id}", self.admin_edit_posting)
        public.add(
            "DELETE", "/_sandbox/accounts/{account_id}/postings/{posting_id}", self.admin_delete_posting
        )
        public.add(
            "POST", "/_sandbox/accounts/{account_id}/postings/{posting_id}/close", self.admin_close_posting
        )
        public.add(
            "POST", "/_sandbox/accounts/{account_id}/postings/{posting_id}/reopen", self.admin_reopen_posting
        )
        public.add("GET", "/_sandbox/applications", self.admin_list_applications)
        public.add("POST", "/_sandbox/applications/{application_id}/status", self.admin_application_status)

    # Dispatch -----------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        try:
            found = self.open.match(request.method, request.path)
            if isinstance(found, tuple):
                handler, params, _pattern = found
                request.path_params = params
                try:
                    return handler(request)
                except SandboxError as exc:
                    return json_response(exc.status, {"error": str(exc)})
                except (ValueError, TypeError, KeyError) as exc:
                    return json_response(400, {"error": f"Bad admin request: {exc}"})
            return self._api_call(request)
        except ApiError as exc:
            return _error_response(self.state, exc)

    def _api_call(self, request: Request) -> Response:
        found = self.api.match(request.method, request.path)
        if not isinstance(found, tuple):
            raise ApiError(404, f"Cannot {request.method} {request.path}")
        handler, params, pattern = found
        request.path_params = params
        account_id = request.headers.get("x-account-id")
        self.state.count_request(request.method, pattern, account_id)
        if self.state.latency_ms:
            self._sleep(self.state.latency_ms / 1000)
        self._authenticate(request)
        rule = self.state.take_failure(request.method, request.path, account_id)
        if rule is not None:
            return self._injected(rule, request)
        return handler(request)

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "basic" and encoded:
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = None
            # The documented form is base64("<key>:"); older samples omit the colon and still work.
            if decoded in (f"{self.state.api_key}:", self.state.api_key):
                return
        raise ApiError(401, "Unauthorized")

    def _injected(self, rule: FailureRule, request: Request) -> Response:
        if rule.status == DROP:
            return Response(0, drop_connection=True)
        status = int(rule.status)
        headers = {}
        if status in _RETRY_AFTER_STATUSES and rule.retry_after is not None:
            headers["Retry-After"] = str(rule.retry_after)
        extra: dict[str, Any] = {}
        error_code = _ERROR_CODES.get(status)
        if status == 401:
            error_code = "AccountInvalidCredentialsError"
        if status == 502:
            extra["provider_errors"] = [
                {
                    "status": 503,
                    "url": "https://provider.example/api",
                    "raw": {"error": "upstream down"},
                    "headers": {},
                }
            ]
        return _error_response(
            self.state,
            ApiError(
                status,
                "Injected by the sandbox: " + _MESSAGES.get(status, "Error"),
                error_code=error_code,
                extra=extra,
                headers=headers,
            ),
        )

    def _linked_account(self, request: Request) -> dict[str, Any]:
        """The account named by x-account-id, usable for unified calls (else StackOne's 400/404/401)."""
        account_id = request.headers.get("x-account-id", "").strip()
        if not account_id:
            raise ApiError(400, "Missing x-account-id header.")
        account = self.state.accounts.get(account_id)
        if account is None:
            raise ApiError(404, "Invalid account_id header: account not found.")
        if account["status"] == "expired":
            raise ApiError(
                401,
                "The linked account's credentials have expired. Re-authenticate the account.",
                error_code="AccountExpiredCredentialsError",
            )
        if account["status"] != "active":
            raise ApiError(
                401,
                f"The linked account is {account['status']}.",
                error_code="AccountAuthenticationFailedError",
            )
        return account

    # Platform -----------------------------------------------------------------------------------------

    def list_accounts(self, request: Request) -> Response:
        page = _int_param(request, "page", 1, minimum=0) or 1
        page_size = _int_param(request, "page_size", 25, minimum=1)
        owners = set(request.query.get("origin_owner_ids", [])) | set(
            request.query.get("origin_owner_id", [])
        )
        providers = set(request.query.get("providers", [])) | set(request.query.get("provider", []))
        statuses = set(request.query.get("status", []))
        account_ids = set(request.query.get("account_ids", []))
        with self.state.lock:
            accounts = sorted(self.state.accounts.values(), key=lambda a: (a["created_at"], a["id"]))
            selected = [
                copy.deepcopy(a)
                for a in accounts
                if (not owners or a["origin_owner_id"] in owners)
                and (not providers or a["provider"] in providers)
                and (not statuses or a["status"] in statuses)
                and (not account_ids or a["id"] in account_ids)
            ]
        start = (page - 1) * page_size
        return json_response(200, selected[start : start + page_size])

    def get_account(self, request: Request) -> Response:
        account = self.state.accounts.get(request.path_params["id"])
        if account is None:
            raise ApiError(404, "Account not found.")
        return json_response(200, copy.deepcopy(account))

    def get_account_meta(self, request: Request) -> Response:
        account = self.state.accounts.get(request.path_params["id"])
        if account is None:
            raise ApiError(404, "Account not found.")
        models = {
            "job_postings": {"list": True, "get": True},
            "applications": {"create": True, "get": True, "list": True},
            "jobs": {"list": True, "get": True},
        }
        return json_response(200, {"provider": account["provider"], "category": "ats", "models": models})

    def create_connect_session(self, request: Request) -> Response:
        body = _json_object(request)
        errors = []
        for name in ("origin_owner_id", "origin_owner_name"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                errors.append(f"{name} must be a non-empty string")
        categories = body.get("categories")
        if categories is not None and (
            not isinstance(categories, list) or any(c not in CATEGORIES for c in categories)
        ):
            errors.append(f"categories must be a list of: {', '.join(sorted(CATEGORIES))}")
        provider = body.get("provider")
        if provider is not None and provider not in seed.PROVIDER_NAMES:
            errors.append(f"provider must be one of: {', '.join(sorted(seed.PROVIDER_NAMES))}")
        expires_in = body.get("expires_in", 1800)
        if expires_in is None:
            expires_in = 1800
        if isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or expires_in <= 0:
            errors.append("expires_in must be a positive number of seconds")
        for name in ("multiple",):
            if body.get(name) is not None and not isinstance(body.get(name), bool):
                errors.append(f"{name} must be a boolean")
        for name in ("origin_username", "label", "account_id", "provider_version", "integration_id"):
            if body.get(name) is not None and not isinstance(body.get(name), str):
                errors.append(f"{name} must be a string")
        if body.get("type") not in (None, "production", "test"):
            errors.append("type must be production or test")
        if errors:
            raise ApiError(400, "; ".join(errors), extra={"errors": errors})
        account_id = body.get("account_id")
        if account_id:
            account = self.state.accounts.get(account_id)
            if account is None:
                raise ApiError(404, "Account not found.")
            if account["origin_owner_id"] != body["origin_owner_id"]:
                raise ApiError(403, "The account belongs to another origin owner.")
            provider = provider or account["provider"]
        session = self.state.create_session(
            origin_owner_id=body["origin_owner_id"],
            origin_owner_name=body["origin_owner_name"],
            origin_username=body.get("origin_username"),
            categories=categories,
            provider=provider,
            account_id=account_id,
            label=body.get("label"),
            metadata=body.get("metadata"),
            multiple=bool(body.get("multiple") or False),
            account_type=body.get("type") or "production",
            expires_in=float(expires_in),
        )
        payload = {
            "id": session.id + 0.5 if self.state.quirks.fractional_session_ids else session.id,
            "organization_id": 1,
            "project_id": "sandbox-project",
            "categories": session.categories,
            "provider": session.provider,
            "origin_owner_id": session.origin_owner_id,
            "origin_owner_name": session.origin_owner_name,
            "origin_username": session.origin_username,
            "account_id": session.account_id,
            "label": session.label,
            "created_at": seed.iso(session.created_at),
            "metadata": session.metadata,
            "external_trigger_token": None,
            "type": session.type,
            "integration_id": None,
            "token": session.token,
            "auth_link_url": f"{self.state.public_url.rstrip('/')}/hub/link?token={session.token}",
        }
        return json_response(201, payload)

    # Unified ATS --------------------------------------------------------------------------------------

    def list_job_postings(self, request: Request) -> Response:
        account = self._linked_account(request)
        page_size = min(_int_param(request, "page_size", DEFAULT_PAGE_SIZE, minimum=1), MAX_PAGE_SIZE)
        cursor_value = request.query_value("next")
        if cursor_value:
            cursor = decode_cursor(cursor_value)
            if cursor.get("a") != account["id"]:
                raise ApiError(400, "Invalid next cursor: it belongs to another account.")
            updated_after_text = cursor.get("f")
        else:
            cursor = {"s": 0}
            updated_after_text = request.query_value("filter[updated_after]") or request.query_value(
                "updated_after"
            )
        updated_after = None
        if updated_after_text:
            try:
                updated_after = parse_timestamp(updated_after_text)
            except ValueError as exc:
                raise ApiError(400, "filter[updated_after] must be an ISO-8601 date-time.") from exc
        items = self.state.list_postings(account["id"], updated_after, after_seq=cursor["s"])
        pagination = self.state.pagination
        if pagination.applies_to(account["id"]) and pagination.repeat_cursor:
            # A cursor that never changes: the same first page, forever.
            repeated = cursor_value or encode_cursor({"a": account["id"], "s": 0, "f": updated_after_text})
            first = [posting for _seq, posting in items[:page_size]]
            data = [_render_posting(p, _includes(request), _fields(request)) for p in first]
            return json_response(200, {"data": data, "next": repeated})
        if pagination.applies_to(account["id"]):
            if pagination.short_page_size:
                page_size = min(page_size, pagination.short_page_size)
            if pagination.empty_pages and items and not cursor.get("e"):
                # Early cursor return: nothing this time, but the sequence goes on.
                following = {**cursor, "a": account["id"], "f": updated_after_text, "e": 1}
                return json_response(200, {"data": [], "next": encode_cursor(following)})
        page = items[:page_size]
        include = _includes(request)
        fields = _fields(request)
        next_cursor = None
        if len(items) > len(page):
            following = {"a": account["id"], "s": page[-1][0], "f": updated_after_text}
            next_cursor = encode_cursor(following)
        junk = self.state.junk_items.get(account["id"], []) if not cursor.get("s") else []
        if fields:
            data = [*junk, *(_render_posting(posting, include, fields) for _seq, posting in page)]
            return json_response(200, {"data": data, "next": next_cursor})
        # Assemble the page from cached per-posting JSON: serialising ~5 KB postings on every page
        # would otherwise dominate sync benchmarks that run the sandbox in-process.
        with_questionnaires = "questionnaires" in include
        parts = ",".join(
            [json.dumps(item) for item in junk]
            + [self._posting_json(posting, with_questionnaires) for _seq, posting in page]
        )
        body = '{"data":[' + parts + '],"next":' + json.dumps(next_cursor) + "}"
        return Response(200, body.encode(), "application/json")

    def _posting_json(self, posting: dict[str, Any], with_questionnaires: bool) -> str:
        """The posting's JSON, cached until it changes (state methods bump `updated_at` on every edit)."""
        key = (posting.get("id"), with_questionnaires)
        version = (id(posting), posting.get("updated_at"), len(posting))
        cached = self._json_cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        include = {"questionnaires"} if with_questionnaires else set()
        text = json.dumps(_render_posting(posting, include, None))
        if len(self._json_cache) > 100_000:
            self._json_cache.clear()
        self._json_cache[key] = (version, text)
        return text

    def list_jobs(self, request: Request) -> Response:
        account = self._linked_account(request)
        return self._plain_list(request, self.state.jobs(account["id"]), account["id"])

    def list_departments(self, request: Request) -> Response:
        account = self._linked_account(request)
        return self._plain_list(request, self.state.departments(account["id"]), account["id"])

    def _plain_list(self, request: Request, items: list[dict[str, Any]], account_id: str) -> Response:
        """A cursor-paged unified list (jobs, departments) with `fields` support."""
        page_size = min(_int_param(request, "page_size", DEFAULT_PAGE_SIZE, minimum=1), MAX_PAGE_SIZE)
        cursor_value = request.query_value("next")
        start = 0
        if cursor_value:
            cursor = decode_cursor(cursor_value)
            if cursor.get("a") != account_id:
                raise ApiError(400, "Invalid next cursor: it belongs to another account.")
            start = int(cursor["s"])
        page = items[start : start + page_size]
        fields = _fields(request)
        if fields:
            page = [{key: value for key, value in item.items() if key in fields} for item in page]
        following = start + page_size
        next_cursor = encode_cursor({"a": account_id, "s": following}) if following < len(items) else None
        return json_response(200, {"data": page, "next": next_cursor})

    def get_job_posting(self, request: Request) -> Response:
        account = self._linked_account(request)
        try:
            posting = self.state.posting(account["id"], request.path_params["id"])
        except SandboxError as exc:
            raise ApiError(404, "Job posting not found.") from exc
        return json_response(200, {"data": _render_posting(posting, _includes(request), _fields(request))})

    def create_application(self, request: Request) -> Response:
        account = self._linked_account(request)
        body = _json_object(request)
        errors: list[str] = []
        if body.get("candidate") is not None and body.get("candidate_id") is not None:
            errors.append("Provide either candidate or candidate_id, not both")
        candidate = body.get("candidate")
        if body.get("candidate_id") is None:
            if not isinstance(candidate, dict):
                errors.append("candidate (or candidate_id) is required")
            else:
                has_name = bool(candidate.get("name")) or (
                    bool(candidate.get("first_name")) and bool(candidate.get("last_name"))
                )
                if not has_name:
                    errors.append("candidate.first_name and candidate.last_name are required")
                if not isinstance(candidate.get("email"), str) or "@" not in candidate.get("email", ""):
                    errors.append("candidate.email must be an email address")
        posting: dict[str, Any] | None = None
        posting_ref = body.get("job_posting_id")
        if not posting_ref and not body.get("job_id"):
            errors.append("job_posting_id or job_id is required")
        if posting_ref:
            try:
                posting = self.state.posting(account["id"], str(posting_ref))
            except SandboxError as exc:
                raise ApiError(404, f"Job posting {posting_ref} not found.") from exc
            if (posting.get("status") or {}).get("value") != "live":
                errors.append("The job posting is not open for applications")
        errors.extend(_document_errors(body.get("documents")))
        if posting is not None:
            errors.extend(_answer_errors(posting, body.get("questionnaires")))
        if errors:
            raise ApiError(
                400,
                "; ".join(errors),
                extra={
                    "errors": errors,
                    "provider_errors": [
                        {
                            "status": 422,
                            "url": "https://provider.example/applications",
                            "raw": {"errors": errors},
                        }
                    ],
                },
            )
        email = candidate.get("email") if isinstance(candidate, dict) else None
        if (
            self.state.quirks.duplicate_applications_conflict
            and posting is not None
            and isinstance(email, str)
            and self.state.has_application(account["id"], posting, email)
        ):
            raise ApiError(409, "The candidate has already applied to this job posting.")
        application = self.state.record_application(account["id"], body, posting)
        created = {
            "statusCode": 201,
            "message": "Record created successfully.",
            "timestamp": seed.iso(self.state.clock()),
            "data": {
                "id": None if self.state.quirks.null_application_id else application.id,
                "remote_id": application.remote_id,
            },
        }
        return json_response(201, created)

    def list_applications(self, request: Request) -> Response:
        """The account's applications, oldest first, optionally `filter[created_after]`."""
        account = self._linked_account(request)
        created_after_text = request.query_value("filter[created_after]")
        created_after = None
        if created_after_text:
            try:
                created_after = parse_timestamp(created_after_text)
            except ValueError as exc:
                raise ApiError(400, "filter[created_after] must be an ISO-8601 date-time.") from exc
        with self.state.lock:
            applications = sorted(
                (
                    a
                    for a in self.state.applications.values()
                    if a.account_id == account["id"]
                    and (created_after is None or a.created_at > created_after)
                ),
                key=lambda a: (a.created_at, a.id),
            )
            items = [render_application(a) for a in applications]
        return self._plain_list(request, items, account["id"])

    def get_application(self, request: Request) -> Response:
        account = self._linked_account(request)
        application = self.state.applications.get(request.path_params["id"])
        if application is None:
            application = next(
                (a for a in self.state.applications.values() if a.remote_id == request.path_params["id"]),
                None,
            )
        if application is None or application.account_id != account["id"]:
            raise ApiError(404, "Application not found.")
        return json_response(200, {"data": render_application(application)})

    # Hub ----------------------------------------------------------------------------------------------

    def hub_page(self, request: Request) -> Response:
        token = request.query_value("token") or ""
        try:
            session = self.state.session_for_token(token)
        except SandboxError as exc:
            return _hub_error(exc)
        owner = html.escape(session.origin_owner_name)
        if session.account_id:
            account = self.state.accounts.get(session.account_id) or {}
            chooser = (
                f"<p>Re-authenticate the <strong>{html.escape(str(account.get('provider_name')))}</strong> "
                f"account <code>{html.escape(session.account_id)}</code>.</p>"
            )
        elif session.provider:
            name = html.escape(seed.PROVIDER_NAMES[session.provider])
            chooser = (
                f'<p>Provider: <strong>{name}</strong></p><input type="hidden" name="provider" '
                f'value="{html.escape(session.provider)}">'
            )
        else:
            options = "".join(
                f'<option value="{key}">{html.escape(name)}</option>'
                for key, name in seed.PROVIDER_NAMES.items()
            )
            chooser = (
                '<label for="provider">ATS provider</label> '
                f'<select id="provider" name="provider" required>{options}</select>'
            )
        expires = html.escape(seed.iso(session.expires_at))
        body = (
            f"<h1>Link your ATS account</h1><p>Linking an account for <strong>{owner}</strong>. "
            f"This link expires at <time>{expires}</time>.</p>"
            '<form method="post" action="/hub/link">'
            f'<input type="hidden" name="token" value="{html.escape(token)}">{chooser}'
            '<p><label for="username">ATS username (ignored by the sandbox)</label> '
            '<input id="username" name="username" autocomplete="off"></p>'
            '<button type="submit">Link account</button></form>'
        )
        return html_response(200, _page("Link your ATS account", body))

    def hub_link(self, request: Request) -> Response:
        form = request.form()
        try:
            account = self.state.link_account(form.get("token", ""), form.get("provider") or None)
        except SandboxError as exc:
            return _hub_error(exc)
        body = (
            "<h1>Account linked</h1>"
            f'<p role="status">Your <strong>{html.escape(str(account["provider_name"]))}</strong> '
            "account is now "
            f"linked for {html.escape(account['origin_owner_name'])}.</p>"
            f'<p>Account id: <code id="account-id" data-account-id="{html.escape(account["id"])}">'
            f"{html.escape(account['id'])}</code></p><p>You can close this window.</p>"
        )
        return html_response(200, _page("Account linked", body))

    # Admin --------------------------------------------------------------------------------------------

    def admin_reset(self, _request: Request) -> Response:
        self.state.reset()
        return json_response(200, self.state.stats())

    def admin_reset_stats(self, _request: Request) -> Response:
        self.state.reset_counters()
        return json_response(200, self.state.stats())

    def _config(self) -> dict[str, Any]:
        pagination = self.state.pagination
        quirks = self.state.quirks
        return {
            "latency_ms": self.state.latency_ms,
            "pagination": {
                "short_page_size": pagination.short_page_size,
                "empty_pages": pagination.empty_pages,
                "account_id": pagination.account_id,
                "repeat_cursor": pagination.repeat_cursor,
            },
            "quirks": {
                "null_application_id": quirks.null_application_id,
                "fractional_session_ids": quirks.fractional_session_ids,
                "duplicate_applications_conflict": quirks.duplicate_applications_conflict,
            },
        }

    def admin_get_config(self, _request: Request) -> Response:
        return json_response(200, self._config())

    def admin_put_config(self, request: Request) -> Response:
        body = _admin_body(request)
        if "latency_ms" in body:
            latency = int(body["latency_ms"])
            if latency < 0:
                raise SandboxError("latency_ms must be >= 0.")
            self.state.latency_ms = latency
        if "pagination" in body:
            pagination = body["pagination"] or {}
            self.state.set_pagination(
                short_page_size=pagination.get("short_page_size"),
                empty_pages=bool(pagination.get("empty_pages", False)),
                account_id=pagination.get("account_id"),
                repeat_cursor=bool(pagination.get("repeat_cursor", False)),
            )
        if "quirks" in body:
            quirks = body["quirks"] or {}
            self.state.quirks = Quirks(
                null_application_id=bool(quirks.get("null_application_id", False)),
                fractional_session_ids=bool(quirks.get("fractional_session_ids", False)),
                duplicate_applications_conflict=bool(quirks.get("duplicate_applications_conflict", False)),
            )
        return json_response(200, self._config())

    def admin_add_poison(self, request: Request) -> Response:
        body = _admin_body(request)
        posting = self.state.add_poison_posting(request.path_params["account_id"], str(body.get("kind")))
        return json_response(201, {"kind": body.get("kind"), "posting_id": (posting or {}).get("id")})

    def admin_list_failures(self, _request: Request) -> Response:
        return json_response(200, [rule.to_dict() for rule in self.state.failures])

    def admin_add_failure(self, request: Request) -> Response:
        body = _admin_body(request)
        status = body.get("status")
        rule = FailureRule(
            status=DROP if status == DROP else int(str(status)),
            count=body.get("count"),
            probability=body.get("probability"),
            account_id=body.get("account_id"),
            method=body.get("method"),
            path_prefix=body.get("path_prefix"),
            retry_after=body.get("retry_after", 1),
        )
        return json_response(201, self.state.add_failure(rule).to_dict())

    def admin_clear_failures(self, _request: Request) -> Response:
        self.state.clear_failures()
        return json_response(200, [])

    def admin_list_accounts(self, _request: Request) -> Response:
        with self.state.lock:
            return json_response(200, copy.deepcopy(list(self.state.accounts.values())))

    def admin_add_account(self, request: Request) -> Response:
        body = _admin_body(request)
        account = self.state.add_account(
            origin_owner_id=str(body["origin_owner_id"]),
            origin_owner_name=str(body["origin_owner_name"]),
            provider=str(body.get("provider", "greenhouse")),
            account_id=body.get("id"),
            postings=int(body.get("postings", 0)),
            label=body.get("label"),
        )
        return json_response(201, account)

    def admin_generate_accounts(self, request: Request) -> Response:
        body = _admin_body(request)
        accounts = self.state.generate_accounts(
            int(body.get("count", 1)),
            int(body.get("postings_per_account", 0)),
            providers=body.get("providers"),
            prefix=str(body.get("prefix", "bench")),
        )
        return json_response(201, accounts)

    def admin_expire_account(self, request: Request) -> Response:
        return json_response(200, self.state.expire_account(request.path_params["account_id"]))

    def admin_account_status(self, request: Request) -> Response:
        body = _admin_body(request)
        account = self.state.set_account_status(
            request.path_params["account_id"], str(body["status"]), body.get("reason")
        )
        return json_response(200, account)

    def admin_delete_account(self, request: Request) -> Response:
        return json_response(200, self.state.delete_account(request.path_params["account_id"]))

    def admin_list_postings(self, request: Request) -> Response:
        account_id = request.path_params["account_id"]
        self.state.account(account_id)
        with self.state.lock:
            return json_response(200, copy.deepcopy(list(self.state.postings[account_id].values())))

    def admin_add_postings(self, request: Request) -> Response:
        body = _admin_body(request)
        account_id = request.path_params["account_id"]
        if "count" in body:
            return json_response(201, self.state.generate_postings(account_id, int(body["count"])))
        return json_response(201, [self.state.add_posting(account_id, body.get("fields") or {})])

    def admin_edit_posting(self, request: Request) -> Response:
        body = _admin_body(request)
        params = request.path_params
        return json_response(200, self.state.edit_posting(params["account_id"], params["posting_id"], body))

    def admin_delete_posting(self, request: Request) -> Response:
        params = request.path_params
        self.state.delete_posting(params["account_id"], params["posting_id"])
        return json_response(200, {"deleted": params["posting_id"]})

    def admin_close_posting(self, request: Request) -> Response:
        params = request.path_params
        return json_response(200, self.state.close_posting(params["account_id"], params["posting_id"]))

    def admin_reopen_posting(self, request: Request) -> Response:
        params = request.path_params
        return json_response(200, self.state.reopen_posting(params["account_id"], params["posting_id"]))

    def admin_list_applications(self, request: Request) -> Response:
        account_id = request.query_value("account_id")
        with self.state.lock:
            items = [
                {**render_application(a), "account_id": a.account_id, "received": a.received}
                for a in self.state.applications.values()
                if not account_id or a.account_id == account_id
            ]
        return json_response(200, items)

    def admin_application_status(self, request: Request) -> Response:
        body = _admin_body(request)
        application = self.state.set_application_status(
            request.path_params["application_id"], str(body["value"])
        )
        return json_response(200, render_application(application))


# Rendering and validation helpers ---------------------------------------------------------------------


def _render_posting(posting: dict[str, Any], include: set[str], fields: list[str] | None) -> dict[str, Any]:
    # A shallow copy is enough: it is serialised at once, and edits replace top-level values.
    rendered = dict(posting)
    if "questionnaires" not in include:
        rendered.pop("questionnaires", None)
    if fields:
        keep = set(fields) | ({"questionnaires"} if "questionnaires" in include else set())
        rendered = {key: value for key, value in rendered.items() if key in keep}
    return rendered


def render_application(application: Application) -> dict[str, Any]:
    """The unified Application as GET /unified/ats/applications/{id} returns it."""
    received = application.received
    candidate = dict(received.get("candidate") or {})
    answers = [
        {
            "id": questionnaire.get("id"),
            "answers": [
                {"id": a.get("id"), "type": a.get("type"), "values": a.get("values")}
                for a in questionnaire.get("answers") or []
            ],
        }
        for questionnaire in received.get("questionnaires") or []
    ]
    return {
        "id": application.id,
        "remote_id": application.remote_id,
        "candidate_id": application.candidate_id,
        "remote_candidate_id": application.remote_candidate_id,
        "job_id": application.job_id,
        "remote_job_id": application.remote_job_id,
        "application_status": {"value": application.status, "source_value": application.status.title()},
        "candidate": {
            "first_name": candidate.get("first_name"),
            "last_name": candidate.get("last_name"),
            "name": candidate.get("name")
            or " ".join(p for p in (candidate.get("first_name"), candidate.get("last_name")) if p),
            "email": candidate.get("email"),
            "phone_numbers": candidate.get("phone_numbers") or [],
        },
        "questionnaires": answers,
        "source": {"id": None, "remote_id": None, "name": (received.get("source") or {}).get("name")},
        "created_at": seed.iso(application.created_at),
        "updated_at": seed.iso(application.updated_at),
    }


def _answer_errors(posting: dict[str, Any], questionnaires: Any) -> list[str]:
    """What the ATS would reject: unknown questions, bad option ids, missing required answers."""
    if questionnaires is None:
        questionnaires = []
    if not isinstance(questionnaires, list):
        return ["questionnaires must be a list"]
    questions: dict[str, dict[str, Any]] = {}
    for questionnaire in posting.get("questionnaires") or []:
        for question in questionnaire.get("questions") or []:
            questions[question["id"]] = question
            if question.get("remote_id"):
                questions.setdefault(question["remote_id"], question)
    answered: dict[str, list[str]] = {}
    errors: list[str] = []
    for questionnaire in questionnaires:
        if not isinstance(questionnaire, dict):
            errors.append("each questionnaire must be an object")
            continue
        for answer in questionnaire.get("answers") or []:
            question = questions.get(str(answer.get("id")))
            if question is None:
                errors.append(f"Unknown question {answer.get('id')}")
                continue
            values = answer.get("values")
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                errors.append(f"Answer to {question['id']} must have values: [string]")
                continue
            option_ids = {o["id"] for o in question.get("multiple_choice_answers") or []}
            if option_ids and any(v not in option_ids for v in values):
                errors.append(f"Answer to {question['id']} must use the question's option ids")
            answered[question["id"]] = values
    for question in {q["id"]: q for q in questions.values()}.values():
        if str(question.get("required")).lower() != "true" or answered.get(question["id"]):
            continue
        parent = question.get("parent_question")
        if parent:
            parent_values = answered.get(parent.get("id"), [])
            if not set(parent_values) & set(parent.get("option_ids") or []):
                continue  # the condition is not met, so the question is not shown and not required
        errors.append(f"Question {question['id']} is required")
    return errors


def _document_errors(documents: Any) -> list[str]:
    if documents is None:
        return []
    if not isinstance(documents, list):
        return ["documents must be a list"]
    errors = []
    for index, document in enumerate(documents):
        if not isinstance(document, dict) or not document.get("name"):
            errors.append(f"documents[{index}].name is required")
            continue
        content = document.get("content")
        try:
            base64.b64decode(content or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            errors.append(f"documents[{index}].content must be base64")
    return errors


def _includes(request: Request) -> set[str]:
    return {
        part.strip()
        for value in request.query.get("include", [])
        for part in value.split(",")
        if part.strip()
    }


def _fields(request: Request) -> list[str] | None:
    value = request.query_value("fields")
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


def _int_param(request: Request, name: str, default: int, *, minimum: int) -> int:
    value = request.query_value(name)
    if value is None or value == "":
        return default
    try:
        number = int(float(value))
    except ValueError as exc:
        raise ApiError(400, f"{name} must be a number.") from exc
    if number < minimum:
        raise ApiError(400, f"{name} must be at least {minimum}.")
    return number


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise ApiError(400, "The request body must be JSON.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def _admin_body(request: Request) -> dict[str, Any]:
    if not request.body:
        return {}
    body = request.json()
    if not isinstance(body, dict):
        raise SandboxError("The body must be a JSON object.")
    return body


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · StackOne sandbox</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"
        "button{padding:.5rem 1rem}label{display:block;margin:.5rem 0 .25rem}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _hub_error(error: SandboxError) -> Response:
    body = f'<h1>Link not valid</h1><p role="alert">{html.escape(str(error))}</p>'
    return html_response(error.status, _page("Link not valid", body))
