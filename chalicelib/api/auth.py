"""The employer authorizer (Chalice built-in, `Authorization: Bearer <key>`) and the view-side check.

The authorizer never denies: it resolves the key to an employer id, or to `ANONYMOUS`, and every employer
view calls `current_employer_id()`, which raises UnauthenticatedError for anonymous callers. That keeps
401s in the API's error shape and identical under `chalice local` and API Gateway (a Deny would be a 403
in a gateway-specific shape). A request with no Authorization header at all is rejected by the gateway
itself with 401 before the authorizer runs; the deployment's UNAUTHORIZED gateway response (and
`local.api_server` under `make run`, from the same template) puts it in the API's error shape.

Revocation: API Gateway caches the authorizer's answer per header value for `AUTHORIZER_TTL_SECONDS`, and
each process trusts a verified key for `API_KEY_CACHE_SECONDS` (settings), so a revoked or rotated-out key
stops working within the sum of the two (60 s by default); new keys work at once.
"""

from __future__ import annotations

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest, Request

from chalicelib import deps
from chalicelib.deadline import deadline_scope
from chalicelib.errors import UnauthenticatedError, UpstreamUnavailableError
from chalicelib.observability import logger
from chalicelib.settings import get_settings

ANONYMOUS = "anonymous"
# The key store could not be read: the view answers 503 rather than a misleading 401.
UNAVAILABLE = "unavailable"
BEARER = "bearer "
# Read at import (the decorator is evaluated at deploy time); see the module docstring on revocation.
AUTHORIZER_TTL_SECONDS = 30
# The authorizer runs before the view (its own Lambda when deployed) and the caller waits for both: the
# key lookup gets this share of the request deadline, so a stalled key store ends in the view's 503
# `auth_unavailable` well inside the deadline.
AUTHORIZER_DEADLINE_SHARE = 0.3

auth_blueprint = Blueprint(__name__)


def employer_id_for_token(token: str | None) -> str | None:
    """The employer a raw `Authorization` header value authenticates, if any."""
    if not token or not token.lower().startswith(BEARER):
        return None
    return deps.get_employer_service().authenticate(token[len(BEARER) :].strip())


@auth_blueprint.authorizer(ttl_seconds=AUTHORIZER_TTL_SECONDS)
def employer_authorizer(auth_request: AuthRequest) -> AuthResponse:
    try:
        with deadline_scope(get_settings().request_deadline_seconds * AUTHORIZER_DEADLINE_SHARE):
            principal = employer_id_for_token(auth_request.token) or ANONYMOUS
    except Exception as exc:
        # Never the token itself: only what kind of failure it was.
        logger.warning("api key lookup failed", extra={"error_type": type(exc).__name__})
        principal = UNAVAILABLE
    return AuthResponse(routes=["*"], principal_id=principal)


def current_employer_id(request: Request) -> str:
    """The authenticated employer of an employer route; UnauthenticatedError otherwise."""
    authorizer = (request.context or {}).get("authorizer") or {}
    principal = authorizer.get("principalId")
    if principal == UNAVAILABLE:
        raise UpstreamUnavailableError(
            "API keys cannot be checked right now; try again shortly.", code="auth_unavailable", retry_after=5
        )
    if not principal or principal == ANONYMOUS:
        raise UnauthenticatedError("A valid employer API key is required (Authorization: Bearer <key>).")
    return str(principal)
