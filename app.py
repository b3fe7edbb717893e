"""Chalice entry point: creates the app and wires middleware and blueprints. No logic lives here."""

from __future__ import annotations

from chalice import Chalice, ConvertToMiddleware

from chalicelib.api.alerts import alerts_blueprint
from chalicelib.api.applications import applications_blueprint
from chalicelib.api.apply import apply_blueprint
from chalicelib.api.auth import auth_blueprint
from chalicelib.api.board import board_blueprint
from chalicelib.api.deadline import deadline_blueprint
from chalicelib.api.embloy_token import embloy_token_blueprint
from chalicelib.api.employer_notifications import employer_notifications_blueprint
from chalicelib.api.employers import employers_blueprint
from chalicelib.api.feeds import feeds_blueprint
from chalicelib.api.frontend import frontend_blueprint
from chalicelib.api.health import health_blueprint
from chalicelib.api.http_errors import framework_errors_blueprint
from chalicelib.api.numbers import numbers_blueprint
from chalicelib.api.openapi_route import openapi_blueprint
from chalicelib.api.response_policy import add_head_routes, response_policy_blueprint
from chalicelib.api.webhooks import webhooks_blueprint
from chalicelib.jobs.alert_digests import alert_digests_blueprint, send_alert_digests
from chalicelib.jobs.board_snapshot import (
    board_snapshot_blueprint,
    board_snapshot_requested,
    build_board_snapshot,
)
from chalicelib.jobs.email_events import email_events, email_events_blueprint
from chalicelib.jobs.email_worker import email_worker_blueprint, send_email
from chalicelib.jobs.employer_digest import employer_digest_blueprint, send_employer_digests
from chalicelib.jobs.numbers_worker import count_events, numbers_worker_blueprint
from chalicelib.jobs.sync_schedule import sync_all, sync_schedule_blueprint
from chalicelib.jobs.sync_worker import sync_account, sync_worker_blueprint
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

# Each event function's handler string is `app.<function>` (the job blueprints register under the name
# "app"): Lambda imports this module, so the middleware below wraps them too, and finds them here.
__all__ = [
    "app",
    "board_snapshot_requested",
    "build_board_snapshot",
    "count_events",
    "email_events",
    "send_alert_digests",
    "send_email",
    "send_employer_digests",
    "sync_account",
    "sync_all",
]

app = Chalice(app_name="job-board")
app.debug = get_settings().is_local

app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))

for blueprint in (
    response_policy_blueprint,  # first: its middleware sees every response, reshaped errors included
    deadline_blueprint,
    framework_errors_blueprint,
    auth_blueprint,
    health_blueprint,
    openapi_blueprint,
    board_blueprint,
    feeds_blueprint,
    employers_blueprint,
    apply_blueprint,
    embloy_token_blueprint,
    employer_notifications_blueprint,
    applications_blueprint,
    numbers_blueprint,
    alerts_blueprint,
    webhooks_blueprint,
    frontend_blueprint,
    sync_schedule_blueprint,
    sync_worker_blueprint,
    board_snapshot_blueprint,
    email_worker_blueprint,
    email_events_blueprint,
    employer_digest_blueprint,
    alert_digests_blueprint,
    numbers_worker_blueprint,
):
    app.register_blueprint(blueprint)
add_head_routes(app)
