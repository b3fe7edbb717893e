"""Employer routes for their Embloy client token (Embloy partner guide, step 1). Never returns the token."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import deps
from chalicelib.api.auth import current_employer_id, employer_authorizer
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.request_body import parse_json_body
from chalicelib.models.apply import PYTHON_WHITESPACE
from chalicelib.services.embloy_tokens import MAX_TOKEN_LENGTH

embloy_token_blueprint = Blueprint(__name__)


_JWT = r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"  # three base64url segments


class EmbloyTokenUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The shape the service checks (a JWT: three base64url segments; surrounding whitespace is trimmed).
    # That the header and payload decode to JSON, and `exp` lies ahead, is checked there as well (400).
    client_token: str = Field(
        min_length=1,
        max_length=MAX_TOKEN_LENGTH,
        json_schema_extra={"pattern": f"^{PYTHON_WHITESPACE}*{_JWT}{PYTHON_WHITESPACE}*$"},
    )


# Room for a token of MAX_TOKEN_LENGTH characters even when JSON spells each one as a 6-byte `\uXXXX` escape
# (surrounding whitespace is allowed and trimmed): a body the document accepts is never a 413.
MAX_BODY_BYTES = 6 * MAX_TOKEN_LENGTH + 1024


@embloy_token_blueprint.route("/employer/embloy-token", methods=["PUT"], authorizer=employer_authorizer)
@handle_errors
def put_embloy_token() -> Response:
    request = embloy_token_blueprint.current_request
    employer_id = current_employer_id(request)
    upload = parse_json_body(request, EmbloyTokenUpload, max_bytes=MAX_BODY_BYTES)
    deps.get_embloy_token_service().upload(employer_id, upload.client_token)
    return Response(body="", status_code=204)


@embloy_token_blueprint.route("/employer/embloy-token", methods=["GET"], authorizer=employer_authorizer)
@handle_errors
def get_embloy_token() -> dict[str, Any]:
    employer_id = current_employer_id(embloy_token_blueprint.current_request)
    from chalicelib.models.responses import EmbloyTokenStatus

    state = deps.get_embloy_token_service().status(employer_id)
    return EmbloyTokenStatus(
        configured=state.configured, updated_at=state.updated_at, needs_renewal=state.needs_renewal
    ).model_dump(mode="json")


@embloy_token_blueprint.route("/employer/embloy-token", methods=["DELETE"], authorizer=employer_authorizer)
@handle_errors
def delete_embloy_token() -> Response:
    employer_id = current_employer_id(embloy_token_blueprint.current_request)
    deps.get_embloy_token_service().delete(employer_id)
    return Response(body="", status_code=204)
