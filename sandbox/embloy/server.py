"""HTTP surface of the Embloy sandbox: Quicklink token minting, the apply portal page, admin knobs.

Validation order and error bodies follow Embloy Core's `QuicklinkController#create_request`
(see ../shared/reference/embloy-api.md §2): rate limit (503, plain text) → `client_token` header blank
(400 `client token` ERR_BLANK) → malformed (400 `client_token`) → JWT invalid/expired (401 `token`) →
user gone (404 `user`) → user blocked (403 `user` ERR_RAC) → `job_slug` (400) → `mode` (400) →
subscription tier (403 `subscription`).
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox._http import Request, Response, Router, html_response, json_response, text_response
from sandbox.embloy.tokens import (
    DEFAULT_CLIENT_TOKEN_SECRET,
    ISSUER,
    REQUEST_TOKEN_LIFETIME,
    TIERS,
    InvalidToken,
    decode_jwt,
    encode_jwt,
    mint_client_token,
)

MODES = ("job", "lever", "ashby", "softgarden")
REQUEST_TOKEN_SECRET = "embloy-sandbox-request-token-secret"
RATE_LIMIT_TEXT = "Rate limit exceeded. Please try again later."
# Optional session fields Embloy copies from the request into the token (portal_params).
SESSION_FIELDS = (
    "success_url",
    "cancel_url",
    "title",
    "description",
    "start_slot",
    "longitude",
    "latitude",
    "job_type",
    "job_status",
    "image_url",
    "position",
    "currency",
    "salary",
    "key_skills",
    "duration",
    "job_notifications",
)


def _error(status: int, attribute: str, code: str, description: str) -> Response:
    return json_response(status, {attribute: [{"error": code, "description": description}]})


def token_fingerprint(token: str) -> str:
    """How the sandbox records and names a client token without keeping the secret itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass
class EmbloyState:
    client_token_secret: str = DEFAULT_CLIENT_TOKEN_SECRET
    portal_url: str = "http://127.0.0.1:4020"
    clock: Callable[[], float] = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)
    requests: list[dict[str, Any]] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)  # fingerprints answered as invalid (secret rotated)
    expired: set[str] = field(default_factory=set)  # fingerprints answered as expired
    deleted_users: set[int] = field(default_factory=set)
    blocked_users: set[int] = field(default_factory=set)
    unavailable_remaining: int = 0
    unavailable_retry_after: int = 60

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.revoked.clear()
            self.expired.clear()
            self.deleted_users.clear()
            self.blocked_users.clear()
            self.unavailable_remaining = 0

    def make_unavailable(self, count: int, retry_after: int = 60) -> None:
        """The next `count` token requests get Embloy's rate-limit 503 (with Retry-After)."""
        with self.lock:
            self.unavailable_remaining = count
            self.unavailable_retry_after = retry_after

    def expire(self, client_token: str) -> None:
        with self.lock:
            self.expired.add(token_fingerprint(client_token))

    def revoke(self, client_token: str) -> None:
        with self.lock:
            self.revoked.add(token_fingerprint(client_token))

    def mint(self, sub: int, typ: str = "enterprise_3", expires_in: int = 90 * 24 * 3600) -> str:
        return mint_client_token(
            sub, typ=typ, secret=self.client_token_secret, issued_at=int(self.clock()), expires_in=expires_in
        )


