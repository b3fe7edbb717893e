"""`send_alert_digests`: on a schedule, queue one digest email per due job alert with new postings."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.deps import get_alert_digest_service
from chalicelib.observability import APP_MODULE, count
from chalicelib.settings import get_settings

# Registered under "app" like every event function (see sync_schedule.py).
alert_digests_blueprint = Blueprint(APP_MODULE)

# Read at import: `chalice package` imports the app with the stage's environment to build the rule.
ALERT_DIGEST_RATE_MINUTES = get_settings().alert_digest_schedule_minutes


@alert_digests_blueprint.schedule(
    Rate(ALERT_DIGEST_RATE_MINUTES, unit=Rate.MINUTES), name="send_alert_digests"
)
def send_alert_digests(event: CloudWatchEvent) -> dict[str, Any]:
    # A failure (the board or the alert store not answering) raises: nothing was advanced that was not
    # queued, and the next tick starts over from the alerts' watermarks.
    report = get_alert_digest_service().run()
    count("AlertDigestsQueued", report.queued)
    count("AlertDigestsDeferred", report.deferred)
    return report.to_dict()
