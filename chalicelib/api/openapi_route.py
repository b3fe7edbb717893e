"""GET /openapi.json: the API's own OpenAPI 3.1 document (built on the first request, then cached)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http_errors import handle_errors
from chalicelib.http_headers import JSON_HEADERS

openapi_blueprint = Blueprint(__name__)


@openapi_blueprint.route("/openapi.json", methods=["GET"])
@handle_errors
def openapi_document() -> Response:
    from chalicelib.api.openapi import document_json  # the generator imports every area's models

    return Response(
        body=document_json(),
        status_code=200,
        headers={**JSON_HEADERS, "Cache-Control": "public, max-age=300"},
    )
