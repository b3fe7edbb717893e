"""Candidate apply routes: Apply with Embloy (redirect or JSON) and native applications."""

from __future__ import annotations

import hashlib
import re

from chalice import Blueprint, Response

from chalicelib import deps
from chalicelib.api.http_errors import JSON_HEADERS, handle_errors
from chalicelib.api.request_body import parse_json_body
from chalicelib.errors import InvalidRequestError, PayloadTooLargeError
from chalicelib.models.apply import EmbloyRedirectResponse, NativeApplicationRequest
from chalicelib.settings import get_settings

apply_blueprint = Blueprint(__name__)

# The portal URL carries a replayable request token: keep it out of caches and Referer headers.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@apply_blueprint.route("/jobs/{job_id}/apply/embloy", methods=["GET"])
@handle_errors
def apply_with_embloy_redirect(job_id: str) -> Response:
    url = deps.get_embloy_apply_service().portal_url(job_id)
    return Response(body="", status_code=302, headers={"Location": url, **_PRIVATE})


@apply_blueprint.route("/jobs/{job_id}/apply/embloy", methods=["POST"])
@handle_errors
def apply_with_embloy_url(job_id: str) -> Response:
    url = deps.get_embloy_apply_service().portal_url(job_id)
    body = EmbloyRedirectResponse(url=url).model_dump(mode="json")
    return Response(body=body, status_code=200, headers={**JSON_HEADERS, **_PRIVATE})


@apply_blueprint.route("/jobs/{job_id}/applications", methods=["POST"])
@handle_errors
def submit_application(job_id: str) -> Response:
    request = apply_blueprint.current_request
    limit = get_settings().application_max_body_bytes
    if len(request.raw_body or b"") > limit:
        raise PayloadTooLargeError(f"The request body must be at most {limit // (1024 * 1024)} MB.")
    application = parse_json_body(request, NativeApplicationRequest, max_bytes=limit)
    key = request.headers.get("idempotency-key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise InvalidRequestError(
            "Idempotency-Key must be 1-255 visible ASCII characters.",
            fields={"Idempotency-Key": "must be 1-255 visible ASCII characters"},
        )
    result = deps.get_native_apply_service().submit(
        job_id,
        application,
        idempotency_key=key,
        payload_hash=hashlib.sha256(application.model_dump_json().encode()).hexdigest(),
        lambda_context=apply_blueprint.lambda_context,
    )
    return Response(body=result.body, status_code=result.status_code, headers={**JSON_HEADERS})
