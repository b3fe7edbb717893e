"""The board snapshot builder: `build_board_snapshot` on a schedule, `board_snapshot_requested` after
syncs that changed postings."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, SQSEvent
from pydantic import ValidationError

from chalicelib.deps import get_snapshot_builder
from chalicelib.models.messages import SnapshotRequested
from chalicelib.observability import APP_MODULE, count, logger
from chalicelib.services.board.snapshot import BuildReport
from chalicelib.settings import get_settings

# Registered under the import name "app": Chalice names each function's handler `<import name>.<function>`,
# so Lambda imports app.py, which registers the logging and metrics middleware, and finds the handler there
# (with this module's name, Lambda would import only this module and run the handler without middleware).
board_snapshot_blueprint = Blueprint(APP_MODULE)

# Read at import: the rate and the queue name are part of the deployed rule and event source mapping.
SNAPSHOT_RATE_MINUTES = get_settings().board_snapshot_schedule_minutes
SNAPSHOT_QUEUE_NAME = get_settings().board_snapshot_queue_name


def _summary(report: BuildReport) -> dict[str, Any]:
    manifest = report.manifest
    count("SnapshotsPublished", 1 if report.published else 0)
    if manifest is not None:
        # The dashboard's "postings live" (Maximum): every posting of the newest build.
        count("BoardPostingsLive", manifest.postings)
    return {
        "version": manifest.version if manifest else None,
        "postings": manifest.postings if manifest else 0,
        "skipped_postings": manifest.skipped if manifest else 0,
        "published": report.published,
        "skipped_reason": report.skipped_reason,
    }


@board_snapshot_blueprint.schedule(
    Rate(SNAPSHOT_RATE_MINUTES, unit=Rate.MINUTES), name="build_board_snapshot"
)
def build_board_snapshot(event: CloudWatchEvent) -> dict[str, Any]:
    # A fresh snapshot at least every SNAPSHOT_RATE_MINUTES, whatever the syncs did (webhook edits too).
    return _summary(get_snapshot_builder().build())


# The fewest pollers an SQS event source allows; the function itself is reserved one instance, so a second
# batch is throttled back onto the queue (the queue's redrive allows for it, see deploy/resources.yaml).
SNAPSHOT_REQUESTED_POLLERS = 2


@board_snapshot_blueprint.on_sqs_message(
    queue=SNAPSHOT_QUEUE_NAME,
    batch_size=10,
    name="board_snapshot_requested",
    maximum_concurrency=SNAPSHOT_REQUESTED_POLLERS,
)
def board_snapshot_requested(event: SQSEvent) -> dict[str, Any] | None:
    newest: str | None = None
    for record in event:
        try:
            message = SnapshotRequested.model_validate_json(record.body)
        except ValidationError:
            logger.warning(
                "dropping malformed snapshot request", extra={"message_id": record.to_dict().get("messageId")}
            )
            continue
        newest = max(newest or message.requested_at, message.requested_at)
    if newest is None:
        return None
    # One build covers every request of the batch (and any request the current snapshot covers is skipped).
    return _summary(get_snapshot_builder().build(requested_at=newest))
