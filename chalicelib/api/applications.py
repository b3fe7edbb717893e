"""Employer routes: the applications the board delivered to them, and counts for the sync-health view."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import deps
from chalicelib.api.auth import current_employer_id, employer_authorizer
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.request_body import parse_input
from chalicelib.api.response_policy import PRIVATE_CACHE_CONTROL
from chalicelib.models.applications import ApplicationOut, ApplicationsExportQuery, ApplicationsQuery

applications_blueprint = Blueprint(__name__)


@applications_blueprint.route("/applications", methods=["GET"], authorizer=employer_authorizer)
@handle_errors
def list_applications() -> dict[str, Any]:
    request = applications_blueprint.current_request
    employer_id = current_employer_id(request)
    query = parse_input(ApplicationsQuery, dict(request.query_params or {}))
    page = deps.get_applications_service().page(
        employer_id,
        job_id=query.job_id,
        status=query.status,
        limit=query.limit,
        cursor=query.cursor,
        refresh=query.refresh,
    )
    from chalicelib.models.responses import ApplicationsPage

    data = [
        ApplicationOut.from_record(record, stale=record.record_id in page.stale_ids)
        for record in page.records
    ]
    return ApplicationsPage(data=data, next_cursor=page.next_cursor).model_dump(mode="json")


@applications_blueprint.route("/applications.csv", methods=["GET"], authorizer=employer_authorizer)
@handle_errors
def export_applications() -> Response:
    """The same list as CSV (every matching application), for a spreadsheet; never cached."""
    from chalicelib.services.applications import applications_csv

    request = applications_blueprint.current_request
    employer_id = current_employer_id(request)
    query = parse_input(ApplicationsExportQuery, dict(request.query_params or {}))
    records = deps.get_applications_service().export(employer_id, job_id=query.job_id, status=query.status)
    return Response(
        body=applications_csv(records),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="applications.csv"',
            "Cache-Control": PRIVATE_CACHE_CONTROL,
        },
    )


@applications_blueprint.route("/applications/counts", methods=["GET"], authorizer=employer_authorizer)
@handle_errors
def count_applications() -> dict[str, Any]:
    from chalicelib.models.responses import ApplicationCounts

    employer_id = current_employer_id(applications_blueprint.current_request)
    counts = deps.get_applications_service().counts(employer_id)
    return ApplicationCounts.model_validate(counts).model_dump(mode="json")


@applications_blueprint.route(
    "/jobs/{job_id}/applications/count", methods=["GET"], authorizer=employer_authorizer
)
@handle_errors
def count_job_applications(job_id: str) -> dict[str, Any]:
    from chalicelib.models.responses import JobApplicationCounts

    employer_id = current_employer_id(applications_blueprint.current_request)
    counts = deps.get_applications_service().counts(employer_id, job_id=job_id)
    return JobApplicationCounts.model_validate({"job_id": job_id, **counts}).model_dump(mode="json")
