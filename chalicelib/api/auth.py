"""The employer authorizer (Chalice built-in, `Authorization: Bearer <key>`) and the view-side check.

The authorizer never denies: it resolves the key to an employer id, or to `ANONYMOUS`, and every employer
view calls `current_employer_id()`, which raises UnauthenticatedError for anonymous callers. That keeps
401s in the API's error shape and identical under `chalice local` and API Gateway (a Deny would be a 403
in a gateway-specific shape). A request with no Authorization header at all is rejected by the gateway
itself with 401 before the authorizer runs.
"""

from __future__ import annotations

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest, Request

from chalicelib import deps
from chalicelib.errors import UnauthenticatedError

ANONYMOUS = "anonymous"
BEARER = "bearer "

auth_blueprint = Blueprint(__name__)


def employer_id_for_token(token: str | None) -> str | None:
    """The employer a raw `Authorization` header value authenticates, if any."""
    if not token or not token.lower().startswith(BEARER):
        return None
    return deps.get_employer_service().authenticate(token[len(BEARER) :].strip())


@auth_blueprint.authorizer(ttl_seconds=60)
def employer_authorizer(auth_request: AuthRequest) -> AuthResponse:
    employer_id = employer_id_for_token(auth_request.token)
    return AuthResponse(routes=["*"], principal_id=employer_id or ANONYMOUS)


def current_employer_id(request: Request) -> str:
    """The authenticated employer of an employer route; UnauthenticatedError otherwise."""
    authorizer = (request.context or {}).get("authorizer") or {}
    principal = authorizer.get("principalId")
    if not principal or principal == ANONYMOUS:
        raise UnauthenticatedError("A valid employer API key is required (Authorization: Bearer <key>).")
    return str(principal)
