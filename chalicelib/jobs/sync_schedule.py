"""`sync_all`: on a schedule, enqueue one sync message per active ATS account (the worker does the work)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.deps import get_sync_service
from chalicelib.observability import APP_MODULE, count
from chalicelib.settings import get_settings

# Registered under the import name "app": Chalice names each function's handler `<import name>.<function>`,
# so Lambda imports app.py, which registers the logging and metrics middleware, and finds the handler there
# (with this module's name, Lambda would import only this module and run the handler without middleware).
sync_schedule_blueprint = Blueprint(APP_MODULE)

# Read at import: `chalice package` imports the app with the stage's environment to build the rule.
SYNC_RATE_MINUTES = get_settings().sync_schedule_minutes


@sync_schedule_blueprint.schedule(Rate(SYNC_RATE_MINUTES, unit=Rate.MINUTES), name="sync_all")
def sync_all(event: CloudWatchEvent) -> dict[str, Any]:
    # The EventBridge event id names the run: a re-delivered tick enqueues the same run ids, which the
    # worker's idempotency turns into no-ops.
    run_id = f"sched-{event.event_id}"
    enqueued = get_sync_service().enqueue_all(run_id)
    count("AccountsEnqueued", enqueued)
    return {"run_id": run_id, "enqueued": enqueued}
