"""GET /health: liveness."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http_errors import handle_errors

health_blueprint = Blueprint(__name__)


@health_blueprint.route("/health", methods=["GET"])
@handle_errors
def health() -> dict[str, Any]:
    from chalicelib.models.responses import HealthResponse

    return HealthResponse(status="ok").model_dump(mode="json")
