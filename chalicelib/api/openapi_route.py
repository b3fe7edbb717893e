"""GET /openapi.json: the API's own OpenAPI 3.1 document (built on the first request, then cached)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http_errors import handle_errors
from chalicelib.api.response_policy import public_response

openapi_blueprint = Blueprint(__name__)
# The document changes only with a deploy: five minutes in shared caches, then revalidated by ETag.
OPENAPI_MAX_AGE_SECONDS = 300


@openapi_blueprint.route("/openapi.json", methods=["GET"])
@handle_errors
def openapi_document() -> Response:
    from chalicelib.api.openapi import document_json  # the generator imports every area's models

    return public_response(
        openapi_blueprint.current_request,
        document_json(),
        "application/json",
        max_age_seconds=OPENAPI_MAX_AGE_SECONDS,
    )
