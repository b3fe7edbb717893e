"""`count_events`: drains the numbers queue; a batch is summed per job and day, then written once per key."""

from __future__ import annotations

from chalice import Blueprint
from chalice.app import SQSEvent
from pydantic import ValidationError

from chalicelib.deps import get_numbers_aggregator
from chalicelib.models.numbers import CountedEvent
from chalicelib.observability import APP_MODULE, count, logger
from chalicelib.settings import get_settings

# Registered under "app" like every event function (see sync_worker.py).
numbers_worker_blueprint = Blueprint(APP_MODULE)

# Read at import: the queue name, the batching window and the poller's maximum concurrency
# (count_events' reserved_concurrency, checked by deploy/render.py) are part of the deployed event source
# mapping.
NUMBERS_QUEUE_NAME = get_settings().numbers_queue_name
NUMBERS_BATCH_WINDOW_SECONDS = get_settings().numbers_batch_window_seconds
NUMBERS_COUNTER_CONCURRENCY = get_settings().numbers_counter_concurrency
# SQS hands an event source at most 10 messages per batch unless it may wait for more (a window).
NUMBERS_BATCH_SIZE = 1000 if NUMBERS_BATCH_WINDOW_SECONDS > 0 else 10


@numbers_worker_blueprint.on_sqs_message(
    queue=NUMBERS_QUEUE_NAME,
    batch_size=NUMBERS_BATCH_SIZE,
    maximum_batching_window_in_seconds=NUMBERS_BATCH_WINDOW_SECONDS,
    name="count_events",
    maximum_concurrency=NUMBERS_COUNTER_CONCURRENCY,
)
def count_events(event: SQSEvent) -> None:
    """A storage failure raises, so SQS retries the batch (docs/numbers.md: counts are at least once)."""
    events: list[CountedEvent] = []
    for record in event:
        try:
            events.append(CountedEvent.model_validate_json(record.body))
        except ValidationError:
            # A malformed message never becomes valid: drop it instead of retrying it into the DLQ.
            logger.warning(
                "dropping malformed numbers event", extra={"message_id": record.to_dict().get("messageId")}
            )
    outcome = get_numbers_aggregator().apply(events)
    count("NumbersEventsCounted", outcome.counted)
    count("NumbersWrites", outcome.writes)
    logger.info(
        "numbers counted",
        extra={
            "events": outcome.events,
            "counted": outcome.counted,
            "dropped": outcome.dropped,
            "writes": outcome.writes,
        },
    )
