"""Chalice entry point: creates the app and wires middleware and blueprints. No logic lives here."""

from __future__ import annotations

from chalice import Chalice, ConvertToMiddleware

from chalicelib.api.auth import auth_blueprint
from chalicelib.api.health import health_blueprint
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

app = Chalice(app_name="job-board")
app.debug = get_settings().is_local

app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))

app.register_blueprint(auth_blueprint)
app.register_blueprint(health_blueprint)
