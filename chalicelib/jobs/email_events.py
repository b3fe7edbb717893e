"""`email_events`: SES bounce and complaint events (via the configuration set's SNS topic)."""

from __future__ import annotations

from chalice import Blueprint
from chalice.app import SNSEvent
from pydantic import ValidationError

from chalicelib.deps import get_email_events_service
from chalicelib.models.email_events import SesEmailEvent
from chalicelib.observability import APP_MODULE, count, logger
from chalicelib.settings import get_settings

# Registered under "app" like every event function (see sync_worker.py).
email_events_blueprint = Blueprint(APP_MODULE)

# Read at import: the topic name is part of the deployed subscription (the merge template creates the
# topic under this name and points the subscription at it).
EMAIL_EVENTS_TOPIC_NAME = get_settings().email_events_topic_name


@email_events_blueprint.on_sns_message(topic=EMAIL_EVENTS_TOPIC_NAME, name="email_events")
def email_events(event: SNSEvent) -> None:
    """A failure raises, so SNS retries the event; suppressing an address twice changes nothing."""
    count("EmailEventsReceived")
    try:
        notification = SesEmailEvent.model_validate_json(event.message)
    except ValidationError as exc:
        # Never becomes valid: drop it. Only the error kinds are logged, never the message (addresses).
        logger.warning(
            "dropping malformed email event", extra={"errors": [error["type"] for error in exc.errors()]}
        )
        count("EmailEventsMalformed")
        return
    outcome = get_email_events_service().handle(notification)
    if outcome.suppressed:
        count("EmailAddressesSuppressed", outcome.suppressed)
    logger.info(
        "email event handled",
        extra={
            "event_type": notification.event_type,
            "action": outcome.action,
            "suppressed": outcome.suppressed,
            "alerts_deleted": outcome.alerts_deleted,
        },
    )
