"""The candidate's confirmation of a native application, as an email request for the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from chalicelib.models.messages import EmailRequested
from chalicelib.models.posting import Posting

CONFIRMATION_TEMPLATE = "application_confirmation"
# Subjects stay well inside EmailRequested's 200 characters whatever the ATS calls the job.
_TITLE_IN_SUBJECT = 120


def long_date(at: datetime) -> str:
    """`7 December 2026`: unambiguous in every locale (no 12/07 vs 07/12)."""
    return f"{at.day} {at:%B %Y}"


def shortened(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def application_confirmation(
    posting: Posting,
    *,
    first_name: str,
    email: str,
    reference: str,
    at: datetime,
    public_base_url: str,
    status: Literal["submitted", "pending_confirmation"],
) -> EmailRequested:
    """The confirmation of one delivered (201) or probably delivered (202) application.

    Keyed on the application record, so a redelivered queue message never sends it twice.
    """
    pending = status == "pending_confirmation"
    title = shortened(posting.title, _TITLE_IN_SUBJECT)
    subject = f"We're confirming your application: {title}" if pending else f"Application sent: {title}"
    return EmailRequested(
        key=f"application:{reference}",
        template=CONFIRMATION_TEMPLATE,
        to=email,
        subject=subject,
        context={
            "candidate_first_name": first_name,
            "job_title": posting.title,
            "company": posting.company,
            "job_url": f"{public_base_url.rstrip('/')}/jobs/{posting.job_id}",
            "submitted_on": long_date(at),
            "reference": reference,
            "pending": pending,
        },
    )
