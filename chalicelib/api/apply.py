"""Candidate apply routes: Apply with Embloy (a confirmation page, then a POST) and native applications.

A GET never writes or calls Embloy: link prefetchers, crawlers and chat previews follow GET links, and
each Embloy redirect records a click in the employer's counts and spends a request token. The GET answers
a small page whose button POSTs; the POST (form or JSON) does the work. Valid applications and clicks
are rate-limited per client (source IP) and job (`APPLY_RATE_LIMIT` per `APPLY_RATE_WINDOW_SECONDS`).
"""

from __future__ import annotations

import hashlib
import html
import re

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import deps
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.numbers import count_event
from chalicelib.api.request_body import FORM, media_type, parse_form_body, parse_json_body
from chalicelib.errors import InvalidRequestError, PayloadTooLargeError
from chalicelib.http_headers import IDEMPOTENCY_KEY_PATTERN, JSON_HEADERS
from chalicelib.models.apply import (
    EmbloyApplyRequest,
    EmbloyRedirectResponse,
    NativeApplicationRequest,
    ResumeUploadRequest,
)
from chalicelib.models.posting import parse_job_id
from chalicelib.observability import count
from chalicelib.settings import get_settings

apply_blueprint = Blueprint(__name__)

# The portal URL carries a replayable request token: keep it out of caches and Referer headers.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_PAGE_HEADERS: dict[str, str | list[str]] = {
    **_PRIVATE,
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
_CONFIRM_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>Apply with Embloy</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}}
button{{font:inherit;padding:.6rem 1.2rem;cursor:pointer}}</style></head>
<body><main><h1>Apply with Embloy</h1>
<p>You will continue to Embloy to complete your application.</p>
<form method="post"><button type="submit">Continue to Embloy</button></form>
<p><a href="{job_page}">Back to the job</a></p></main></body></html>
"""


def client_address(request: Request) -> str:
    """The caller's source IP as API Gateway (or `chalice local`) saw it."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


@apply_blueprint.route("/jobs/{job_id}/apply/embloy", methods=["GET"])
@handle_errors
def apply_with_embloy_page(job_id: str) -> Response:
    parse_job_id(job_id)  # 404 for what cannot be a board id; no read, no write, no upstream call
    job_page = f"{get_settings().public_base_url.rstrip('/')}/jobs/{job_id}"
    body = _CONFIRM_PAGE.format(job_page=html.escape(job_page, quote=True))
    return Response(body=body, status_code=200, headers=_PAGE_HEADERS)


@apply_blueprint.route(
    "/jobs/{job_id}/apply/embloy", methods=["POST"], content_types=["application/json", FORM, "text/plain"]
)
@handle_errors
def apply_with_embloy(job_id: str) -> Response:
    request = apply_blueprint.current_request
    # The body is checked before anything is spent: a bad one costs no Embloy token, click or rate slot.
    is_form = media_type(request) == FORM
    if is_form:
        parse_form_body(request, EmbloyApplyRequest)
    else:
        parse_json_body(request, EmbloyApplyRequest)
    url = deps.get_embloy_apply_service().portal_url(job_id, client=client_address(request))
    count("EmbloyRedirects")
    count_event(job_id, "embloy_click")
    if is_form:  # the confirmation page's button: send the browser on to Embloy
        return Response(body="", status_code=303, headers={"Location": url, **_PRIVATE})
    body = EmbloyRedirectResponse(url=url).model_dump(mode="json")
    return Response(body=body, status_code=200, headers={**JSON_HEADERS, **_PRIVATE})


@apply_blueprint.route("/jobs/{job_id}/resume-uploads", methods=["POST"])
@handle_errors
def create_resume_upload(job_id: str) -> Response:
    request = parse_json_body(apply_blueprint.current_request, ResumeUploadRequest)
    upload = deps.get_resume_upload_service().create(job_id, request)
    # The presigned form is a short-lived credential for one object: never cached.
    return Response(
        body=upload.model_dump(mode="json"),
        status_code=201,
        headers={**JSON_HEADERS, "Cache-Control": "no-store"},
    )


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
        client=client_address(request),
    )
    if result.delivered:  # 201 from this request's delivery (an Idempotency-Key replay is not counted again)
        count_event(job_id, "application")
    return Response(body=result.body, status_code=result.status_code, headers={**JSON_HEADERS})