class EmbloySandbox:
    def __init__(self, state: EmbloyState) -> None:
        self.state = state
        self.router = Router()
        add = self.router.add
        add("POST", "/api/v0/sdk/request/auth/token", self.request_token)
        add("GET", "/sdk/apply", self.apply_page)
        add("GET", "/{lang}/sdk/apply", self.apply_page)
        add("GET", "/_sandbox/health", lambda _r: json_response(200, {"status": "ok"}))
        add("GET", "/_sandbox/requests", lambda _r: json_response(200, self.state.requests))
        add("DELETE", "/_sandbox/requests", self.admin_clear_requests)
        add("POST", "/_sandbox/reset", self.admin_reset)
        add("POST", "/_sandbox/client_tokens", self.admin_mint)
        add("POST", "/_sandbox/client_tokens/expire", self.admin_expire)
        add("POST", "/_sandbox/client_tokens/revoke", self.admin_revoke)
        add("POST", "/_sandbox/users/{sub}/delete", self.admin_delete_user)
        add("POST", "/_sandbox/users/{sub}/block", self.admin_block_user)
        add("POST", "/_sandbox/unavailable", self.admin_unavailable)

    def __call__(self, request: Request) -> Response:
        found = self.router.match(request.method, request.path)
        if not isinstance(found, tuple):
            return json_response(404, {"status": 404, "error": "Not Found"})
        handler, params, _pattern = found
        request.path_params = params
        try:
            return handler(request)
        except (ValueError, TypeError, KeyError) as exc:
            if request.path.startswith("/_sandbox/"):
                return json_response(400, {"error": f"Bad admin request: {exc}"})
            raise

    # The API ------------------------------------------------------------------------------------------

    def request_token(self, request: Request) -> Response:
        try:
            fields = request.form()
        except ValueError:
            fields = {}
        client_token = request.headers.get("client_token", request.headers.get("client-token", ""))
        record: dict[str, Any] = {
            "received_at": self.state.clock(),
            "content_type": request.headers.get("content-type"),
            "user_agent": request.headers.get("user-agent"),
            "fields": fields,
            "client_token_fingerprint": token_fingerprint(client_token) if client_token else None,
            "client_token_sub": None,
        }
        response = self._validate_and_mint(client_token, fields, record)
        record["status"] = response.status
        with self.state.lock:
            self.state.requests.append(record)
        return response

    def _validate_and_mint(
        self, client_token: str, fields: dict[str, str], record: dict[str, Any]
    ) -> Response:
        state = self.state
        with state.lock:
            if state.unavailable_remaining > 0:
                state.unavailable_remaining -= 1
                return text_response(
                    503, RATE_LIMIT_TEXT, {"Retry-After": str(state.unavailable_retry_after)}
                )
        if not client_token.strip():
            return _error(400, "client token", "ERR_BLANK", "Attribute can't be blank")
        if client_token.startswith(":"):
            return _error(400, "client_token", "ERR_INVALID", "Attribute is malformed or unknown")
        fingerprint = token_fingerprint(client_token)
        try:
            claims = decode_jwt(client_token, state.client_token_secret, now=state.clock())
            if fingerprint in state.revoked or fingerprint in state.expired:
                raise InvalidToken("revoked or expired")
        except InvalidToken:
            return _error(401, "token", "ERR_INVALID", "Attribute is invalid or expired")
        if "typ" not in claims:
            return _error(401, "token", "ERR_INVALID", "Attribute is invalid or expired")
        sub = claims["sub"]
        record["client_token_sub"] = sub
        if sub in state.deleted_users:
            return _error(404, "user", "ERR_INVALID", "Attribute can not be retrieved")
        if sub in state.blocked_users:
            return _error(403, "user", "ERR_RAC", "Proceeding is inhibited by an access restriction")
        job_slug = fields.get("job_slug")
        # Embloy Core only rejects a missing job_slug; the sandbox also rejects blank ones, on purpose.
        if job_slug is None or not job_slug.strip():
            return _error(400, "job_slug", "ERR_INVALID", "Attribute is malformed or unknown")
        mode = fields.get("mode")
        if mode not in MODES:
            return _error(400, "mode", "ERR_INVALID", "Attribute is malformed or unknown")
        if claims["typ"] not in TIERS:
            return _error(403, "subscription", "ERR_RAC", "Proceeding is inhibited by an access restriction")
        now = int(state.clock())
        session: dict[str, Any] = {
            "mode": mode,
            "job_slug": job_slug if mode == "job" else f"{mode}__{job_slug}",
            "user_id": sub,
            "subscription_type": claims["typ"],
        }
        for name in SESSION_FIELDS:
            if fields.get(name) is not None:
                session[name] = fields[name]
        token_claims = {
            "sub": sub,
            "exp": now + REQUEST_TOKEN_LIFETIME,
            "iat": now,
            "iss": ISSUER,
            "session": session,
        }
        return json_response(200, {"request_token": encode_jwt(token_claims, REQUEST_TOKEN_SECRET)})

    # The portal ---------------------------------------------------------------------------------------

    def apply_page(self, request: Request) -> Response:
        token = request.query_value("request_token")
        if not token:
            return html_response(
                400, _page("No application", '<p role="alert">This link has no request token.</p>')
            )
        try:
            claims = decode_jwt(token, REQUEST_TOKEN_SECRET, now=self.state.clock())
        except InvalidToken:
            body = (
                '<h1>Link not valid</h1><p role="alert">This application link is invalid or has expired.</p>'
            )
            return html_response(401, _page("Link not valid", body))
        session = claims.get("session") or {}
        mode = str(session.get("mode", ""))
        stored_slug = str(session.get("job_slug", ""))
        slug = stored_slug.split("__", 1)[1] if "__" in stored_slug and mode != "job" else stored_slug
        minutes_left = max(0, (int(claims["exp"]) - int(self.state.clock())) // 60)
        back = ""
        cancel_url = str(session.get("cancel_url") or "")
        if cancel_url.startswith(("https://", "http://")):
            back = f'<p><a href="{html.escape(cancel_url)}">Back to the job board</a></p>'
        body = (
            "<h1>Apply with Embloy</h1>"
            f'<p>You are applying to the job <strong id="job-slug">{html.escape(slug)}</strong> '
            f'(mode <code id="mode">{html.escape(mode)}</code>, '
            f"Embloy job <code>{html.escape(stored_slug)}</code>).</p>"
            f"<p>This application session expires in {minutes_left} minutes.</p>"
            '<form><label for="cv">CV</label><input id="cv" type="file" disabled>'
            '<button type="button" disabled>Submit application (sandbox)</button></form>'
            f"{back}"
        )
        return html_response(200, _page("Apply with Embloy", body))

    # Admin --------------------------------------------------------------------------------------------

    def admin_clear_requests(self, _request: Request) -> Response:
        with self.state.lock:
            self.state.requests.clear()
        return json_response(200, [])

    def admin_reset(self, _request: Request) -> Response:
        self.state.reset()
        return json_response(200, {"status": "reset"})

    def admin_mint(self, request: Request) -> Response:
        body = _body(request)
        token = self.state.mint(
            int(body.get("sub", 1)),
            str(body.get("typ", "enterprise_3")),
            int(body.get("expires_in", 7_776_000)),
        )
        return json_response(201, {"client_token": token, "fingerprint": token_fingerprint(token)})

    def admin_expire(self, request: Request) -> Response:
        self.state.expire(str(_body(request)["client_token"]))
        return json_response(200, {"status": "expired"})

    def admin_revoke(self, request: Request) -> Response:
        self.state.revoke(str(_body(request)["client_token"]))
        return json_response(200, {"status": "revoked"})

    def admin_delete_user(self, request: Request) -> Response:
        with self.state.lock:
            self.state.deleted_users.add(int(request.path_params["sub"]))
        return json_response(200, {"status": "deleted"})

    def admin_block_user(self, request: Request) -> Response:
        with self.state.lock:
            self.state.blocked_users.add(int(request.path_params["sub"]))
        return json_response(200, {"status": "blocked"})

    def admin_unavailable(self, request: Request) -> Response:
        body = _body(request)
        self.state.make_unavailable(int(body.get("count", 1)), int(body.get("retry_after", 60)))
        return json_response(200, {"status": "unavailable", "count": self.state.unavailable_remaining})


def _body(request: Request) -> dict[str, Any]:
    if not request.body:
        return {}
    body = json.loads(request.body)
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · Embloy sandbox</title></head>"
        f"<body><main>{body}</main></body></html>"
    )
