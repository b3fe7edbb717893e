"""`send_employer_digests`: once a day, queue the digest of the previous day's applications for every
employer who asked for it (the email worker sends them)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Cron
from chalice.app import CloudWatchEvent

from chalicelib.deps import get_applications_digest_service
from chalicelib.observability import APP_MODULE, count

# Registered under "app" like every event function (see sync_schedule.py).
employer_digest_blueprint = Blueprint(APP_MODULE)

# 06:00 UTC: the previous UTC day is complete, and the digest is in European inboxes by the working day.
DIGEST_CRON = Cron(0, 6, "*", "*", "?", "*")


@employer_digest_blueprint.schedule(DIGEST_CRON, name="send_employer_digests")
def send_employer_digests(event: CloudWatchEvent) -> dict[str, Any]:
    # A re-delivered tick queues the same (employer, day) keys, which the email worker sends only once.
    queued = get_applications_digest_service().enqueue_previous_day()
    count("EmployerDigestsQueued", queued)
    return {"queued": queued}
