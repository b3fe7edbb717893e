"""Per-job numbers: the job page's Apply beacon and the employer's numbers (docs/numbers.md).

Views, native applications and Embloy clicks are counted where they happen (the job page, the
applications route, the Embloy route) through `count_request`/`count_event`; the beacon counts Apply
starts, which happen in the browser. Every counted event is one queue message, nothing about the visitor.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import deps
from chalicelib.api.auth import current_employer_id, employer_authorizer
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.request_body import parse_input, parse_json_body
from chalicelib.models.numbers import JobEventRequest, NumbersQuery
from chalicelib.models.posting import parse_job_id

numbers_blueprint = Blueprint(__name__)


def count_request(job_id: str, event_type: str, request: Request) -> bool:
    """Count a person's request (not HEAD, a prefetch or a bot); whether an event was queued."""
    recorder = deps.get_event_recorder()
    if recorder is None:
        return False
    return recorder.record_request(job_id, event_type, request.method, dict(request.headers or {}))


def count_event(job_id: str, event_type: str) -> bool:
    """Count an event whatever the client (a delivered application, an Embloy redirect)."""
    recorder = deps.get_event_recorder()
    return recorder.record(job_id, event_type) if recorder is not None else False


@numbers_blueprint.route("/jobs/{job_id}/events", methods=["POST"])
@handle_errors
def record_job_event(job_id: str) -> Response:
    request = numbers_blueprint.current_request
    parse_job_id(job_id)  # 404 for what cannot be a board id; the counter drops unknown jobs itself
    event = parse_json_body(request, JobEventRequest)
    count_request(job_id, event.type, request)  # at most one message per request
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


@numbers_blueprint.route("/employer/numbers", methods=["GET"], authorizer=employer_authorizer)
@handle_errors
def get_numbers() -> dict[str, Any]:
    request = numbers_blueprint.current_request
    employer_id = current_employer_id(request)
    query = parse_input(NumbersQuery, dict(request.query_params or {}))
    return deps.get_numbers_service().report(employer_id, query).model_dump(mode="json")
