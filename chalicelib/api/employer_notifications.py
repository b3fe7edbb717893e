"""Employer routes for their notification settings: the address the board emails and the daily digest."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import deps
from chalicelib.api.auth import current_employer_id, employer_authorizer
from chalicelib.api.http_errors import handle_errors
from chalicelib.api.request_body import parse_json_body
from chalicelib.errors import InvalidRequestError

employer_notifications_blueprint = Blueprint(__name__)


def _shaped(settings: Any) -> dict[str, Any]:
    from chalicelib.models.employer_api import NotificationSettingsResponse

    return NotificationSettingsResponse(
        email=settings.email,
        new_applications_digest=settings.new_applications_digest,
        updated_at=settings.updated_at,
    ).model_dump(mode="json")


@employer_notifications_blueprint.route(
    "/employer/notifications", methods=["GET"], authorizer=employer_authorizer
)
@handle_errors
def get_notification_settings() -> dict[str, Any]:
    employer_id = current_employer_id(employer_notifications_blueprint.current_request)
    return _shaped(deps.get_employer_notification_service().get(employer_id))


@employer_notifications_blueprint.route(
    "/employer/notifications", methods=["PUT"], authorizer=employer_authorizer
)
@handle_errors
def put_notification_settings() -> dict[str, Any]:
    from chalicelib.models.employer_api import NotificationSettingsRequest

    request = employer_notifications_blueprint.current_request
    employer_id = current_employer_id(request)
    if not (request.raw_body or b"").strip():  # a PUT states the settings: an empty one is no statement
        raise InvalidRequestError(
            "Send the settings as JSON: {email, new_applications_digest}.", fields={"body": "required"}
        )
    body = parse_json_body(request, NotificationSettingsRequest)
    settings = deps.get_employer_notification_service().update(
        employer_id, email=body.email, new_applications_digest=body.new_applications_digest
    )
    return _shaped(settings)
