"""Syncs one linked account per SQS message (placeholder: parses and logs until the sync engine lands)."""

from __future__ import annotations

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.models.messages import SyncRequested
from chalicelib.observability import logger
from chalicelib.settings import get_settings

sync_worker_blueprint = Blueprint(__name__)


@sync_worker_blueprint.on_sqs_message(queue=get_settings().sync_queue_name, batch_size=1)
def sync_account(event: SQSEvent) -> None:
    for record in event:
        request = SyncRequested.model_validate_json(record.body)
        logger.info("sync requested", extra={"account_id": request.account_id, "run_id": request.run_id})
