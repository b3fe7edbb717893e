"""Scheduled fan-out of account syncs (placeholder: logs only until the sync engine lands).

The schedule rate is read when the app is imported, so `chalice package` bakes the stage's
`SYNC_SCHEDULE_MINUTES` into the EventBridge rule.
"""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.observability import logger
from chalicelib.settings import get_settings

sync_schedule_blueprint = Blueprint(__name__)


@sync_schedule_blueprint.schedule(Rate(get_settings().sync_schedule_minutes, unit=Rate.MINUTES))
def sync_all(event: CloudWatchEvent) -> None:
    logger.info("sync schedule fired", extra={"event_id": event.event_id})
