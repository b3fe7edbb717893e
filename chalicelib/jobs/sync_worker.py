"""`sync_account`: one SQS message = one account's sync, idempotent on (account_id, run_id)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent
from pydantic import ValidationError

from chalicelib.clock import isoformat, utcnow
from chalicelib.deps import get_snapshot_requests, get_sync_once, get_sync_service
from chalicelib.errors import UpstreamUnavailableError
from chalicelib.models.messages import SnapshotRequested, SyncRequested
from chalicelib.observability import APP_MODULE, logger
from chalicelib.settings import get_settings

# Registered under the import name "app": Chalice names each function's handler `<import name>.<function>`,
# so Lambda imports app.py, which registers the logging and metrics middleware, and finds the handler there
# (with this module's name, Lambda would import only this module and run the handler without middleware).
sync_worker_blueprint = Blueprint(APP_MODULE)

# Read at import: the queue name and the poller's maximum concurrency are part of the deployed event source
# mapping. The concurrency repeats the worker's reserved_concurrency (deploy/render.py checks the stage's
# config), so the poller never invokes more workers than are reserved and no message is throttled back.
SYNC_QUEUE_NAME = get_settings().sync_queue_name
SYNC_WORKER_CONCURRENCY = get_settings().sync_worker_concurrency


@sync_worker_blueprint.on_sqs_message(
    queue=SYNC_QUEUE_NAME, batch_size=1, name="sync_account", maximum_concurrency=SYNC_WORKER_CONCURRENCY
)
def sync_account(event: SQSEvent) -> None:
    once = get_sync_once()
    for record in event:
        try:
            message = SyncRequested.model_validate_json(record.body)
        except ValidationError:
            # A malformed message never becomes valid: drop it instead of retrying it into the DLQ.
            logger.warning(
                "dropping malformed sync message", extra={"message_id": record.to_dict().get("messageId")}
            )
            continue
        report = once(message.model_dump(mode="json"), _sync(message), lambda_context=event.context)
        logger.info(
            "sync message handled",
            extra={"account_id": message.account_id, "run_id": message.run_id, "outcome": report["outcome"]},
        )
        if report.get("upserted") or report.get("closed"):
            request_board_snapshot()


def _sync(message: SyncRequested) -> Callable[[], dict[str, Any]]:
    """The account's sync, as the JSON report the idempotency record stores."""

    def run() -> dict[str, Any]:
        return get_sync_service().sync_account(message.account_id, message.run_id, message.mode).as_dict()

    return run


def request_board_snapshot() -> None:
    """Ask for a new board snapshot (debounced by the queue's delay); the schedule is the fallback."""
    requests = get_snapshot_requests()
    if requests is None:
        return
    try:
        requests.request(SnapshotRequested(requested_at=isoformat(utcnow())))
    except UpstreamUnavailableError as exc:
        # The postings are written and the change feed carries them; only the next snapshot waits.
        logger.warning("could not request a board snapshot", extra={"error_code": exc.code})
