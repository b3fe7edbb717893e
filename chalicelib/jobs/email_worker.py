"""`send_email`: drains the email queue; each message is rendered and sent at most once (by its key)."""

from __future__ import annotations

from chalice import Blueprint
from chalice.app import SQSEvent
from pydantic import ValidationError

from chalicelib.deps import get_email_dispatcher
from chalicelib.models.messages import EmailRequested
from chalicelib.observability import APP_MODULE, logger
from chalicelib.settings import get_settings

# Registered under "app" like every event function (see sync_worker.py).
email_worker_blueprint = Blueprint(APP_MODULE)

# Read at import: the queue name and the poller's maximum concurrency (send_email's reserved_concurrency,
# checked by deploy/render.py) are part of the deployed event source mapping.
EMAIL_QUEUE_NAME = get_settings().email_queue_name
EMAIL_SENDER_CONCURRENCY = get_settings().email_sender_concurrency


@email_worker_blueprint.on_sqs_message(
    queue=EMAIL_QUEUE_NAME, batch_size=10, name="send_email", maximum_concurrency=EMAIL_SENDER_CONCURRENCY
)
def send_email(event: SQSEvent) -> None:
    """A failure raises, so SQS retries the batch; the ones already sent are skipped by their keys."""
    dispatcher = get_email_dispatcher()
    for record in event:
        try:
            request = EmailRequested.model_validate_json(record.body)
        except ValidationError:
            # A malformed message never becomes valid: drop it instead of retrying it into the DLQ.
            logger.warning(
                "dropping malformed email message", extra={"message_id": record.to_dict().get("messageId")}
            )
            continue
        outcome = dispatcher.dispatch(request, lambda_context=event.context)
        logger.info("email handled", extra={"template": request.template, "outcome": outcome})
