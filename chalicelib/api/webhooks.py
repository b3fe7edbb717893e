"""`POST /webhooks/stackone`: StackOne's signed events (verified over the raw body before parsing)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http_errors import handle_errors
from chalicelib.deps import get_webhook_service
from chalicelib.observability import logger

webhooks_blueprint = Blueprint(__name__)


@webhooks_blueprint.route(
    "/webhooks/stackone", methods=["POST"], content_types=["application/json", "text/plain"]
)
@handle_errors
def stackone_webhook() -> Response:
    request = webhooks_blueprint.current_request
    raw_body = request.raw_body
    body = raw_body.encode() if isinstance(raw_body, str) else raw_body
    action = get_webhook_service().handle(body, request.headers.get("x-stackone-signature"))
    logger.info("stackone webhook handled", extra={"action": action})
    return Response(body="", status_code=204)
